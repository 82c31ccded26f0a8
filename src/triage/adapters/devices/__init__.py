"""Device connectors: how the bench agent talks to the device on the bench, real or simulated."""
