"""The real server's rank path under faults: breaker, bulkhead and fallback chain, the
reply saying who served it, the metrics, and the loopback admin endpoint."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from mlfleet.errors import InputError
from mlfleet.reliability.resilience.breaker import BreakerConfig, CircuitBreaker
from mlfleet.reliability.resilience.clock import ManualClock
from mlfleet.serving.server.app import create_app
from mlfleet.serving.server.metrics import parse_text
from mlfleet.serving.server.rank_fallback import RESILIENCE
from mlfleet.serving.server.resilience_config import FaultSpec, RankFallbackConfig
from mlfleet.serving.server.testing import running_app, small_config

BODY = {"user": 3, "items": [5, 1, 9, 2]}


def config(**overrides: Any) -> Any:
    breaker = BreakerConfig(window_size=4, minimum_calls=4, wait_in_open_s=0.2,
                            half_open_calls=2, slow_call_duration_s=10.0)
    fields: dict[str, Any] = dict(enabled=True, breaker=breaker)
    return small_config(rank_fallback=RankFallbackConfig(**(fields | overrides)))


async def rank(client: Any) -> tuple[int, dict[str, Any], str]:
    resp = await client.post("/v1/rank", json=BODY)
    return resp.status, await resp.json(), resp.headers.get("X-Served-By", "")


async def metric(client: Any, name: str) -> dict[Any, float]:
    return parse_text(await (await client.get("/metrics")).text()).get(name, {})


def test_primary_serves_and_says_so() -> None:
    async def main() -> None:
        async with running_app(config()) as client:
            status, body, served_by = await rank(client)
            assert (status, body["served_by"], served_by) == (200, "primary", "primary")
            assert sorted(body["ranking"]) == [1, 2, 5, 9]

    asyncio.run(main())


def test_failures_open_the_breaker_then_it_recovers() -> None:
    clock = ManualClock()  # the breaker's time is the test's: no race with a slow host
    app = create_app(config())
    app[RESILIENCE].breaker = CircuitBreaker(app[RESILIENCE].breaker.config, clock=clock)

    async def main() -> None:
        async with running_app(app=app) as client:
            await rank(client)  # a primary reply: 1 success in the window
            await client.post("/admin/fault", json={"mode": "fail"})
            seen = [await rank(client) for _ in range(6)]
            assert all(s == 200 for s, _, _ in seen)
            reasons = [b["fallback_reason"] for _, b, _ in seen]
            assert reasons == ["error"] * 3 + ["breaker_open"] * 3  # 3 of 4 failed: open
            assert {b["served_by"] for _, b, _ in seen} == {"popularity"}
            assert seen[0][1]["ranking"] == [1, 2, 5, 9]  # popularity: lowest id first
            states = await metric(client, "mlfleet_circuit_breaker_state")
            assert states[(("breaker", "ranker"), ("state", "open"))] == 1.0
            await client.post("/admin/fault", json={"mode": "none"})
            clock.advance(0.2)  # wait_in_open_s: the next calls are probes
            probes = [await rank(client) for _ in range(2)]
            assert [b["served_by"] for _, b, _ in probes] == ["primary", "primary"]
            states = await metric(client, "mlfleet_circuit_breaker_state")
            assert states[(("breaker", "ranker"), ("state", "closed"))] == 1.0
            counts = await metric(client, "mlfleet_fallback_total")
            key = (("route", "rank"), ("served_by", "popularity"))
            assert counts[(*key, ("reason", "error"))] == 3
            assert counts[(*key, ("reason", "breaker_open"))] == 3

    asyncio.run(main())


def test_chain_falls_to_cache_then_default_when_models_fail() -> None:
    async def main() -> None:
        async with running_app(config()) as client:
            _, primary, _ = await rank(client)
            await client.post("/admin/fault", json={"mode": "fail", "target": "models"})
            _, cached, served_by = await rank(client)
            assert (served_by, cached["scores"]) == ("cache", primary["scores"])
            resp = await client.post("/v1/rank", json={"user": 4, "items": [7, 8]})
            body = await resp.json()
            assert (body["served_by"], body["scores"], body["ranking"]) == (
                "default", [0.0, 0.0], [7, 8])

    asyncio.run(main())


def test_slow_primary_opens_the_breaker_on_slow_calls() -> None:
    breaker = BreakerConfig(window_size=4, minimum_calls=4, slow_call_duration_s=0.05,
                            slow_call_rate_threshold=0.5, wait_in_open_s=60)
    fault = FaultSpec(mode="slow", delay_s=0.06)

    async def main() -> None:
        async with running_app(config(breaker=breaker, fault=fault)) as client:
            served = [(await rank(client))[2] for _ in range(6)]
            assert served == ["primary"] * 4 + ["popularity"] * 2  # slow, not failed

    asyncio.run(main())


def test_full_bulkhead_serves_the_fallback_as_overload() -> None:
    fault = FaultSpec(mode="slow", delay_s=1.0)  # the others arrive while it sleeps

    async def main() -> None:
        async with running_app(config(max_concurrent=1, fault=fault)) as client:
            results = await asyncio.gather(*(rank(client) for _ in range(3)))
            reasons = sorted(b.get("fallback_reason", "-") for _, b, _ in results)
            assert reasons == ["-", "overload", "overload"]

    asyncio.run(main())


def test_without_fallback_the_fault_reaches_the_client() -> None:
    async def main() -> None:
        async with running_app(small_config()) as client:
            status, _, served_by = await rank(client)
            assert (status, served_by) == (200, "primary")
            await client.post("/admin/fault", json={"mode": "fail", "fraction": 1.0})
            status, body, _ = await rank(client)
            assert status == 500 and "injected fault" in body["error"]
            fault = await (await client.get("/admin/fault")).json()
            assert fault["mode"] == "fail" and fault["injected_total"] == 1

    asyncio.run(main())


def test_client_errors_pass_through_and_bad_faults_are_400() -> None:
    async def main() -> None:
        async with running_app(config()) as client:
            resp = await client.post("/v1/rank", json={"user": 3, "items": []})
            assert resp.status == 400
            for bad in ({"mode": "explode"}, {"delay_ms": "x"}, {"speed": 1}):
                resp = await client.post("/admin/fault", json=bad)
                assert resp.status == 400, bad

    asyncio.run(main())


def test_fault_spec_is_validated() -> None:
    with pytest.raises(InputError, match=r"fraction\(=1.5\)"):
        FaultSpec(mode="fail", fraction=1.5)
    with pytest.raises(InputError, match=r"max_concurrent\(=0\)"):
        replace(RankFallbackConfig(), max_concurrent=0)


def test_a_deadline_the_primary_misses_is_served_by_the_fallback() -> None:
    fault = FaultSpec(mode="slow", delay_s=0.1)

    async def main() -> None:
        async with running_app(config(fault=fault)) as client:
            resp = await client.post("/v1/rank", json=BODY, headers={"X-Deadline-Ms": "50"})
            body = await resp.json()
            assert resp.status == 200
            assert (body["served_by"], body["fallback_reason"]) == ("popularity", "deadline")
            assert resp.headers["X-Fallback-Reason"] == "deadline"

    asyncio.run(main())
