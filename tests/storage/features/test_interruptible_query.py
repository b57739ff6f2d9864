"""A DuckDB query run by ``arrow_table`` stops on SIGINT with KeyboardInterrupt."""

from __future__ import annotations

import os
import signal
import threading

import duckdb
import pytest

from mlfleet.storage.features.interruptible_query import arrow_table

LONG_QUERY = "SELECT sum(hash(i)) FROM range(3000000000) t(i)"
"""Tens of seconds of work: if SIGINT did not stop it, the test would visibly hang."""


def test_results_and_errors_pass_through() -> None:
    con = duckdb.connect()
    assert arrow_table(con, "SELECT 41 + 1 AS x").column("x").to_pylist() == [42]
    with pytest.raises(duckdb.Error, match="nope"):
        arrow_table(con, "SELECT * FROM nope")


def test_sigint_raises_keyboard_interrupt_in_the_caller() -> None:
    con = duckdb.connect()
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            arrow_table(con, LONG_QUERY)
    finally:
        timer.cancel()
