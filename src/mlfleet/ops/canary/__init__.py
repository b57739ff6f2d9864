"""Automated canary analysis: a Kayenta-style judge and its wiring to the serving simulator and the real server."""
