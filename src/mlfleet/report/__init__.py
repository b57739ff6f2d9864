"""Renderings of results: terminal tables and JSON."""
