"""The notify function's capability: an email and a signed webhook when a job ends."""
