"""envsecops: CI credentials only for an inventoried, signed and allowlisted environment."""

__version__ = "0.1.0"
