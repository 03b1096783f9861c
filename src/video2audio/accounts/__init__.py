"""User accounts in PostgreSQL, shared by auth (which writes them) and notify (which reads them)."""
