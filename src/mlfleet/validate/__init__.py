"""``mlfleet validate``: every model against its reference, in one table."""
