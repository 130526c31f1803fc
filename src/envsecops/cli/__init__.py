"""Command-line entry points: parse, build collaborators, map results to exit codes."""
