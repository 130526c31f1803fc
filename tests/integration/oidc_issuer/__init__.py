"""A real OIDC issuer on 127.0.0.1 shaped like GitHub's token service, for tests of our JWT code."""
