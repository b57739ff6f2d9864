"""The HTML report in a real browser: headless Chromium opens it over the DevTools protocol.

Asserts: no console error, uncaught exception or error log entry; no request leaves the
file (and no http(s) URL in any src/href); every plot (``[data-plot]``) is drawn: its
screenshot, clipped to the figure, holds many colours and enough non-white pixels.
Chromium is the Debian package that scripts/test.sh installs; the test skips only when
it is absent and ``CI`` is unset.
"""

from __future__ import annotations

import base64
import contextlib
import io
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli_helpers import run_cli
from mlfleet.report.html.figure import figure_html
from mlfleet.report.plots.chart import Axis, Chart, RefLine, Series

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PLOTS = ("roofline", "collectives", "serving-latency", "checkpoint-goodput", "cache-hit-rate",
         "scheduling-jct")
MIN_COLOURS = 8
"""Distinct colours a drawn plot shows at least (a blank one shows 1; observed 527-2,582)."""
MIN_INK_FRACTION = 0.02
"""Share of a plot's pixels that are not white, at least (observed 4.6-8.8 %)."""
MIN_COLOURED_FRACTION = 0.003
"""Share of a plot's pixels in colour (max - min channel > 60), at least: the data lines and
points (observed 0.54-2.0 %). Frame, grid, text and reference lines are grey; the legend's
swatches alone stay under 0.12 %, so a plot without its data fails."""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                       reason="chromium is not installed (scripts/test.sh installs it)"),
]


