"""Chaos experiments on a real fleet behind HAProxy: kill, pause and slow replicas under load;
what clients saw; SLO arithmetic from the records; the simulator's prediction."""
