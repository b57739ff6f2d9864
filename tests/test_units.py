"""Units: bits vs bytes, SI vs IEC prefixes, durations, money, and clear errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli_helpers import run_main
from mlfleet.errors import MlfleetError, UnitError
from mlfleet.units import (
    TARGETS,
    BitsForBytesError,
    format_bytes,
    format_duration,
    format_flops,
    format_rate,
    parse_quantity,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize(
    ("text", "target", "expected"),
    [
        # bits vs bytes
        ("400Gb/s", "bytes_per_s", 50e9),
        ("400 Gbit/s", "bytes_per_s", 50e9),
        ("400Gbps", "bytes_per_s", 50e9),
        ("50GB/s", "bytes_per_s", 50e9),
        ("50GB/s", "bits_per_s", 400e9),
        ("1 byte", "bits", 8.0),
        ("8b", "bits", 8.0),
        ("1kB", "bits", 8000.0),
        ("1gbit", "bytes_per_s", 125e6),
        ("100mbit", "bits_per_s", 100e6),
        # SI vs IEC
        ("80GB", "bytes", 80e9),
        ("80GiB", "bytes", 80 * 2**30),
        ("1KiB", "bytes", 1024.0),
        ("1kB", "bytes", 1000.0),
        ("1KB", "bytes", 1000.0),
        ("2TiB", "bytes", 2 * 2**40),
        ("3.35TB/s", "bytes_per_s", 3.35e12),
        # bare nccl-tests style sizes are binary for bytes, decimal otherwise
        ("4K", "bytes", 4096.0),
        ("64M", "bytes", 64 * 2**20),
        ("50k", "count", 50_000.0),
        ("4Ki", "count", 4096.0),
        # durations
        ("2ms", "s", 2e-3),
        ("250 us", "s", 250e-6),
        ("250µs", "s", 250e-6),
        ("5 ns", "s", 5e-9),
        ("3h", "s", 10800.0),
        ("30 min", "h", 0.5),
        ("30d", "h", 720.0),
        # compute, power, money
        ("1e15 FLOP/s", "flop_per_s", 1e15),
        ("989.5TFLOP/s", "flop_per_s", 989.5e12),
        ("312 TFLOPS", "flop_per_s", 312e12),
        ("6e23 FLOPs", "flop", 6e23),
        ("700W", "w", 700.0),
        ("10.2kW", "w", 10200.0),
        ("$2.50/h", "usd_per_h", 2.5),
        ("$2.50/GPU-h", "usd_per_h", 2.5),
        ("2.5 USD/h", "usd_per_h", 2.5),
        ("$30000", "usd", 30000.0),
        ("$0.10/kWh", "usd_per_kwh", 0.10),
        ("$0.023/GB-month", "usd_per_gb_month", 0.023),
        ("50000/s", "per_s", 50000.0),
        ("50k req/s", "per_s", 50000.0),
        # bare numbers are already in the target unit
        (1e9, "bytes", 1e9),
        ("0.5", "s", 0.5),
        ("1_000", "count", 1000.0),
    ],
)
def test_parse(text: str, target: str, expected: float) -> None:
    assert parse_quantity(text, target) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "target", "fragment"),
    [
        ("400Gb/s", "bytes", "not a size"),
        ("2ms", "bytes_per_s", "not a bandwidth"),
        ("3 mB", "bytes", "did you mean MB"),
        ("10 furlongs", "bytes", "unknown unit 'furlongs'"),
        ("fast", "s", "not a quantity"),
        ("", "s", "not a quantity"),
        ("1/s/s", "per_s", "must look like"),
        ("1e999 B", "bytes", "not a finite number"),
        ("nan", "s", "not a quantity"),
    ],
)
def test_errors_name_the_value(text: str, target: str, fragment: str) -> None:
    with pytest.raises(UnitError) as info:
        parse_quantity(text, target)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message
    assert repr(text) in message or text == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("64kb", "64kb is kilobits; a size is in bytes: write 64kB or 8kB"),
        ("64 kbit", "64 kbit is kilobits; a size is in bytes: write 64kB or 8kB"),
        ("2Gb", "2Gb is gigabits; a size is in bytes: write 2GB or 0.25GB"),
        ("16Kib", "16Kib is kibibits; a size is in bytes: write 16KiB or 2KiB"),
        ("8 bits", "8 bits is bits; a size is in bytes: write 8B or 1B"),
    ],
)
def test_a_size_in_bits_is_refused_where_bytes_are_expected(text: str, message: str) -> None:
    """Issue 10 item 7: ``64kb`` was read as 8,000 bytes; a silent factor of 8 is refused."""
    with pytest.raises(BitsForBytesError) as info:
        parse_quantity(text, "bytes")
    assert str(info.value) == message


@given(st.integers(1, 10**6), st.sampled_from(["", "k", "K", "M", "G", "T", "Ki", "Mi", "Gi"]),
       st.sampled_from(["b", "bit", "bits"]), st.sampled_from(["", " "]))
def test_every_bit_spelling_of_a_size_is_refused(number: int, prefix: str, bit: str,
                                                 space: str) -> None:
    text = f"{number}{space}{prefix}{bit}"
    with pytest.raises(BitsForBytesError, match="bits; a size is in bytes: write"):
        parse_quantity(text, "bytes")


@given(st.integers(1, 10**6), st.sampled_from(["k", "M", "G", "T"]))
def test_bits_stay_allowed_for_rates_and_bit_sizes(number: int, prefix: str) -> None:
    scale = {"k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}[prefix]
    assert parse_quantity(f"{number}{prefix}b/s", "bytes_per_s") == pytest.approx(
        number * scale / 8)
    assert parse_quantity(f"{number}{prefix.lower()}bit", "bytes_per_s") == pytest.approx(
        number * scale / 8)
    assert parse_quantity(f"{number}{prefix}b", "bits") == pytest.approx(number * scale)


def test_bytes_and_bare_sizes_are_unchanged() -> None:
    assert parse_quantity("64kB", "bytes") == 64_000
    assert parse_quantity("64K", "bytes") == 65_536
    assert parse_quantity("64KiB", "bytes") == 65_536


def test_bool_and_none_are_not_quantities() -> None:
    for bad in (True, None, [1], {"a": 1}):
        with pytest.raises(UnitError):
            parse_quantity(bad, "bytes")  # type: ignore[arg-type]


def test_unknown_target() -> None:
    with pytest.raises(UnitError, match="unknown target unit"):
        parse_quantity("1", "parsecs")


@given(st.text(max_size=20), st.sampled_from(sorted(TARGETS)))
def test_any_text_parses_or_raises_unit_error(text: str, target: str) -> None:
    try:
        value = parse_quantity(text, target)
    except MlfleetError as exc:
        assert isinstance(exc, UnitError)
    else:
        assert math.isfinite(value)


@given(st.floats(min_value=1e-3, max_value=1e18, allow_nan=False))
def test_format_then_parse_bytes_round_trips(n_bytes: float) -> None:
    text = format_bytes(n_bytes, digits=12)
    assert parse_quantity(text, "bytes") == pytest.approx(n_bytes, rel=1e-9)


def test_formatting() -> None:
    assert format_bytes(80e9) == "80 GB"
    assert format_rate(50e9) == "50 GB/s"
    assert format_flops(989.5e12) == "990 TFLOP/s"
    assert format_duration(2e-3) == "2 ms"
    assert format_duration(5400) == "1.5 h"
    assert format_duration(86400 * 30) == "30 d"


@pytest.mark.parametrize(
    "argv",
    [
        ["comm", "allreduce", "--cluster", "DGX-H100", "--size", "64kb"],
        ["run", "collective", "allreduce", "--ranks", "2", "--sizes", "4K,64kb"],
        ["infra", "roofline", "-a", "H100", "--flop", "1e12", "--bytes", "64kb"],
    ],
)
def test_commands_refuse_a_size_in_bits(capsys: pytest.CaptureFixture[str],
                                        argv: list[str]) -> None:
    code, _, err = run_main(capsys, *argv)
    assert code == 2
    assert err == "error: 64kb is kilobits; a size is in bytes: write 64kB or 8kB\n"


def test_scenario_refuses_request_bytes_in_bits(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    text = (EXAMPLES / "recsys-serving.yaml").read_text()
    assert "request_bytes: 10kB" in text
    path = tmp_path / "bits.yaml"
    path.write_text(text.replace("request_bytes: 10kB", "request_bytes: 64kb"))
    code, _, err = run_main(capsys, "scenario", "check", str(path))
    assert code == 2
    assert err.count("\n") == 1
    assert err.endswith("serving.request_bytes: 64kb is kilobits; a size is in bytes: "
                        "write 64kB or 8kB\n")
