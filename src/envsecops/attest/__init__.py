"""Attestations: in-toto statements about the bag, DSSE envelopes, signers and verifiers."""
