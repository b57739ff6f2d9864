"""``mlfleet serve --fallback --fault ...`` end to end: a real server process whose ranker
fails from the start answers from the fallback chain, and says so."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from mlfleet.serving.server.process import server_process


def rank(base_url: str) -> tuple[int, dict[str, Any], str]:
    request = urllib.request.Request(base_url + "/v1/rank", method="POST",
                                     data=json.dumps({"user": 1, "items": [4, 2]}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, json.loads(resp.read()), resp.headers.get("X-Served-By", "")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), exc.headers.get("X-Served-By", "")


@pytest.mark.slow
def test_serve_with_fallback_and_a_failing_ranker() -> None:
    with server_process(["--device", "cpu", "--fallback", "--fault", "fail"]) as url:
        status, body, served_by = rank(url)
    assert (status, served_by, body["fallback_reason"]) == (200, "popularity", "error")
    assert body["ranking"] == [2, 4]


@pytest.mark.slow
def test_serve_without_fallback_lets_the_fault_through() -> None:
    with server_process(["--device", "cpu", "--fault", "fail", "--fault-fraction", "1"]) as url:
        status, body, _ = rank(url)
    assert status == 500 and "injected fault" in body["error"]
