"""The web app in a real browser (issue 17): headless Chromium drives a running server.

``python -m evaluation.app`` serves on a free port of 127.0.0.1; Debian's ``chromium``
(launched here, never downloaded) loads each page through the Chrome DevTools Protocol
over a local WebSocket, does one thing on each (add a participant and run; pick a
scenario; run a two-day episode) and compares what the page shows with the command-line
tools' output: ``python -m evaluation.cfe --json``, the ``python -m evaluation.compare``
folder (leaderboard.md, results.csv) and a compare run of the same episode. Screenshots
go to ``$APP_SCREENSHOTS`` (the README's come from this test) or the test's tmp folder.

Marked slow (about a minute); skipped only when chromium is not installed. No traffic
leaves 127.0.0.1: the app's usage statistics are off and Chromium's background
networking, component updates and sync are disabled.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

pytest.importorskip("streamlit", reason="the app needs the [app] extra (streamlit, plotly)")
from websockets.sync.client import connect  # comes with streamlit

from evaluation.app import pooled

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 1400, 2200  # tall viewport: Streamlit scrolls inside the page, not the body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_quietly(check: Any, timeout_s: float) -> Any:
    """Poll ``check()`` until it returns something truthy or ``timeout_s`` passes; its last
    value."""
    end = time.monotonic() + timeout_s
    value = check()
    while not value and time.monotonic() < end:
        time.sleep(0.25)
        value = check()
    return value


def wait_for(check: Any, timeout_s: float, what: str) -> Any:
    """:func:`wait_quietly`, failing naming ``what`` if ``check()`` never turns truthy."""
    value = wait_quietly(check, timeout_s)
    if not value:
        raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
    return value


class Browser:
    """One page of headless Chromium, driven over the DevTools Protocol."""

    def __init__(self, profile: Path) -> None:
        args = [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0", f"--window-size={WIDTH},{HEIGHT}", "about:blank",
        ]  # fmt: skip
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
        url = None
        for line in self.proc.stderr:  # Chromium prints its DevTools endpoint on start
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            if found:
                url = found.group(1)
                break
        assert url and url.startswith("ws://127.0.0.1:"), f"no local DevTools endpoint: {url}"
        self._conn = connect(url, max_size=None, open_timeout=30)
        self.ws = self._conn.__enter__()
        self.next_id = 0
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.call("Page.enable", session=True)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=WIDTH,
                  height=HEIGHT, deviceScaleFactor=1, mobile=False)  # fmt: skip

    def call(self, method: str, session: bool = False, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        while True:  # skip events until our answer comes
            reply = json.loads(self.ws.recv(timeout=120))
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply["result"]

    def js(self, expression: str) -> Any:
        out = self.call("Runtime.evaluate", session=True, expression=expression,
                        returnByValue=True, awaitPromise=True)  # fmt: skip
        if "exceptionDetails" in out:
            raise AssertionError(f"JS failed: {out['exceptionDetails']}")
        return out["result"].get("value")

    def goto(self, url: str) -> None:
        self.call("Page.navigate", session=True, url=url)
        wait_for(lambda: self.js("document.readyState") == "complete", 60, f"{url} to load")

    def text(self) -> str:
        return self.js("document.body.innerText") or ""

    def click(self, label: str, selector: str = "button") -> None:
        """Click the element of ``selector`` whose visible text is ``label`` (waiting up to
        30 s for it: widgets stay disabled until the page's connection is up)."""
        script = (
            f"(() => {{ const el = [...document.querySelectorAll({json.dumps(selector)})]"
            f".find(e => e.innerText.trim() === {json.dumps(label)} && !e.disabled);"
            " if (!el) return false; el.scrollIntoView(); el.click(); return true; })()"
        )
        wait_for(lambda: self.js(script), 90, f"an enabled {selector} labelled {label!r}")

    def mouse_click(self, element_js: str) -> None:
        """A real left click (Input domain) at the centre of the element ``element_js``."""
        box = self.js(
            f"(() => {{ const r = ({element_js}).getBoundingClientRect();"
            " return [r.left + r.width / 2, r.top + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", session=True, type=kind, x=box[0], y=box[1],
                      button="left", clickCount=1)  # fmt: skip

    def metrics(self) -> dict[str, str]:
        """Label -> value of every st.metric shown."""
        return self.js(
            "Object.fromEntries([...document.querySelectorAll('[data-testid=\"stMetric\"]')]"
            ".map(m => [m.querySelector('[data-testid=\"stMetricLabel\"]').innerText.trim(),"
            " m.querySelector('[data-testid=\"stMetricValue\"]').innerText.trim()]))"
        )

    def tables(self) -> list[list[list[str]]]:
        """Every st.table as rows of cell texts (header row first)."""
        return self.js(
            "[...document.querySelectorAll('[data-testid=\"stTable\"] table')].map(t =>"
            " [...t.rows].map(r => [...r.cells].map(c => c.innerText.trim())))"
        )

    def idle(self, timeout_s: float = 120) -> None:
        """Wait until the script run ends (Streamlit shows 'Running...' meanwhile)."""
        time.sleep(0.5)
        wait_for(
            lambda: (
                not self.js(
                    "!!document.querySelector('[data-testid=\"stStatusWidget\"]')"
                    " || !!document.querySelector('[data-testid=\"stSpinner\"]')"
                )
            ),
            timeout_s,
            "the app to finish running",
        )

    def screenshot(self, path: Path, top: bool = True) -> None:
        """Save the viewport as PNG; ``top`` scrolls the page back to its start first."""
        if top:
            self.js(
                "document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; })"
            )
            time.sleep(1.0)  # let charts redraw after the scroll
        # Clip to the end of the page's content: no empty band under short pages.
        bottom = self.js(
            "(() => { const m = document.querySelector('[data-testid=\"stMainBlockContainer\"]');"
            " return m ? m.getBoundingClientRect().bottom : 0; })()"
        )
        height = min(HEIGHT, max(600, int(bottom or HEIGHT)))
        clip = {"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1}
        data = self.call("Page.captureScreenshot", session=True, format="png", clip=clip)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self._conn.__exit__(None, None, None)
        finally:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A compare folder made by the CLI: 3 agents x 2 scenarios x 2 seeds of 1 day."""
    out = tmp_path_factory.mktemp("compare")
    cmd = [sys.executable, "-m", "evaluation.compare", "--agents", "individual", "rule",
           "oracle", "--scenarios", "default", "sunny_summer", "--seeds", "2", "--days", "1",
           "--out", str(out), "--no-plots", "--no-progress", "--resamples", "500"]  # fmt: skip
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, timeout=600)
    return out


@pytest.fixture(scope="module")
def app_url(results_dir: Path) -> Iterator[str]:
    """``python -m evaluation.app`` on a free local port; stopped (its own process) at the end."""
    port = free_port()
    cmd = [sys.executable, "-m", "evaluation.app", "--results", str(results_dir),
           "--port", str(port), "--no-browser"]  # fmt: skip
    log = tempfile.TemporaryFile()
    server = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                return r.read() == b"ok"
        except OSError:
            return False

    try:
        wait_for(healthy, 120, "the app server")
        yield url
    finally:
        server.send_signal(signal.SIGTERM)  # the launcher exec'd into Streamlit: same PID
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("APP_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pool_numbers(metrics: dict[str, str]) -> dict[str, float]:
    return {k: float(metrics[f"Pool {label}"].rstrip(" %")) for k, label in pooled.SCORES.items()}


def test_pooled_page(app_url: str, browser: Browser, shots: Path) -> None:
    cli = subprocess.run(
        [sys.executable, "-m", "evaluation.cfe", "--json"], cwd=ROOT, check=True,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    report = json.loads(cli.stdout)
    browser.goto(f"{app_url}/")  # the default page lives at the root
    wait_for(lambda: "Run simulation" in browser.text(), 60, "the pooled page")
    browser.click("Run simulation")
    wait_for(lambda: "Pool pooled CFE %" in browser.metrics(), 120, "the pool's scores")
    shown = pool_numbers(browser.metrics())
    for key, value in shown.items():  # the shipped six: the CLI's own report
        assert value == pytest.approx(report[key]["pool"], abs=0.006), key
    # One interaction: add a participant and run again.
    browser.click("Add participant")
    wait_for(lambda: "7 participants in the table" in browser.text(), 60, "the added row")
    browser.idle()
    browser.click("Run simulation")
    wait_for(lambda: "run: 7 participants" in browser.text(), 120, "the run with 7 participants")
    browser.idle()
    shown = pool_numbers(browser.metrics())
    frame = pooled.new_participant(pooled.default_frame())
    expected = pooled.simulate(pooled.scenario_from_frame(frame)).report
    for key, value in shown.items():
        assert value == pytest.approx(expected[key]["pool"], abs=0.006), key
    assert shown["pooled_cfe_pct"] != pytest.approx(report["pooled_cfe_pct"]["pool"], abs=0.006)
    browser.screenshot(shots / "pooled_procurement.png")


def test_leaderboard_page(app_url: str, browser: Browser, shots: Path, results_dir: Path) -> None:
    browser.goto(f"{app_url}/leaderboard")
    wait_for(lambda: len(browser.tables()) >= 2, 60, "the leaderboard tables")
    browser.idle()
    ranking = browser.tables()[0]
    md = [
        [c.strip().strip("`") for c in line.strip("|").split("|")]
        for line in (results_dir / "leaderboard.md").read_text().splitlines()
        if re.match(r"\| \d+ \|", line)
    ]
    # agent, score IQM [CI], score mean [CI], P(> baseline), in rank order: as the CLI prints
    assert [row[-5:-1] for row in ranking[1:]] == [row[1:5] for row in md]
    # One interaction: pick a scenario in the drill-down.
    select_option(browser, "Scenario", "sunny_summer")
    picked = (
        "[...document.querySelectorAll('[data-testid=\"stSelectbox\"] input')]"
        ".map(i => i.value).includes('sunny_summer')"
    )
    wait_for(lambda: browser.js(picked), 60, "the scenario to be picked")
    browser.idle()
    per_seed = browser.tables()[1]
    csv = pd.read_csv(results_dir / "results.csv")
    mine = csv[csv.scenario == "sunny_summer"].pivot_table(
        index="seed", columns="agent", values="members_saving_eur"
    )
    header = per_seed[0]
    for row in per_seed[1:]:
        seed = int(row[0])
        for agent, cell in zip(header[1:], row[1:], strict=True):
            assert cell == f"{mine.loc[seed, agent]:,.0f}", (seed, agent)
    browser.screenshot(shots / "leaderboard_drilldown.png", top=False)
    browser.screenshot(shots / "leaderboard_explorer.png")


def select_option(browser: Browser, label: str, option: str) -> None:
    """Open the st.selectbox labelled ``label`` and pick ``option``, with real mouse clicks
    (the select widget ignores synthetic DOM events)."""
    box = (
        "[...document.querySelectorAll('[data-testid=\"stSelectbox\"]')].find(s =>"
        f" s.querySelector('label') && s.querySelector('label').innerText.trim() === "
        f"{json.dumps(label)})"
    )
    item = (
        "[...document.querySelectorAll('[role=\"option\"]')].find(o => o.innerText.trim()"
        f" === {json.dumps(option)})"
    )

    def open_list() -> bool:
        # A click that lands while the page is still re-rendering (a busy CI machine) opens
        # nothing: click again until the list shows, rather than wait on one click.
        if browser.js(f"!!{item}"):
            return True
        assert browser.js(
            f"(() => {{ const b = {box}; if (b) b.scrollIntoView(); return !!b; }})()"
        )
        browser.mouse_click(f"{box}.querySelector('input')")
        return bool(wait_quietly(lambda: browser.js(f"!!{item}"), 5))

    wait_for(open_list, 120, f"option {option!r}")
    browser.mouse_click(item)


def test_episode_page(app_url: str, browser: Browser, shots: Path, tmp_path: Path) -> None:
    # The CLI's number for the same episode: rule on default, seed 1000, 2 days.
    out = tmp_path / "cell"
    subprocess.run(
        [sys.executable, "-m", "evaluation.compare", "--agents", "rule", "--scenarios",
         "default", "--seeds", "1", "--days", "2", "--out", str(out), "--no-plots",
         "--no-progress", "--resamples", "10"],
        cwd=ROOT, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    row = pd.read_csv(out / "results.csv").iloc[0]
    browser.goto(f"{app_url}/episode")
    wait_for(lambda: "Run episode" in browser.text(), 60, "the episode page")
    browser.idle()
    browser.click("Run episode")  # defaults: multimarket_v1, default, seed 1000, 2 days, rule
    wait_for(lambda: "Members' saving" in browser.metrics(), 180, "the episode to run")
    browser.idle()
    shown = browser.metrics()
    assert shown["Members' saving"] == f"{row.members_saving_eur:,.0f} EUR"
    assert shown["Saving vs alone"] == f"{row.members_saving_pct:.1f} %"
    assert "rule on multimarket_v1/default, seed 1000, 2 days." in browser.text()
    browser.click("Merit order", selector='[role="tab"]')
    wait_for(lambda: any(k.startswith("Spot price, hour") for k in browser.metrics()), 60,
             "the merit order")  # fmt: skip
    browser.idle()
    browser.screenshot(shots / "episode_viewer.png", top=False)
