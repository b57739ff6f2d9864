"""Chapter package: storage."""
