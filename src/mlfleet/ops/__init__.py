"""Chapter package: ops."""
