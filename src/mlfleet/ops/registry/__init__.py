"""The model registry on MLflow: ensembles as pinned dependency graphs, atomic promotion, audit history."""
