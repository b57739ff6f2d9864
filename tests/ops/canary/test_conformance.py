"""Kayenta's own test cases, replayed: ClassifierSuite, ScorerSuite, MannWhitneySuite.

The cases are data in ``src/mlfleet/ops/canary/data/kayenta_conformance.json`` (its
``_source`` names each Scala file and commit of spinnaker/kayenta).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import numpy as np
import pytest

from mlfleet.ops.canary.classifier import classify
from mlfleet.ops.canary.mann_whitney import shift_interval
from mlfleet.ops.canary.scoring import MetricOutcome, group_scores, score, summary_score

DATA: dict[str, Any] = json.loads(
    (resources.files("mlfleet.ops.canary") / "data" / "kayenta_conformance.json").read_text())


def test_the_suites_are_all_there() -> None:
    assert "ClassifierSuite.scala" in DATA["_source"]
    assert (len(DATA["classifier_suite"]), len(DATA["scorer_suite"]),
            len(DATA["mann_whitney_suite"])) == (11, 10, 1)


@pytest.mark.parametrize("case", DATA["classifier_suite"], ids=lambda c: c["test"])
def test_classifier_suite(case: dict[str, Any]) -> None:
    found = classify(np.array(case["control"], float), np.array(case["experiment"], float),
                     direction=case["direction"], tolerance=case["tolerance"],
                     confidence=case["confidence"])
    assert found.label == case["expected"], found.reason


@pytest.mark.parametrize("case", DATA["scorer_suite"], ids=lambda c: c["test"])
def test_scorer_suite(case: dict[str, Any]) -> None:
    outcomes = [MetricOutcome(name=m["name"], group=m["group"], label=m["label"],
                              criticality=m["criticality"]) for m in case["metrics"]]
    got = score(outcomes, weights=case["group_weights"], pass_threshold=95.0,
                marginal_threshold=75.0).score
    assert got == pytest.approx(case["expected_score"], abs=case["abs_tolerance"])
    if not any(m["criticality"] == "critical" for m in case["metrics"]):
        assert got == pytest.approx(summary_score(group_scores(outcomes),
                                                  case["group_weights"]))


@pytest.mark.parametrize("case", DATA["mann_whitney_suite"], ids=lambda c: c["test"])
def test_mann_whitney_suite(case: dict[str, Any]) -> None:
    got = shift_interval(np.array(case["experiment"]), np.array(case["control"]),
                         confidence=case["confidence"])
    tol = case["abs_tolerance"]
    assert got.lower == pytest.approx(case["lower"], abs=tol)
    assert got.upper == pytest.approx(case["upper"], abs=tol)
    assert got.estimate == pytest.approx(case["estimate"], abs=tol)
