"""PDF documents: the triage certificate, seal and device labels, and the assessment report,
with their shared styles, QR drawing and text for the built-in fonts in one place."""
