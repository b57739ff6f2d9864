"""Arrival processes, request sizes and trace replay."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlfleet.errors import InputError
from mlfleet.serving.sim.arrivals import (
    DiurnalArrivals,
    Exponential,
    Fixed,
    GammaArrivals,
    LogNormal,
    PoissonArrivals,
    RequestStream,
    make_requests,
    read_trace,
)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_poisson_gaps_are_exponential_with_the_rate() -> None:
    t = PoissonArrivals(rate_per_s=50.0).times_s(200_000, rng())
    gaps = np.diff(t)
    assert t[0] > 0 and np.all(gaps >= 0)
    assert gaps.mean() == pytest.approx(1 / 50.0, rel=0.01)
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, rel=0.02)


@pytest.mark.parametrize("cv", [0.5, 1.0, 3.0])
def test_gamma_gaps_have_the_rate_and_the_cv(cv: float) -> None:
    gaps = np.diff(GammaArrivals(rate_per_s=10.0, cv=cv).times_s(200_000, rng()))
    assert gaps.mean() == pytest.approx(0.1, rel=0.02)
    assert gaps.std() / gaps.mean() == pytest.approx(cv, rel=0.03)


def test_diurnal_rate_follows_the_sine() -> None:
    proc = DiurnalArrivals(mean_rate_per_s=100.0, amplitude=0.8, period_s=100.0)
    t = proc.times_s(100_000, rng())
    periods = np.floor(t[-1] / 100.0)
    t = t[t < periods * 100.0]  # whole periods only
    phase = (t % 100.0) // 25  # quarter periods: rising above mean, falling, trough, rising
    counts = np.bincount(phase.astype(int), minlength=4) / periods / 25.0
    expected = 100.0 * (1 + 0.8 * np.array([2, 2, -2, -2]) / np.pi)  # mean of the sine
    np.testing.assert_allclose(counts, expected, rtol=0.03)
    assert len(t) / t[-1] == pytest.approx(100.0, rel=0.02)


def test_lengths_and_service_demands() -> None:
    assert np.all(Fixed(tokens=7).sample(5, rng()) == 7)
    draws = LogNormal(median=1000, sigma=0.5, max_tokens=5000).sample(100_000, rng())
    assert np.median(draws) == pytest.approx(1000, rel=0.02)
    assert draws.min() >= 1 and draws.max() <= 5000
    assert Exponential(mean_s=2.0).sample(100_000, rng()).mean() == pytest.approx(2.0, rel=0.02)


def test_make_requests_draws_each_quantity_from_its_own_stream() -> None:
    """Changing the output distribution leaves arrival times and prompts unchanged."""
    a = make_requests(100, arrivals=PoissonArrivals(rate_per_s=1.0), rng=rng(3),
                      prompt=Fixed(tokens=10), output=Fixed(tokens=5))
    b = make_requests(100, arrivals=PoissonArrivals(rate_per_s=1.0), rng=rng(3),
                      prompt=Fixed(tokens=10), output=LogNormal(median=50))
    np.testing.assert_array_equal(a.arrival_s, b.arrival_s)
    assert np.all(np.isnan(a.service_s)) and np.all(a.session == -1)


def test_trace_replay_sorts_rows_and_reads_optional_columns(tmp_path: Path) -> None:
    path = tmp_path / "trace.csv"
    path.write_text("arrival_s,prompt_tokens,output_tokens,session,priority\n"
                    "2.5,100,10,7,1\n0.5,50,5,3,0\n1.0,20,2,3,0\n")
    stream = read_trace(path, time_scale=2.0)
    np.testing.assert_allclose(stream.arrival_s, [1.0, 2.0, 5.0])
    assert stream.prompt_tokens.tolist() == [50, 20, 100]
    assert stream.session.tolist() == [3, 3, 7] and stream.priority.tolist() == [0, 0, 1]
    assert stream.user.tolist() == [0, 0, 0]


@pytest.mark.parametrize(("text", "fragment"), [
    ("arrival_s,prompt_tokens\n1,2\n", "lacks column(s) output_tokens"),
    ("arrival_s,prompt_tokens,output_tokens\n1,2.5,3\n", "line 2: prompt_tokens(='2.5')"),
    ("arrival_s,prompt_tokens,output_tokens\nabc,2,3\n", "arrival_s(='abc')"),
    ("arrival_s,prompt_tokens,output_tokens\n", "has no rows"),
    ("arrival_s,prompt_tokens,output_tokens\n1,0,3\n", "prompt_tokens(=0)"),
])
def test_bad_traces_name_the_line_and_value(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_trace(path)
    assert fragment in str(info.value)


def test_a_missing_trace_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot be read"):
        read_trace(tmp_path / "nope.csv")


@pytest.mark.parametrize("content", [
    bytes(range(256)) * 4,  # not UTF-8
    b'arrival_s,prompt_tokens,output_tokens\n"' + b"a" * 200_000,  # csv.Error: field limit
])
def test_a_trace_that_is_not_csv_text_names_the_file_and_what_is_expected(
        tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "noise.bin"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"noise\.bin' is not a UTF-8 CSV file .*arrival_s"):
        read_trace(path)


@pytest.mark.parametrize(("build", "fragment"), [
    (lambda: PoissonArrivals(rate_per_s=0.0), "rate_per_s(=0)"),
    (lambda: GammaArrivals(rate_per_s=1.0, cv=-1.0), "cv(=-1)"),
    (lambda: DiurnalArrivals(mean_rate_per_s=1.0, amplitude=1.0), "amplitude(=1)"),
    (lambda: LogNormal(median=10, min_tokens=5, max_tokens=2), "max_tokens(=2)"),
    (lambda: Fixed(tokens=0), "tokens(=0)"),
    (lambda: PoissonArrivals(rate_per_s=1.0).times_s(0, rng()), "requests(=0)"),
    (lambda: RequestStream(arrival_s=np.array([1.0, 0.5]), prompt_tokens=np.ones(2, int),
                           output_tokens=np.ones(2, int)), "non-decreasing"),
    (lambda: RequestStream(arrival_s=np.array([1.0]), prompt_tokens=np.ones(2, int),
                           output_tokens=np.ones(1, int)), "prompt_tokens has 2 values"),
])
def test_bad_arguments_name_the_value(build: object, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        build()  # type: ignore[operator]
    assert fragment in str(info.value)
