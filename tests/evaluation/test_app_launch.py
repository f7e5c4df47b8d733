"""``python -m evaluation.app`` starts without a prompt and says which results it shows.

A fresh home (no ``~/.streamlit``) and no terminal on stdin is where Streamlit's first-run
"Email:" prompt used to stop the launcher (exit 255); the server must answer instead.
"""

from __future__ import annotations

import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the app needs the [app] extra (streamlit, plotly)")

from evaluation import latest
from evaluation.app import __main__ as app_cli

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.read() == b"ok"
    except OSError:
        return False


def test_starts_headless_in_a_fresh_home_without_a_terminal(tmp_path: Path) -> None:
    home, results = tmp_path / "home", tmp_path / "results" / "quick"
    home.mkdir()
    port = _free_port()
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    cmd = [sys.executable, "-m", "evaluation.app", "--results", str(results), "--port", str(port)]
    log = tmp_path / "log.txt"
    with log.open("wb") as out:
        server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.STDOUT)  # fmt: skip
        try:
            deadline = time.monotonic() + 90
            while not _answers(f"http://127.0.0.1:{port}") and time.monotonic() < deadline:
                assert server.poll() is None, f"exited {server.returncode}: {log.read_text()}"
                time.sleep(0.5)
            assert _answers(f"http://127.0.0.1:{port}"), log.read_text()
        finally:
            server.send_signal(signal.SIGTERM)  # the launcher exec'd into Streamlit: same PID
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    printed = log.read_text()
    assert "Email" not in printed
    assert f"results from {results.resolve()} (--results)" in printed
    assert f"python -m evaluation.compare --quick --out {results}" in printed  # none there yet


def test_headless_always_and_the_browser_only_when_asked() -> None:
    for argv, wanted in (([], False), (["--open"], True), (["--browser"], True),
                         (["--no-browser"], False)):  # fmt: skip
        args = app_cli._parser().parse_args(argv)
        assert args.open is wanted
        cmd = app_cli.streamlit_command(args)
        assert cmd[cmd.index("--server.headless") + 1] == "true"


def test_open_waits_for_the_server_then_opens_the_browser(monkeypatch) -> None:
    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    opened: list[str] = []
    monkeypatch.setattr(app_cli.webbrowser, "open", lambda url: opened.append(url) or True)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        app_cli._wait_and_open(url, timeout_s=10)
    finally:
        server.shutdown()
    assert opened == [url]
    opened.clear()
    app_cli._wait_and_open(f"http://127.0.0.1:{_free_port()}", timeout_s=0.5)  # never up
    assert opened == []


def test_the_app_opens_the_newest_compare_output(tmp_path: Path) -> None:
    root = tmp_path / "results"
    assert latest.latest_results(root)[0] == latest.FULL_OUT  # nothing yet: compare's default
    for i, name in enumerate(("compare", "quick")):
        (root / name).mkdir(parents=True)
        (root / name / "summary.json").write_text("{}")
        os.utime(root / name / "summary.json", (1e9 + i, 1e9 + i))
    folder, why = latest.latest_results(root)
    assert folder == root / "quick" and "newest" in why
    assert latest.default_out(quick=True) == latest.QUICK_OUT
    assert latest.default_out(quick=False) == latest.FULL_OUT == Path("results/compare")


def test_the_page_names_its_folder_and_flags_a_smoke_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from evaluation import compare
    from evaluation.app import RESULTS_ENV

    out = tmp_path / "quick"
    argv = ["--quick", "--agents", "individual", "oracle", "--scenarios", "default", "--seeds",
            "1", "--days", "1", "--out", str(out), "--no-plots", "--no-progress",
            "--resamples", "50", "--cell-timeout", "0"]  # fmt: skip
    assert compare.main(argv) == 0
    monkeypatch.setenv(RESULTS_ENV, str(out))
    script = "from evaluation.app import leaderboard_page\nleaderboard_page.render()\n"
    at = AppTest.from_string(script, default_timeout=60).run()
    assert not at.exception and not at.error
    assert any(str(out.resolve()) in c.value for c in at.caption)
    assert "Smoke run" in at.warning[0].value and "not significant" in at.warning[0].value
