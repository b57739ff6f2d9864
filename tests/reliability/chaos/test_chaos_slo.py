"""SLO arithmetic against hand-computed references (Google SRE workbook, ch. 2 and 5)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlfleet.reliability.chaos.slo import (
    LONGEST_PAGE_WINDOW_S,
    availability,
    burn_rate,
    nines,
    scaled_rules,
    slo_report,
)


def test_nines_by_hand() -> None:
    assert nines(0.999) == pytest.approx(3.0)
    assert nines(0.99) == pytest.approx(2.0)
    assert nines(0.9995) == pytest.approx(3.30103, abs=1e-5)  # -log10(5e-4)
    assert nines(1.0) == math.inf
    assert availability(997, 1000) == 0.997


def test_burn_rate_by_hand() -> None:
    # 1 % bad against a 99.9 % target: 10x the sustainable rate; the workbook's
    # 14.4 = 2 % of a 30-day budget spent in one hour: 0.02 * 720 h / 1 h.
    assert burn_rate(0.01, 0.999) == pytest.approx(10.0)
    assert burn_rate(0.02 * 30 * 24 / 1000, 0.999) == pytest.approx(14.4)


def test_scaled_windows_keep_thresholds() -> None:
    rules = scaled_rules(0.01)
    assert [(r.long_s, r.short_s, r.burn_rate) for r in rules] == [
        pytest.approx((36.0, 3.0, 14.4)), pytest.approx((216.0, 18.0, 6.0))]


def test_report_of_a_run_with_an_outage() -> None:
    # 100 req/s for 60 s, every request bad in [20, 26): 600 bad of 6000.
    ends = np.arange(6000) / 100.0
    bad = (ends >= 20) & (ends < 26)
    rep = slo_report(end_s=ends, bad=bad, target=0.99, run_s=60.0, recover_s=[6.0, 2.0],
                     retried=5)
    assert rep.bad_requests == 600
    assert rep.availability == pytest.approx(0.9)
    assert rep.nines == pytest.approx(1.0)
    assert rep.error_budget_requests == pytest.approx(60.0)
    assert rep.budget_spent == pytest.approx(10.0)
    assert rep.burn_rate == pytest.approx(10.0)
    assert rep.time_scale == pytest.approx(60.0 / LONGEST_PAGE_WINDOW_S)
    # Scaled 14.4x rule: long window 10 s, short 0.83 s. Both burn >= 14.4 (bad
    # fraction >= 0.144) once the 10 s window holds >= 1.44 s of the outage: at 21.44 s,
    # evaluated on the 1/6 s grid -> first instant >= 21.44 is 21.5.
    assert rep.first_page_s == pytest.approx(21.5)
    assert rep.mttr_s == pytest.approx(4.0)
    assert rep.rto_observed_s == pytest.approx(6.0)
    assert rep.rpo_model_state_s == 0.0


def test_report_of_a_clean_run_never_pages() -> None:
    rep = slo_report(end_s=np.linspace(0, 10, 500), bad=np.zeros(500, dtype=bool), target=0.999,
                     run_s=10.0, recover_s=[], retried=0)
    assert rep.first_page_s is None and rep.nines == math.inf and rep.budget_spent == 0.0
    assert math.isnan(rep.mttr_s)
