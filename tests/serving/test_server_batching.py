"""Dynamic batching (rank) and continuous batching with a KV cache (generate), for real."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import torch

from mlfleet.serving.loadgen import parse_server_timing
from mlfleet.serving.server.app import STATE
from mlfleet.serving.server.config import ContinuousBatchingConfig, DynamicBatchingConfig
from mlfleet.serving.server.models import GPTSpec, Ranker, TinyGPT
from mlfleet.serving.server.runner import ModelRunner, RankInput, trace_ranker
from mlfleet.serving.server.testing import blocked_worker, running_app, small_config


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def rank_body(user: int = 1) -> dict[str, Any]:
    return {"user": user, "items": [5, 6, 7, 8]}


async def batches(client: Any, route: str) -> list[tuple[int, int]]:
    """(size, prefill) of every executed batch/iteration of ``route``."""
    doc = await (await client.get("/v1/stats")).json()
    col = {name: i for i, name in enumerate(doc["fields"])}
    return [(r[col["size"]], r[col["prefill"]]) for r in doc["records"] if r[col["route"]] == route]


# ----------------------------------------------------------------------------- dynamic batching


def test_dynamic_batching_respects_max_batch() -> None:
    config = small_config(rank=DynamicBatchingConfig(max_batch_size=4, max_queue_delay_s=0.0,
                                                     queue_capacity=32))

    async def main() -> None:
        async with running_app(config) as client:
            with blocked_worker(client.app) as release:
                tasks = [asyncio.ensure_future(client.post("/v1/rank", json=rank_body(i)))
                         for i in range(10)]
                await asyncio.sleep(0.3)
                release.set()
                responses = await asyncio.gather(*tasks)
            assert all(r.status == 200 for r in responses)
            sizes = [s for s, _ in await batches(client, "rank")]
            assert sum(sizes) == 10 and max(sizes) == 4 and all(s <= 4 for s in sizes)
            reported = [(await r.json())["batch_size"] for r in responses]
            assert max(reported) == 4

    run(main())


def test_lone_request_waits_the_max_delay() -> None:
    config = small_config(rank=DynamicBatchingConfig(max_batch_size=4, max_queue_delay_s=0.08))

    async def main() -> None:
        async with running_app(config) as client:
            resp = await client.post("/v1/rank", json=rank_body())
            queue_s = parse_server_timing(resp.headers["Server-Timing"])["queue"]
            assert queue_s >= 0.075  # the batcher held it for company
            assert await batches(client, "rank") == [(1, 0)]

    run(main())


def test_full_batch_dispatches_without_waiting_and_partial_after_delay() -> None:
    config = small_config(rank=DynamicBatchingConfig(max_batch_size=4, max_queue_delay_s=3.0))

    async def main() -> None:
        async with running_app(config) as client:
            full = await asyncio.gather(*(client.post("/v1/rank", json=rank_body(i))
                                          for i in range(4)))
            queues = [parse_server_timing(r.headers["Server-Timing"])["queue"] for r in full]
            assert max(queues) < 1.5  # far below the 3 s delay: a full batch goes at once
            assert await batches(client, "rank") == [(4, 0)]

    run(main())


# ----------------------------------------------------------------------------- generation


def reference(client: Any, prompt: list[int], n: int) -> list[int]:
    runner = client.app[STATE].runner
    tokens: list[int] = runner.gpt.generate_reference(prompt, n)
    return tokens


def test_generation_matches_full_recompute_and_is_deterministic() -> None:
    async def main() -> None:
        async with running_app() as client:
            body = {"prompt": "hello there", "max_new_tokens": 12}
            first = await (await client.post("/v1/generate", json=body)).json()
            second = await (await client.post("/v1/generate", json=body)).json()
            assert first["tokens"] == second["tokens"]
            assert first["tokens"] == reference(client, list(b"hello there"), 12)
            assert first["ttft_s"] > 0 and first["tpot_s"] > 0
            assert isinstance(first["text"], str)

    run(main())


def test_traced_ranker_scores_exactly_like_eager_for_any_shape() -> None:
    traced = ModelRunner(small_config(rank=DynamicBatchingConfig(trace_model=True)))
    eager = ModelRunner(small_config())
    batch = [RankInput(user=3, items=(1, 2, 3)), RankInput(user=9, items=tuple(range(40, 57)))]
    for size in (1, 2):
        assert traced.rank(batch[:size])[0] == eager.rank(batch[:size])[0]
    assert [len(row) for row in traced.rank(batch)[0]] == [3, 17]  # padding dropped


def test_ranker_falls_back_to_eager_when_it_cannot_be_traced() -> None:
    ranker = Ranker(small_config().ranker)
    ranker.forward = lambda users, items: users.tolist()  # type: ignore[method-assign,assignment,return-value]
    with pytest.warns(UserWarning, match="running it eagerly"):
        assert trace_ranker(ranker, torch.device("cpu")) is ranker


def test_same_seed_same_weights_across_instances() -> None:
    spec = GPTSpec(n_layer=2, n_head=2, d_model=32, max_seq_len=64, seed=7)
    a, b = TinyGPT(spec), TinyGPT(spec)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    other = TinyGPT(GPTSpec(n_layer=2, n_head=2, d_model=32, max_seq_len=64, seed=8))
    assert not torch.equal(a.head.weight, other.head.weight)


def test_concurrent_sequences_share_iterations_and_stay_correct() -> None:
    prompts = [f"prompt number {i}" for i in range(4)]

    async def main() -> None:
        async with running_app() as client:
            with blocked_worker(client.app) as release:
                tasks = [asyncio.ensure_future(client.post(
                    "/v1/generate", json={"prompt": p, "max_new_tokens": 10})) for p in prompts]
                await asyncio.sleep(0.3)
                release.set()
                results = [await (await t).json() for t in tasks]
            for p, result in zip(prompts, results, strict=True):
                assert result["tokens"] == reference(client, list(p.encode()), 10)
            iterations = await batches(client, "generate")
            assert max(size for size, _ in iterations) == 4  # four sequences per decode step
            assert max(prefill for _, prefill in iterations) >= 2  # admitted together

    run(main())


def test_short_request_joins_and_leaves_while_long_one_runs() -> None:
    async def main() -> None:
        async with running_app() as client:
            long_resp = await client.post("/v1/generate", json={
                "prompt": "a long story", "max_new_tokens": 40, "stream": True})
            assert json.loads(await long_resp.content.readline())["token"] >= 0  # running
            short = await (await client.post("/v1/generate", json={
                "prompt": "short", "max_new_tokens": 3})).json()
            generate = client.app[STATE].generate
            assert generate is not None and generate.running == 1  # the long one decodes
            lines = [json.loads(line) async for line in long_resp.content if line.strip()]
            summary = lines[-1]
            assert summary["done"] is True and len(summary["tokens"]) == 40
            assert short["tokens"] == reference(client, list(b"short"), 3)
            assert summary["tokens"] == reference(client, list(b"a long story"), 40)
            iterations = await batches(client, "generate")
            assert any(prefill == 1 and size >= 1 for size, prefill in iterations)  # joined mid-run

    run(main())


def test_stream_lines_match_non_stream_result() -> None:
    async def main() -> None:
        async with running_app() as client:
            body = {"prompt_tokens": [72, 105, 33], "max_new_tokens": 6}
            plain = await (await client.post("/v1/generate", json=body)).json()
            resp = await client.post("/v1/generate", json={**body, "stream": True})
            assert resp.headers["Content-Type"].startswith("application/x-ndjson")
            lines = [json.loads(line) async for line in resp.content if line.strip()]
            assert [m["token"] for m in lines[:-1]] == plain["tokens"]
            assert lines[-1]["done"] is True and lines[-1]["tokens"] == plain["tokens"]

    run(main())


def test_more_sequences_than_slots_all_complete() -> None:
    config = small_config(generate=ContinuousBatchingConfig(
        max_running=2, queue_capacity=16, max_prompt_tokens=32, max_new_tokens=48))

    async def main() -> None:
        async with running_app(config) as client:
            prompts = [f"p{i}" for i in range(7)]
            results = await asyncio.gather(*(client.post(
                "/v1/generate", json={"prompt": p, "max_new_tokens": 5}) for p in prompts))
            for p, resp in zip(prompts, results, strict=True):
                assert (await resp.json())["tokens"] == reference(client, list(p.encode()), 5)
            assert max(size for size, _ in await batches(client, "generate")) <= 2

    run(main())


def test_client_leaving_mid_stream_frees_its_slot() -> None:
    async def main() -> None:
        async with running_app() as client:
            resp = await client.post("/v1/generate", json={
                "prompt": "bye", "max_new_tokens": 48, "stream": True})
            await resp.content.readline()
            resp.close()
            gen = client.app[STATE].generate
            assert gen is not None
            for _ in range(200):
                if gen.running == 0:
                    break
                await asyncio.sleep(0.02)
            assert gen.running == 0
            assert len(await batches(client, "generate")) < 40  # stopped early, not run to 48
            ok = await client.post("/v1/generate", json={"prompt": "hi", "max_new_tokens": 2})
            assert ok.status == 200

    run(main())
