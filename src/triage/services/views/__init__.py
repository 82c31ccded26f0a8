"""Query functions: what each page, route or command reads, one module per area; each checks
the caller's permission once and returns typed records."""
