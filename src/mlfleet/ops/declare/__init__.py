"""Declarative ML infrastructure: the scenario as declared state, drift against a running server, environment promotion, reproducibility records."""
