"""Unit tests of envsecops.creds."""
