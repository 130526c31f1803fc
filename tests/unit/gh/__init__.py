"""Tests of the GitHub Actions runtime primitives."""
