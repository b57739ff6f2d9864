"""The validation contract: what a chapter contributes to ``mlfleet validate``.

A *provider* is a function ``provide(ctx: Context) -> list[Check]`` in a chapter's own module
(``mlfleet/<chapter>/validations.py``), listed in :data:`PROVIDERS` and imported only when
``mlfleet validate`` runs. Each :class:`Check` compares one prediction of a model with one
reference value: a published figure (cite it), an exact result, a simulation (seeded), or a
real measurement on this machine. ``quick`` providers must finish in a few seconds and need
no service, so ``mlfleet validate --quick`` fits CI.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

REFERENCE_KINDS = ("published", "exact", "simulation", "measurement")
"""What a prediction is compared against."""

HELD = ("asserted", "goal")
"""How a check is held (see :attr:`Check.held`)."""


@dataclass(frozen=True, kw_only=True)
class Check:
    """One model prediction against one reference value."""

    id: str
    """Stable dotted id, unique over all providers: ``infra.roofline.mfu.palm-540b``."""
    chapter: str
    """Chapter key: infra, storage, comm, reliability, serving, ops, sim."""
    quantity: str
    """What is compared, with its unit: ``MFU of PaLM 540B training (%)``."""
    model: str
    """The model (function or command) that made the prediction."""
    reference: str
    """What it is compared against: a citation, ``exact``, a seeded simulation, a measurement."""
    reference_kind: str
    """One of :data:`REFERENCE_KINDS`."""
    reference_value: float
    predicted: float
    bound: float
    """Largest allowed |error| (relative unless ``absolute``)."""
    absolute: bool = False
    """Whether ``error`` and ``bound`` are absolute differences instead of relative ones."""
    held: str = "asserted"
    """``asserted``: a failure makes ``mlfleet validate`` fail; ``goal``: a target the model
    is reported against (pass or miss) without failing the command, for goals that the docs
    say a model does not meet yet, and why (``note``)."""
    note: str = ""

    @property
    def error(self) -> float:
        """predicted - reference (absolute) or (predicted - reference) / |reference|."""
        diff = self.predicted - self.reference_value
        if self.absolute:
            return diff
        if self.reference_value == 0.0:
            return 0.0 if diff == 0.0 else math.copysign(math.inf, diff)
        return diff / abs(self.reference_value)

    @property
    def passed(self) -> bool:
        return math.isfinite(self.error) and abs(self.error) <= self.bound


@dataclass(frozen=True, kw_only=True)
class Context:
    """What a provider may use: a seed for anything random, and whether to stay quick."""

    seed: int = 0
    quick: bool = True
    constants: dict[str, float] = field(default_factory=dict)
    """Overrides of named model constants (tests use it to break a model on purpose)."""


Provider = Callable[[Context], list[Check]]

PROVIDERS: dict[str, tuple[str, str, bool]] = {
    "infra.roofline": ("mlfleet.infra.validations", "provide_roofline", True),
    "infra.scheduling": ("mlfleet.infra.validations", "provide_scheduling", True),
    "infra.accel": ("mlfleet.infra.accel.validations", "provide", True),
    "storage": ("mlfleet.storage.validations", "provide", True),
    "comm": ("mlfleet.comm.validations", "provide", True),
    "reliability": ("mlfleet.reliability.validations", "provide", True),
    "serving": ("mlfleet.serving.validations", "provide", True),
    "ops": ("mlfleet.ops.validations", "provide", True),
    "sim": ("mlfleet.sim.validations", "provide", True),
    "sweep": ("mlfleet.sweep.validations", "provide", True),
}
"""Provider name -> (module, function, quick). Chapters add their line here."""
