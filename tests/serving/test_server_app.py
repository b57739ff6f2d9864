"""The real server in-process: endpoints, status codes, admission, deadlines, metrics."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web

from mlfleet.errors import InputError
from mlfleet.serving.server.app import STATE, create_app, wait_ready
from mlfleet.serving.server.config import DynamicBatchingConfig, ServerConfig
from mlfleet.serving.server.metrics import parse_text
from mlfleet.serving.server.testing import blocked_worker, running_app, small_config


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def rank_body(n_items: int = 8, user: int = 3, **extra: Any) -> dict[str, Any]:
    return {"user": user, "items": list(range(10, 10 + n_items)), **extra}


def test_health_ready_and_rank_ok() -> None:
    async def main() -> None:
        async with running_app() as client:
            assert (await client.get("/healthz")).status == 200
            ready = await client.get("/readyz")
            assert ready.status == 200 and (await ready.json())["ready"] is True
            resp = await client.post("/v1/rank", json=rank_body())
            assert resp.status == 200
            body = await resp.json()
            assert len(body["scores"]) == 8 and sorted(body["ranking"]) == list(range(10, 18))
            by_item = dict(zip(range(10, 18), body["scores"], strict=True))
            assert [by_item[i] for i in body["ranking"]] == sorted(body["scores"], reverse=True)
            timing = resp.headers["Server-Timing"]
            assert all(f"{k};dur=" in timing for k in ("pre", "queue", "service", "post", "app"))
            again = await (await client.post("/v1/rank", json=rank_body())).json()
            assert again["scores"] == body["scores"]  # seeded weights: deterministic

    run(main())


@pytest.mark.parametrize(("payload", "fragment"), [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    (json.dumps({"user": 1}).encode(), "'items'"),
    (json.dumps({"user": 1, "items": [1, "x"]}).encode(), "integers"),
    (json.dumps({"user": 10_000, "items": [1]}).encode(), "'user'"),
    (json.dumps({"user": 1, "items": [1], "deadline_ms": -5}).encode(), "deadline"),
])
def test_rank_bad_input_is_400(payload: bytes, fragment: str) -> None:
    async def main() -> None:
        async with running_app() as client:
            resp = await client.post("/v1/rank", data=payload,
                                     headers={"Content-Type": "application/json"})
            assert resp.status == 400
            assert fragment in (await resp.json())["error"]

    run(main())


def test_size_limits_are_413() -> None:
    config = small_config(max_body_bytes=4096)

    async def main() -> None:
        async with running_app(config) as client:
            big = await client.post("/v1/rank", data=b"{" + b" " * 8000 + b"}")
            assert big.status == 413
            many = await client.post("/v1/rank", json=rank_body(n_items=300))
            assert many.status == 413 and "at most" in (await many.json())["error"]
            prompt = await client.post("/v1/generate", json={"prompt": "x" * 40})
            assert prompt.status == 413
            tokens = await client.post("/v1/generate", json={"prompt": "hi", "max_new_tokens": 49})
            assert tokens.status == 413

    run(main())


def test_unknown_route_is_json_404() -> None:
    async def main() -> None:
        async with running_app() as client:
            resp = await client.get("/nope")
            assert resp.status == 404 and "error" in await resp.json()

    run(main())


def test_queue_full_is_429_with_retry_after_and_admitted_complete() -> None:
    config = small_config(rank=DynamicBatchingConfig(max_batch_size=2, max_queue_delay_s=0.0,
                                                     queue_capacity=3))

    async def main() -> None:
        async with running_app(config) as client:
            with blocked_worker(client.app) as release:
                first = asyncio.ensure_future(client.post("/v1/rank", json=rank_body()))
                await asyncio.sleep(0.2)  # dispatched to the (blocked) worker
                waiting = [asyncio.ensure_future(client.post("/v1/rank", json=rank_body()))
                           for _ in range(3)]
                await asyncio.sleep(0.2)
                shed = await client.post("/v1/rank", json=rank_body())
                assert shed.status == 429
                assert int(shed.headers["Retry-After"]) >= 1
                assert "over capacity" in (await shed.json())["error"]
                release.set()
                done = await asyncio.gather(first, *waiting)
            assert [r.status for r in done] == [200] * 4
            metrics = parse_text(await (await client.get("/metrics")).text())
            assert metrics["mlfleet_admission_rejected_total"][(("route", "rank"),)] == 1

    run(main())


def test_deadline_in_queue_is_504_and_never_runs() -> None:
    async def main() -> None:
        async with running_app() as client:
            with blocked_worker(client.app) as release:
                occupier = asyncio.ensure_future(client.post("/v1/rank", json=rank_body()))
                await asyncio.sleep(0.2)  # in service on the (blocked) worker
                resp = await client.post("/v1/rank", json=rank_body(),
                                         headers={"X-Deadline-Ms": "100"})
                assert resp.status == 504
                assert "deadline" in (await resp.json())["error"]
                body_deadline = await client.post("/v1/rank", json=rank_body(deadline_ms=50))
                assert body_deadline.status == 504
                release.set()
                assert (await occupier).status == 200  # started before its deadline: completes
            ok = await client.post("/v1/rank", json=rank_body(deadline_ms=5000))
            assert ok.status == 200
            metrics = parse_text(await (await client.get("/metrics")).text())
            assert metrics["mlfleet_deadline_exceeded_total"][(("route", "rank"),)] == 2
            records = (await (await client.get("/v1/stats")).json())["records"]
            assert sum(r[3] for r in records if r[1] == "rank") == 2  # expired ones never ran

    run(main())


def test_default_deadline_applies_without_header() -> None:
    async def main() -> None:
        async with running_app(small_config(default_deadline_s=0.05)) as client:
            with blocked_worker(client.app) as release:
                occupier = asyncio.ensure_future(client.post("/v1/rank", json=rank_body()))
                await asyncio.sleep(0.2)
                resp = await client.post("/v1/rank", json=rank_body())
                assert resp.status == 504
                release.set()
                assert (await occupier).status == 200

    run(main())


def test_not_ready_until_loaded_then_ready() -> None:
    app = create_app(small_config())

    async def main() -> None:
        with blocked_worker(app) as release:  # the model load queues behind this
            async with running_app(app=app, wait=False) as client:
                ready = await client.get("/readyz")
                assert ready.status == 503
                assert "model loading" in (await ready.json())["reasons"]
                early = await client.post("/v1/rank", json=rank_body())
                assert early.status == 503 and early.headers["Retry-After"] == "1"
                assert (await client.get("/healthz")).status == 200  # alive while loading
                release.set()
                await wait_ready(app)
                assert (await client.get("/readyz")).status == 200
                assert (await client.post("/v1/rank", json=rank_body())).status == 200

    run(main())


def test_middleware_seam_and_readiness_checks() -> None:
    seen: list[str] = []
    healthy = {"db": True}

    @web.middleware
    async def tracer(request: web.Request, handler: Any) -> web.StreamResponse:
        seen.append(request.path)
        response: web.StreamResponse = await handler(request)
        response.headers["X-Traced"] = "1"
        return response

    async def main() -> None:
        async with running_app(middlewares=[tracer],
                               readiness_checks={"db": lambda: healthy["db"]}) as client:
            resp = await client.post("/v1/rank", json=rank_body())
            assert resp.status == 200 and resp.headers["X-Traced"] == "1"
            healthy["db"] = False
            ready = await client.get("/readyz")
            assert ready.status == 503 and (await ready.json())["reasons"] == ["check db failing"]

    run(main())
    assert "/v1/rank" in seen


def test_metrics_exposition_parses() -> None:
    async def main() -> None:
        async with running_app() as client:
            for _ in range(3):
                assert (await client.post("/v1/rank", json=rank_body())).status == 200
            await client.post("/v1/rank", data=b"bad")
            gen = await client.post("/v1/generate", json={"prompt": "hi", "max_new_tokens": 3})
            assert gen.status == 200
            resp = await client.get("/metrics")
            assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = await resp.text()
        metrics = parse_text(text)
        requests = metrics["mlfleet_http_requests_total"]
        assert requests[(("route", "/v1/rank"), ("code", "200"))] == 3
        assert requests[(("route", "/v1/rank"), ("code", "400"))] == 1
        count = metrics["mlfleet_http_request_duration_seconds_count"]
        assert count[(("route", "/v1/rank"), ("code", "200"))] == 3
        inf_bucket = metrics["mlfleet_http_request_duration_seconds_bucket"][
            (("route", "/v1/rank"), ("code", "200"), ("le", "+Inf"))]
        assert inf_bucket == 3
        assert metrics["mlfleet_generated_tokens_total"][()] == 3
        assert metrics["mlfleet_ready"][()] == 1
        assert metrics["mlfleet_queue_depth"][(("route", "rank"),)] == 0
        for line in text.splitlines():  # every sample line: name{labels} value
            if line and not line.startswith("#"):
                float(line.rsplit(" ", 1)[1])

    run(main())


def test_info_reports_config_and_device() -> None:
    async def main() -> None:
        async with running_app() as client:
            info = await (await client.get("/v1/info")).json()
            assert info["device"] == "cpu"
            assert info["config"]["rank"]["max_batch_size"] == 4
            assert info["pid"] == os.getpid()  # in-process app

    run(main())


def test_config_validation_quotes_values() -> None:
    with pytest.raises(InputError, match="max_batch_size"):
        DynamicBatchingConfig(max_batch_size=0)
    with pytest.raises(InputError, match="must fit max_seq_len"):
        replace(small_config(), gpt=replace(small_config().gpt, max_seq_len=32))
    with pytest.raises(InputError, match="port"):
        ServerConfig(port=70000)


def test_stats_since_filters_records() -> None:
    async def main() -> None:
        async with running_app() as client:
            await client.post("/v1/rank", json=rank_body())
            first = await (await client.get("/v1/stats")).json()
            await client.post("/v1/rank", json=rank_body())
            later = await (await client.get(f"/v1/stats?since={first['next']}")).json()
            assert len(later["records"]) == 1 and later["records"][0][0] == first["next"] + 1
            assert (await client.get("/v1/stats?since=x")).status == 400

    run(main())


def test_state_is_per_app() -> None:
    async def main() -> None:
        async with running_app() as a, running_app() as b:
            await a.post("/v1/rank", json=rank_body())
            assert a.app[STATE].next_seq >= 1 and b.app[STATE].next_seq == 0

    run(main())


def test_shared_token_bucket_policy_sheds_per_user() -> None:
    config = small_config(admission="token_bucket",
                          admission_params=(("per_user_rate_per_s", 0.001), ("per_user_burst", 2)))

    async def main() -> None:
        async with running_app(config) as client:
            statuses = [(await client.post("/v1/rank", json=rank_body(user=5))).status
                        for _ in range(3)]
            assert statuses == [200, 200, 429]  # user 5's burst of two is spent
            other = await client.post("/v1/rank", json=rank_body(user=6))
            assert other.status == 200
            shed = await client.post("/v1/rank", json=rank_body(user=5))
            assert "TokenBucketAdmission" in (await shed.json())["error"]
            assert int(shed.headers["Retry-After"]) >= 1

    run(main())


def test_unknown_admission_policy_lists_known_ones() -> None:
    with pytest.raises(InputError, match="token_bucket"):
        create_app(small_config(admission="nope"))
