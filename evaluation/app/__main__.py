"""``python -m evaluation.app [--results DIR] [--port N]``: start the web app.

Runs ``streamlit run evaluation/app/main.py`` bound to 127.0.0.1 (this machine only,
unless ``--address`` says otherwise) with Streamlit's usage statistics off, so the app
sends nothing anywhere. ``--results`` is the ``python -m evaluation.compare`` folder the
leaderboard explorer opens first (it can be changed in the page).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

from evaluation.app import RESULTS_ENV

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
        default=Path("results/compare"),
        help="python -m evaluation.compare output folder for the leaderboard explorer "
        "(default: results/compare)",
    )
    p.add_argument("--port", type=int, default=8501, help="TCP port (default: 8501)")
    p.add_argument(
        "--address",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only)",
    )
    p.add_argument(
        "--browser",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="open a browser tab on start (default: on; --no-browser for servers)",
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
        "--server.headless",
        "false" if args.browser else "true",
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
    env = {**os.environ, RESULTS_ENV: str(args.results.resolve())}
    # The server must import this checkout's packages, wherever it is started from.
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    # Replace this process with the server (same PID), so Ctrl-C and a supervisor's
    # SIGTERM reach Streamlit itself and no orphan is left behind.
    cmd = streamlit_command(args)
    os.execve(cmd[0], cmd, env)
    return 0  # not reached: execve does not return


if __name__ == "__main__":
    raise SystemExit(main())
