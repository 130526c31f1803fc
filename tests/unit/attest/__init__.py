"""Tests of the attestation layer: statements, DSSE, key signing, the verification facade."""
