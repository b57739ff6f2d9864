"""The audit history: live periods and the rollback target, replayed from the moves."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mlfleet.ops.registry.audit import AuditRow, live_periods, rollback_target


def _row(seq: int, to: int | None, action: str = "promote", alias: str = "production",
         at_s: float | None = None) -> AuditRow:
    return AuditRow(seq=seq, ensemble="e", alias=alias, action=action, from_version=None,
                    to_version=to, share=None, who="w", why="y",
                    at_s=float(seq) if at_s is None else at_s)


def test_live_periods_run_from_one_move_to_the_next() -> None:
    rows = [_row(1, 1), _row(2, 2, alias="canary", action="canary"), _row(3, 2),
            _row(4, None, alias="canary", action="promote"), _row(5, 1, action="rollback")]
    prod = live_periods(rows)
    assert [(p.version, p.from_s, p.to_s, p.action) for p in prod] == [
        (1, 1.0, 3.0, "promote"), (2, 3.0, 5.0, "promote"), (1, 5.0, None, "rollback")]
    assert [(p.version, p.from_s, p.to_s) for p in live_periods(rows, "canary")] == [(2, 2.0, 4.0)]


def test_rollback_goes_back_one_promotion_at_a_time() -> None:
    rows = [_row(1, 1), _row(2, 2), _row(3, 3)]
    assert rollback_target(rows) == 2
    rows.append(_row(4, 2, action="rollback"))
    assert rollback_target(rows) == 1  # not back to 3: a rollback undoes, it is not undone
    rows.append(_row(5, 1, action="rollback"))
    assert rollback_target(rows) is None


@given(st.lists(st.booleans(), max_size=40))
def test_rollback_target_matches_a_stack_of_promotions(ops: list[bool]) -> None:
    """Random promote (True) / rollback (False) sequences, rollbacks only where possible:
    the target is always the version below the top of the promotion stack."""
    rows: list[AuditRow] = []
    stack: list[int] = []
    for seq, is_promote in enumerate(ops, 1):
        if is_promote or len(stack) < 2:
            stack.append(seq)
            rows.append(_row(seq, seq))
        else:
            stack.pop()
            rows.append(_row(seq, stack[-1], action="rollback"))
        assert rollback_target(rows) == (stack[-2] if len(stack) >= 2 else None)
