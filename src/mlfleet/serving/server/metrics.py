"""Prometheus metrics in the text exposition format (version 0.0.4), no dependency.

A tiny registry of counters, gauges and histograms with labels, enough for the server's
``/metrics`` endpoint. Format reference:
https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
Metric names follow the Prometheus conventions: base units (seconds), ``_total`` on
counters, ``_bucket``/``_sum``/``_count`` on histograms.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence

from mlfleet.errors import MlfleetError

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

LATENCY_BUCKETS_S: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2,
    0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0,
)
"""Default histogram buckets for latencies, seconds."""

Labels = tuple[tuple[str, str], ...]


class MetricError(MlfleetError):
    """A metric used against its declaration: other label names, or a name registered twice."""


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _fmt_labels(labels: Labels, extra: tuple[tuple[str, str], ...] = ()) -> str:
    pairs = labels + extra
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"


def _fmt_value(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class _Metric:
    """Common part: name, help, type and the label names every sample must carry."""

    kind = "untyped"

    def __init__(self, name: str, help_text: str, label_names: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.label_names = tuple(label_names)

    def _key(self, labels: dict[str, str]) -> Labels:
        if set(labels) != set(self.label_names):
            raise MetricError(
                f"{self.name}: labels {sorted(labels)} must be {sorted(self.label_names)}")
        return tuple((k, str(labels[k])) for k in self.label_names)

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]

    def samples(self) -> list[str]:
        raise NotImplementedError


class Counter(_Metric):
    """A monotonically increasing count."""

    kind = "counter"

    def __init__(self, name: str, help_text: str, label_names: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, label_names)
        self._values: dict[Labels, float] = {}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        assert amount >= 0, amount
        key = self._key(labels)
        self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        return self._values.get(self._key(labels), 0.0)

    def samples(self) -> list[str]:
        return [f"{self.name}{_fmt_labels(k)} {_fmt_value(v)}" for k, v in sorted(self._values.items())]


class Gauge(_Metric):
    """A value that goes up and down; either set, or read from a callback at scrape time."""

    kind = "gauge"

    def __init__(self, name: str, help_text: str, label_names: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, label_names)
        self._values: dict[Labels, float] = {}
        self._callbacks: dict[Labels, Callable[[], float]] = {}

    def set(self, value: float, **labels: str) -> None:
        self._values[self._key(labels)] = float(value)

    def set_function(self, fn: Callable[[], float], **labels: str) -> None:
        self._callbacks[self._key(labels)] = fn

    def samples(self) -> list[str]:
        values = dict(self._values)
        values.update({k: float(fn()) for k, fn in self._callbacks.items()})
        return [f"{self.name}{_fmt_labels(k)} {_fmt_value(v)}" for k, v in sorted(values.items())]


class Histogram(_Metric):
    """Cumulative buckets plus ``_sum`` and ``_count``."""

    kind = "histogram"

    def __init__(self, name: str, help_text: str, label_names: Sequence[str] = (), *,
                 buckets: Sequence[float] = LATENCY_BUCKETS_S) -> None:
        super().__init__(name, help_text, label_names)
        self.buckets = tuple(sorted(buckets))
        self._counts: dict[Labels, list[int]] = {}
        self._sums: dict[Labels, float] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        counts = self._counts.setdefault(key, [0] * (len(self.buckets) + 1))
        counts[bisect.bisect_left(self.buckets, value)] += 1
        self._sums[key] = self._sums.get(key, 0.0) + value

    def count(self, **labels: str) -> int:
        return sum(self._counts.get(self._key(labels), []))

    def samples(self) -> list[str]:
        lines: list[str] = []
        for key, counts in sorted(self._counts.items()):
            cumulative = 0
            for bound, n in zip((*self.buckets, math.inf), counts, strict=True):
                cumulative += n
                le = (("le", _fmt_value(bound)),)
                lines.append(f"{self.name}_bucket{_fmt_labels(key, le)} {cumulative}")
            lines.append(f"{self.name}_sum{_fmt_labels(key)} {_fmt_value(self._sums[key])}")
            lines.append(f"{self.name}_count{_fmt_labels(key)} {cumulative}")
        return lines


class Registry:
    """Holds metrics by name and renders them all."""

    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}

    def _add(self, metric: _Metric) -> None:
        if metric.name in self._metrics:
            raise MetricError(f"metric {metric.name!r} already registered")
        self._metrics[metric.name] = metric

    def counter(self, name: str, help_text: str, labels: Sequence[str] = ()) -> Counter:
        metric = Counter(name, help_text, labels)
        self._add(metric)
        return metric

    def gauge(self, name: str, help_text: str, labels: Sequence[str] = ()) -> Gauge:
        metric = Gauge(name, help_text, labels)
        self._add(metric)
        return metric

    def histogram(self, name: str, help_text: str, labels: Sequence[str] = (), *,
                  buckets: Sequence[float] = LATENCY_BUCKETS_S) -> Histogram:
        metric = Histogram(name, help_text, labels, buckets=buckets)
        self._add(metric)
        return metric

    def render(self) -> str:
        """The whole registry in the text exposition format."""
        lines: list[str] = []
        for metric in self._metrics.values():
            lines += metric.header() + metric.samples()
        return "\n".join(lines) + "\n"


def parse_text(text: str) -> dict[str, dict[Labels, float]]:
    """Parse the text format back: ``{sample_name: {labels: value}}`` (for tests and loadgen)."""
    out: dict[str, dict[Labels, float]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, _, rest = head.partition("{")
        labels: Labels = ()
        if rest:
            body = rest.rstrip("}")
            pairs = [p for p in _split_labels(body) if p]
            labels = tuple((k, v.strip('"')) for k, v in (p.split("=", 1) for p in pairs))
        out.setdefault(name, {})[labels] = float(value)
    return out


def _split_labels(body: str) -> list[str]:
    parts, current, quoted = [], "", False
    for ch in body:
        if ch == '"' and not current.endswith("\\"):
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts
