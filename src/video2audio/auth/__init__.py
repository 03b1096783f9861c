"""The auth function's capability: register, log in, verify tokens."""
