"""A DuckDB query that Ctrl-C stops within a fraction of a second.

DuckDB notices an interrupt only between pipeline steps: a hash aggregate over 10⁷ rows
on this machine kept running 1 to 3 s after SIGINT, then surfaced as ``RuntimeError:
Query interrupted`` (a traceback, exit 1). :func:`arrow_table` runs the query on a
helper thread while the main thread waits in short slices, so SIGINT/SIGTERM raise
``KeyboardInterrupt`` there at once; it then asks DuckDB to stop, waits at most
:data:`STOP_WAIT_S` and re-raises, leaving a query that has not stopped yet to die with
the process (its thread is a daemon).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

POLL_S = 0.05
"""How often the waiting main thread wakes (so a signal raises within this)."""
STOP_WAIT_S = 0.3
"""How long an interrupted query gets to stop before the caller moves on."""


class _Outcome:
    def __init__(self) -> None:
        self.table: pa.Table | None = None
        self.error: BaseException | None = None


def arrow_table(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """The result of ``sql`` on ``con`` as an Arrow table; DuckDB's errors pass through.

    On KeyboardInterrupt the connection is left open (a running query still uses it):
    the caller must not reuse it.
    """
    outcome = _Outcome()

    def run() -> None:
        try:
            outcome.table = con.sql(sql).to_arrow_table()
        except BaseException as exc:  # noqa: BLE001  (handed to the main thread)
            outcome.error = exc

    worker = threading.Thread(target=run, name="duckdb-query", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(POLL_S)
    except KeyboardInterrupt:
        con.interrupt()
        worker.join(STOP_WAIT_S)
        raise
    if outcome.error is not None:
        raise outcome.error
    assert outcome.table is not None
    return outcome.table
