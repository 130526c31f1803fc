"""pin-check rules: one module per check, each with a stable kebab-case id."""
