"""The local demo of the chain."""
