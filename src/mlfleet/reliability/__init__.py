"""Chapter package: reliability."""
