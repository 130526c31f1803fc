"""The policy file (`.github/envsecops.yml`): loading and the sections each stage reads."""
