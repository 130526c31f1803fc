"""The policy checks, one module per section; `envsecops.policy.evaluate` lists them in order."""
