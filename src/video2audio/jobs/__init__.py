"""Conversion jobs, shared by every function: the model, its repository, leases, signed links."""
