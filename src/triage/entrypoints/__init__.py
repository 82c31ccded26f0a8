"""Thin doors into the services: the REST API, the web pages, the command line, the bench agent."""
