"""Accelerator performance at the kernel level: achievable fractions of peak per kernel class,
per-kernel floors, host issue overhead, host<->device transfers, and calibration from a probe.

:mod:`.types` is the contract every part shares (kernel model, engine modes, probe and
calibration schemas); the catalog defaults, the step model, the probe and the fit build on it.
"""
