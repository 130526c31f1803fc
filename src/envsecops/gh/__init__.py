"""GitHub at the edge: the Actions runtime (workflow commands, runtime files) and the API."""
