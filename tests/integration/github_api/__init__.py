"""A loopback stand-in for the GitHub REST API that replays recorded responses."""
