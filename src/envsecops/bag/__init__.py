"""attest-runner's inventory: catalogers (one per kind of thing), hashing, and the syft adapter."""
