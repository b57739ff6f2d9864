"""Dataset versions (Delta Lake), lineage and quality checks."""
