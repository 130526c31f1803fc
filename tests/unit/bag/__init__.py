"""Tests of the inventory: catalogers, hashing, the SBOM and the syft adapter."""