class DevTools:
    """A DevTools-protocol client on one page: commands, and the events seen meanwhile."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.events: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command; its result (events that arrive first are kept)."""
        ident = next(self._ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                assert "error" not in message, message
                result: dict[str, Any] = message["result"]
                return result
            self.events.append(message)

    def wait_for(self, method: str, *, count: int = 1, deadline_s: float = 30.0) -> None:
        """Read events until ``method`` has arrived ``count`` times in all."""
        end = time.monotonic() + deadline_s
        while sum(e.get("method") == method for e in self.events) < count:
            assert time.monotonic() < end, f"no {method} within {deadline_s} s"
            self.events.append(json.loads(self.ws.recv()))

    def errors(self) -> list[dict[str, Any]]:
        """Console errors, uncaught exceptions and error log entries seen so far."""
        return [e for e in self.events if
                (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
                or e.get("method") == "Runtime.exceptionThrown"
                or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]


@contextlib.contextmanager
def chromium(profile: Path) -> Iterator[DevTools]:
    """Headless Chromium on a private profile, in its own process group, killed on exit."""
    env = dict(os.environ, HOME=str(profile), XDG_CONFIG_HOME=str(profile / "config"),
               XDG_CACHE_HOME=str(profile / "cache"))
    proc = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", f"--user-data-dir={profile}",
         "--remote-debugging-port=0", "--window-size=1200,900", "--hide-scrollbars",
         "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        start_new_session=True)
    client = None
    try:
        port = _devtools_port(profile / "DevToolsActivePort", proc)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            pages = [t for t in json.load(r) if t["type"] == "page"]
        client = DevTools(pages[0]["webSocketDebuggerUrl"])
        yield client
    finally:
        if client is not None:
            client.ws.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _devtools_port(path: Path, proc: subprocess.Popen[bytes]) -> int:
    end = time.monotonic() + 30
    while not (path.exists() and path.read_text().strip()):
        assert proc.poll() is None, f"chromium exited with {proc.returncode}"
        assert time.monotonic() < end, "chromium wrote no DevToolsActivePort within 30 s"
        time.sleep(0.05)
    return int(path.read_text().splitlines()[0])


def pixels(png: bytes) -> np.ndarray:
    """A PNG's pixels as an (height, width, channels) array of bytes."""
    from matplotlib import image

    decoded = image.imread(io.BytesIO(png), format="png")
    return np.asarray(np.round(decoded * 255), dtype=np.uint8)


def plot_pixels(page: DevTools) -> dict[str, np.ndarray]:
    """Each ``[data-plot]`` figure's SVG, screenshotted alone: its RGB pixels by plot name."""
    boxes = json.loads(page.call("Runtime.evaluate", returnByValue=True, expression=(
        "JSON.stringify([...document.querySelectorAll('[data-plot]')].map(e => {"
        "const r = e.querySelector('svg').getBoundingClientRect();"
        "return {id: e.dataset.plot, x: r.x + scrollX, y: r.y + scrollY,"
        " width: r.width, height: r.height}; }))"))["result"]["value"])
    out = {}
    for box in boxes:
        clip = {**{k: box[k] for k in ("x", "y", "width", "height")}, "scale": 1}
        shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         clip=clip)
        out[box["id"]] = pixels(base64.b64decode(shot["data"]))[..., :3]
    return out


def measures(img: np.ndarray) -> tuple[int, float, float]:
    """Distinct colours, share of non-white pixels, share of coloured (non-grey) pixels."""
    wide = img.astype(np.int16)
    return (len(np.unique(img.reshape(-1, 3), axis=0)),
            float(np.mean(np.any(img < 250, axis=2))),
            float(np.mean(wide.max(axis=2) - wide.min(axis=2) > 60)))


def _dataless_plot(path: Path) -> Path:
    """A page with one plot whose eight series hold no points: frame, grid, text, legend."""
    series = tuple(Series(name=f"s{i}", x=(), y=()) for i in range(8))
    chart = Chart(plot_id="empty", title="no data", caption="c", x=Axis(label="x (s)"),
                  y=Axis(label="y (s)"), series=series,
                  refs=(RefLine(axis="y", value=0.5, label="ref"),))
    path.write_text(f"<!DOCTYPE html><html><body>{figure_html(chart)}</body></html>",
                    encoding="utf-8")
    return path


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v or "" for k, v in attrs if k in ("src", "href", "xlink:href", "action")]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    proc = run_cli("report", "--out", str(out), "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    return out


def test_the_report_references_nothing_outside_itself(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    links = _Links()
    links.feed(text)
    assert not [u for u in links.urls if u.startswith(("http:", "https:", "//"))], links.urls
    assert all(u.startswith("#") for u in re.findall(r"url\(\s*['\"]?([^)'\"]*)", text))
    assert "@import" not in text and "<script" not in text


def test_chromium_renders_every_plot_without_errors(report: Path, tmp_path: Path) -> None:
    with chromium(tmp_path / "profile") as page:
        for domain in ("Runtime", "Log", "Page", "Network"):
            page.call(f"{domain}.enable")
        page.call("Page.navigate", url=report.as_uri())
        page.wait_for("Page.loadEventFired")
        shots = plot_pixels(page)
        assert list(shots) == list(PLOTS)
        for plot, img in shots.items():
            colours, ink, coloured = measures(img)
            assert colours >= MIN_COLOURS and ink >= MIN_INK_FRACTION, (plot, colours, ink)
            assert coloured >= MIN_COLOURED_FRACTION, (plot, coloured)
        requests = [e["params"]["request"]["url"] for e in page.events
                    if e.get("method") == "Network.requestWillBeSent"]
        assert all(u.startswith("file:") for u in requests), requests
        assert page.errors() == []
        # the checks can fail: a plot whose 8 series have no data (legend only) is caught
        page.call("Page.navigate", url=_dataless_plot(tmp_path / "empty.html").as_uri())
        page.wait_for("Page.loadEventFired", count=2)
        (img,) = plot_pixels(page).values()
        assert measures(img)[2] < MIN_COLOURED_FRACTION
        # the listener works: a real console error is seen
        page.call("Runtime.evaluate", expression="console.error('probe')")
        page.call("Runtime.evaluate", expression="0")  # events sent before this reply are read
        assert [e["params"]["args"][0]["value"] for e in page.errors()] == ["probe"]
