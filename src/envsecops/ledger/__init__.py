"""Append-only ledgers (file, S3 with Object Lock) behind one interface, and audit queries."""
