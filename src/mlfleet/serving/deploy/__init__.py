"""Deployments and failures: canary, blue-green, shadow, replica failures, burn-rate alerts."""
