"""Hypothesis property tests for every parser of untrusted input (issue 8)."""
