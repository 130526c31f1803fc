"""Builders and checks shared by the `envsecops verify` bad-input tests."""
