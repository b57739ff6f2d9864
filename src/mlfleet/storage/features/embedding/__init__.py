"""Embedding tables: a large ``N × d`` table sharded across files, routed by hash or
range, looked up in batches (one request per shard), with versioned updates that reach
every cache in front of it."""
