"""Chapter package: comm."""
