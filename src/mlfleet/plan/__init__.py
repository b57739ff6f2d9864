"""``mlfleet plan``: compose every chapter that exists into a full-stack plan.

A :class:`Plan` holds each chapter's typed result (frozen dataclasses with units in
their field names), one display section per chapter of :data:`CHAPTERS`, the
scenario's constraints checked against typed fields, and the scenario fields no
chapter reads yet (``unused_fields``). Its JSON form has one top-level key per
chapter plus ``scenario``, ``checks`` and ``unused_fields``. Each chapter section has
a ``status``: ``"ok"`` with its numbers, ``"not applicable"``, or ``"not yet
implemented"`` with no numbers at all — never invented ones. The keys are documented
in ``docs/plan.md``.
"""

from __future__ import annotations

from mlfleet.plan.compose import CHAPTERS, Plan, build_plan

__all__ = ["CHAPTERS", "Plan", "build_plan"]
