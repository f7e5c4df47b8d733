"""``python -m evaluation.app [--results DIR] [--port N] [--open]``: start the web app.

Runs ``streamlit run evaluation/app/main.py`` bound to 127.0.0.1 (this machine only,
unless ``--address`` says otherwise) with Streamlit's usage statistics off, so the app
sends nothing anywhere. Streamlit always runs headless: it never asks for an e-mail
address (its first-run prompt, which stops a fresh home and exits 255 without a terminal)
and never opens a browser itself; ``--open`` opens one here once the server answers.
``--results`` is the ``python -m evaluation.compare`` folder the leaderboard explorer opens
first (default: the newest under ``results/``, see :mod:`evaluation.latest`; it can be
changed in the page); the folder is printed on start and shown in the page.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
import urllib.request
import webbrowser
from pathlib import Path

from evaluation.app import RESULTS_ENV
from evaluation.latest import latest_results

__all__ = ["main", "streamlit_command"]

SCRIPT = Path(__file__).with_name("main.py")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m evaluation.app",
        description="Start the interactive app: pooled procurement, leaderboard explorer, "
        "episode viewer (Streamlit).",
    )
    p.add_argument(
        "--results",
        type=Path,
        default=None,
        help="python -m evaluation.compare output folder for the leaderboard explorer "
        "(default: the newest folder with a summary.json under results/, else "
        "results/compare)",
    )
    p.add_argument("--port", type=int, default=8501, help="TCP port (default: 8501)")
    p.add_argument(
        "--address",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only)",
    )
    p.add_argument(
        "--open",
        "--browser",
        dest="open",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="open a browser tab once the server answers (default: off, the address is "
        "printed; --browser is the same)",
    )
    return p


def streamlit_command(args: argparse.Namespace) -> list[str]:
    """The ``python -m streamlit run ...`` command line for the parsed arguments."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(SCRIPT),
        "--server.port",
        str(args.port),
        "--server.address",
        args.address,
        # Headless always: no first-run e-mail prompt, no browser opened by Streamlit
        # (--open opens one from here, see _open_when_up).
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--browser.serverAddress",
        args.address,
        # Watching the source tree for edits is a developer convenience; it costs inotify
        # handles and CPU on a shared machine.
        "--server.fileWatcherType",
        "none",
        # No "Deploy" button or developer menu: the app is a local viewer.
        "--client.toolbarMode",
        "minimal",
    ]


def main(argv: list[str] | None = None) -> int:
    """Start the app (this process becomes the server); returns 2 on bad arguments."""
    args = _parser().parse_args(argv)
    if not 0 < args.port < 65536:
        print(f"error: --port={args.port}; expected 1-65535", file=sys.stderr)
        return 2
    if importlib.util.find_spec("streamlit") is None or importlib.util.find_spec("plotly") is None:
        print("error: the app needs Streamlit and Plotly: pip install -e '.[app]'", file=sys.stderr)
        return 2
    results, why = (args.results, "--results") if args.results else latest_results()
    url = f"http://{_display_host(args.address)}:{args.port}"
    print(f"app: {url} (Ctrl-C stops it)", flush=True)
    print(f"leaderboard explorer: results from {results.resolve()} ({why})", flush=True)
    if not (results / "summary.json").is_file():
        make = f"--quick --out {results}" if args.results else "--quick (writes results/quick)"
        print(f"  no results there yet; make some with: python -m evaluation.compare {make}",
              flush=True)  # fmt: skip
    if args.open:
        _open_when_up(url)
    env = {**os.environ, RESULTS_ENV: str(results.resolve())}
    # The server must import this checkout's packages, wherever it is started from.
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    # Replace this process with the server (same PID), so Ctrl-C and a supervisor's
    # SIGTERM reach Streamlit itself and no orphan is left behind.
    cmd = streamlit_command(args)
    os.execve(cmd[0], cmd, env)
    return 0  # not reached: execve does not return


def _display_host(address: str) -> str:
    """The host a browser on this machine uses for a listening address."""
    return "127.0.0.1" if address in ("", "0.0.0.0", "::") else address


def _wait_and_open(url: str, timeout_s: float = 120.0) -> None:
    """Poll the server's health check, then open ``url`` in the default browser."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        return
    if not webbrowser.open(url):
        print(f"app: no browser found here; open {url} yourself", flush=True)


def _open_when_up(url: str) -> None:
    """Open the browser from a detached grandchild once the server answers.

    This process becomes the server (``execve``), so the waiting happens in a grandchild
    that nobody needs to reap: the child forks it and exits at once, and is reaped here.
    Without ``fork`` (Windows) the browser opens now and the page loads when ready.
    """
    if not hasattr(os, "fork"):
        webbrowser.open(url)
        return
    child = os.fork()
    if child:
        os.waitpid(child, 0)
        return
    try:
        if os.fork() == 0:
            os.setsid()
            _wait_and_open(url)
    finally:
        os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
