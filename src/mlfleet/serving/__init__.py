"""Chapter package: serving."""
