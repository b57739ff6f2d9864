"""Chapter 7, Inference at Scale: serving models, simulator, policies, real server, load generator."""
