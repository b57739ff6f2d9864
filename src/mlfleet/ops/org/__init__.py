"""Platform and organisation models: portfolio growth, on-call load, platform investment."""
