"""Accelerators and the datacenter: FLOP/s per watt, cost per PFLOP, memory-bandwidth use,
facility power (PUE, cooling, racks, PDUs), power capping and throttling, next-generation
refresh of a power-limited facility. See docs/infrastructure-power.md."""
