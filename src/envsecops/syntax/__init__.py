"""Bounded, strict parsers for untrusted configuration files."""
