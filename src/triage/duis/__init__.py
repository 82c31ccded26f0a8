"""DUIS 5.4 messages, our own typed code (issue 20).

- ``xml``: safe parsing (defusedxml: no DTD entities, no external entities, no network).
- ``responses``: DUIS responses in: 8.2 Read Inventory (``DSPInventory``), 6.13 Read Security
  Log (a ``GBCSPayload``), the header and response code.
- ``requests``: DUIS requests out: 8.4 Update Inventory, 8.3 Decommission, 8.14.3 and 8.14.4
  comms hub returns.
- ``schema``: validation against the DUIS schema the facility configures (the DCC's XSD, which
  we do not ship).

Import the modules directly; this package re-exports nothing.
"""
