"""Chapter 9, ML operations at scale: the model registry and ensembles, experimentation
statistics, the canary judge, declared infrastructure and drift, cost attribution,
debugging at scale, and the platform and organisation models (docs/operations.md)."""
