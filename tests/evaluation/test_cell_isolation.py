"""``compare`` contains each cell (issue 18 item 4): an agent's ``sys.exit``, ``os._exit``,
crash or hang fails its own cell with the reason in the table, every other cell still
runs, a summary is written even when every cell fails, and no worker outlives a SIGKILLed
main process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import compare
from tests.evaluation.test_compare import TINY, Idle

AGENT = "tests.evaluation.test_cell_isolation:"


class Exits(Idle):
    """Calls sys.exit in act (before: ended the whole grid)."""

    def act(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        sys.exit(3)


class HardExits(Idle):
    """Calls os._exit in act (before: BrokenProcessPool, 0 cells written)."""

    def act(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        os._exit(7)


class Segfaults(Idle):
    """Its process dies of a signal, as a crash in native code would."""

    def act(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        os.kill(os.getpid(), signal.SIGSEGV)
        return super().act(obs)


class Sleeps(Idle):
    """Never answers (before: held its worker forever, no cell written)."""

    def act(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        time.sleep(3600)
        return super().act(obs)


class Spins(Idle):
    """Busy-loops in Python forever."""

    def act(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        while True:
            pass


def _table(tmp_path: Path, agents: list[str], *extra: str) -> pd.DataFrame:
    argv = ["--agents", *agents, "--out", str(tmp_path), "--cell-timeout", "20", *TINY, *extra]
    assert compare.main(argv) == 0
    assert (tmp_path / "summary.md").is_file() or list(tmp_path.glob("*.md"))
    return pd.read_csv(tmp_path / "results.csv").set_index("agent")


# One worker (the other layout of the same isolation) is kept for -m slow: each variant
# waits for two 20 s time limits.
@pytest.mark.parametrize("workers", [pytest.param("1", marks=pytest.mark.slow), "2"])
def test_exits_crashes_and_hangs_fail_their_own_cell_only(tmp_path: Path, workers) -> None:
    bad = {"Exits": "sys.exit(3)", "HardExits": "exited with code 7",
           "Segfaults": "SIGSEGV", "Sleeps": "timed out after 20 s",
           "Spins": "timed out after 20 s"}  # fmt: skip
    df = _table(tmp_path, ["rule", *(AGENT + a for a in bad), "individual"], "--workers", workers)
    for name, needle in bad.items():
        row = df.loc[AGENT + name]
        assert row["status"] == "failed" and needle in row["error"], (name, row["error"])
    assert (df.loc[["rule", "individual"], "status"] == "ok").all()


def test_a_summary_is_written_when_every_cell_fails(tmp_path: Path, capsys) -> None:
    # Before: KeyError: 'members_saving_eur' and no summary.
    df = _table(tmp_path, [AGENT + "Exits", "tests.evaluation.test_compare:Crash"])
    assert (df["status"] == "failed").all()
    printed = capsys.readouterr().out
    assert "0/2 cells ok" in printed


@pytest.mark.slow  # waits for both workers to start and sit in their cells
def test_no_worker_outlives_a_killed_main_process(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "evaluation.compare", "--agents", AGENT + "Sleeps",
            AGENT + "Spins", "--workers", "2", "--out", str(tmp_path), *TINY]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=Path(__file__).parents[2])
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while len(workers) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
        out = subprocess.run(["pgrep", "-P", str(proc.pid), "-f", "spawn_main"],
                             capture_output=True, text=True).stdout  # fmt: skip
        workers = [int(p) for p in out.split()]
    assert len(workers) == 2, "the two workers did not start"
    time.sleep(5)  # both are inside their never-ending cells
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 15
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers), "a worker outlived the main process"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")
