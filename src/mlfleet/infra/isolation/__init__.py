"""Isolation on shared accelerators and hosts: noisy neighbours, MIG vs time-slicing,
and CPU pinning measured on a real server."""
