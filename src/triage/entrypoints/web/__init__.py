"""Server-rendered pages for the facility (see ``pages``)."""
