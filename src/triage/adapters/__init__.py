"""Storage, keys and other things outside the domain."""
