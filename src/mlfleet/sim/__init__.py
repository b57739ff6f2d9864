"""Chapter package: sim."""
