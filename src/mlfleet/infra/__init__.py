"""Chapter package: infra."""
