"""The chaos invariant: no accepted request is lost silently or answered twice.

Every scheduled request ends in exactly one final outcome the client can act on:

* ``ok`` — a reply (2xx), on the first attempt or after retries;
* ``shed`` — an explicit refusal with a status (429, 503): retry later;
* ``timeout`` — an explicit deadline miss (504, or the client's own timeout);
* ``error`` — another reply status or a broken connection, reported as such;
* ``not_sent`` — the client never sent it (over its in-flight cap): nothing was accepted.

"Lost silently" would be a request with no final status (still pending after the run).
"Answered twice" is checked from both sides: the client saw at most one 2xx per id, and
HAProxy's per-replica 2xx counters sum to the client's successes (plus the run's one
``/v1/info`` request), so no replica's reply reached a client that was not counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlfleet.reliability.chaos.recorder import CLIENT_TIMEOUT, NOT_SENT, ClientRecords
from mlfleet.serving.fleet.stats import ServerStats

CONTROL_REQUESTS = 1
"""Non-load requests the recorder sends through the fleet (``GET /v1/info``)."""
KINDS = ("ok", "shed", "timeout", "error", "not_sent")


@dataclass(frozen=True, kw_only=True)
class Outcomes:
    """Final outcomes of a run's requests and the invariant's checks."""

    counts: dict[str, int]
    """Requests per final outcome (:data:`KINDS`)."""
    retried_ok: int
    """Successes that needed more than one client attempt."""
    pending: int
    """Requests without a final status: must be 0."""
    duplicate_ok: int
    """Ids with more than one 2xx reply at the client: must be 0."""
    server_2xx: int
    """Sum of HAProxy's per-replica 2xx counters."""
    client_2xx: int
    """Client successes plus the run's control requests."""

    @property
    def holds(self) -> bool:
        """No request lost silently, none answered twice (client and server side)."""
        return self.pending == 0 and self.duplicate_ok == 0 and self.server_2xx == self.client_2xx

    def violations(self) -> list[str]:
        """What broke the invariant, in words (empty when it holds)."""
        out = []
        if self.pending:
            out.append(f"{self.pending} requests without a final outcome")
        if self.duplicate_ok:
            out.append(f"{self.duplicate_ok} ids answered twice at the client")
        if self.server_2xx != self.client_2xx:
            out.append(f"replicas sent {self.server_2xx} 2xx replies, the client counted "
                       f"{self.client_2xx}")
        return out


def kind_of(status: np.ndarray) -> np.ndarray:
    """The outcome kind (index into :data:`KINDS`) of each final status."""
    kinds = np.full(status.shape, KINDS.index("error"), dtype=np.int8)
    kinds[(status >= 200) & (status < 300)] = KINDS.index("ok")
    kinds[(status == 429) | (status == 503)] = KINDS.index("shed")
    kinds[(status == 504) | (status == CLIENT_TIMEOUT)] = KINDS.index("timeout")
    kinds[status == NOT_SENT] = KINDS.index("not_sent")
    return kinds


def outcomes(records: ClientRecords, servers: tuple[ServerStats, ...]) -> Outcomes:
    """Classify every request and check the invariant against HAProxy's counters."""
    kinds = kind_of(records.status)
    sent = ~np.isnan(records.sent_s)
    pending = int(np.sum(sent & np.isnan(records.end_s)))
    return Outcomes(
        counts={k: int(np.sum(kinds == i)) for i, k in enumerate(KINDS)},
        retried_ok=int(np.sum(records.ok & (records.attempts > 1))),
        pending=pending, duplicate_ok=int(np.sum(records.ok_replies > 1)),
        server_2xx=sum(s.responses_2xx for s in servers),
        client_2xx=int(records.ok.sum()) + CONTROL_REQUESTS)
