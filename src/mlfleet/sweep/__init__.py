"""``mlfleet sweep``: a design-space sweep over scenario fields, to Parquet."""
