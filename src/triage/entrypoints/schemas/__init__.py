"""What the API answers and the command line's ``--json`` prints: Pydantic models built from
the services' typed records, each with its JSON schema in the OpenAPI document."""
