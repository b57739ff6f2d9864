"""Graceful degradation: feature fallback, LLM requests in flight on a dying replica, online-store
high availability, ensemble reliability, geographic redundancy, quality as a failure mode."""
