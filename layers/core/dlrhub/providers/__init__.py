"""Providers: the contract every provider module fills, the registry, one module per provider."""
