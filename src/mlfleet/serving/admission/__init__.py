"""Admission control: which arriving requests enter the system (one module per policy).

Build one by name with :func:`mlfleet.serving.admission.registry.make_admission`; every
policy implements :class:`mlfleet.serving.policy.Admission`.
"""
