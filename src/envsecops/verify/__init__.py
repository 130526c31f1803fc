"""verify-bag: recompute the bag, check the attestation and the policy, decide."""
