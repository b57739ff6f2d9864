"""A feature store: YAML definitions, a DuckDB/Parquet offline store with point-in-time
correct retrieval, SQLite and Redis online stores, materialization (docs/storage.md)."""
