"""Integration tests of the credential providers against loopback stand-ins."""
