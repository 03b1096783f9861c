"""The expire function's capability: the retention sweep of stored files."""
