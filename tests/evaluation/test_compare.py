"""``python -m evaluation.compare`` end to end: outputs, custom agents, failures, resume, names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from evaluation import compare, grid


class Idle:
    """A custom agent (imported by path): the coalition and members send all-zero actions."""

    def __init__(self, level: float = 0.0) -> None:
        self.level, self.controls = level, []

    def reset(self, env: Any, seed: int | None = None) -> None:
        groups = env.agent_groups
        self.controls = groups["coalition"] + groups.get("members", [])
        self.shapes = {a: env.action_space(a).shape for a in self.controls}

    def act(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {a: np.full(self.shapes[a], self.level, np.float32) for a in self.controls}


class Crash(Idle):
    """Raises in the middle of the episode."""

    def act(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        raise RuntimeError("boom at this hour")


class NaNActions(Idle):
    """Returns invalid (NaN) actions."""

    def act(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {a: np.full(self.shapes[a], np.nan, np.float32) for a in self.controls}


TINY = ["--scenarios", "default", "--seeds", "1", "--days", "1", "--no-progress", "--no-plots"]


def test_quick_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # In-process cells (--cell-timeout 0): worker processes have their own tests
    # (test_cell_isolation.py); here each would load the compiled step again.
    argv = ["--quick", "--out", str(tmp_path), "--no-progress", "--cell-timeout", "0"]
    assert compare.main(argv) == 0
    printed = capsys.readouterr().out
    suite = grid.load_suite("quick")
    df = pd.read_csv(tmp_path / "results.csv")
    assert len(df) == len(suite.agents) * len(suite.scenarios) * suite.n_seeds
    assert set(df.seed) == {1000, 1001}  # held-out evaluation seeds
    assert set(df.split) == {"train", "heldout"}
    ok = df[df.status == "ok"]
    ref = ok[ok.agent.isin(["individual", "oracle"]) & ok.normalised_score.notna()]
    assert len(ref) > 0
    expect = np.where(ref.agent == "oracle", 1.0, 0.0)
    assert np.allclose(ref.normalised_score, expect)
    for name in ("summary.json", "leaderboard.md", "score.png", "heatmap.png", "week.png",
                 "member_savings.png"):  # fmt: skip
        assert (tmp_path / name).stat().st_size > 0, name
    summary = json.loads((tmp_path / "summary.json").read_text())
    # The money by scenario, its legend and a reason for each scenario with a loss.
    money = {m["scenario"]: m for m in summary["by_scenario"]}
    assert set(money) == set(suite.scenarios)
    for m in money.values():
        assert set(m["agents"]) == set(suite.agents) and m["alone_eur_per_week"] > 0
    losing = {s for s, m in money.items() if any(a["saving_eur_per_week"] < 0
                                                  for a in m["agents"].values())}  # fmt: skip
    assert {r["scenario"] for r in summary["loss_reasons"]} == losing
    for r in summary["loss_reasons"]:
        assert r["line"] in printed and r["market"] in r["line"]
    assert "members_saving_eur_per_member_week" in summary["legend"]
    assert "- *bills alone EUR/week*: " in printed and "- *Lerner*: " in printed
    ranked = [r["agent"] for r in summary["agents"]]
    assert printed.count("\n| ") >= len(suite.agents)  # header + one row per agent
    for i, agent in enumerate(ranked, 1):
        assert f"| {i} | `{agent}` |" in printed
    scores = [r["normalised_score_iqm"] for r in summary["agents"]]  # NaN written as null
    finite = [s for s in scores if s is not None]
    assert len(finite) >= 4 and finite == sorted(finite, reverse=True)  # ranked by the score
    assert scores[len(finite) :] == [None] * (len(scores) - len(finite))  # n/a ranked last


def test_custom_agent_and_failures_are_shown(tmp_path: Path, capsys) -> None:
    agents = [
        "individual",
        "oracle",
        "tests.evaluation.test_compare:Idle",
        "tests.evaluation.test_compare:Crash",
        "tests.evaluation.test_compare:NaNActions",
    ]
    assert compare.main(["--agents", *agents, "--out", str(tmp_path), *TINY]) == 0
    printed = capsys.readouterr().out
    assert "`tests.evaluation.test_compare:Idle`" in printed
    df = pd.read_csv(tmp_path / "results.csv").set_index("agent")
    assert df.loc["tests.evaluation.test_compare:Idle", "status"] == "ok"
    assert np.isfinite(df.loc["tests.evaluation.test_compare:Idle", "normalised_score"])
    assert df.loc["tests.evaluation.test_compare:Crash", "status"] == "failed"
    assert (
        "RuntimeError: boom at this hour" in df.loc["tests.evaluation.test_compare:Crash", "error"]
    )
    assert "ActionError" in df.loc["tests.evaluation.test_compare:NaNActions", "error"]
    assert "NaN" in df.loc["tests.evaluation.test_compare:NaNActions", "error"]
    assert "`tests.evaluation.test_compare:Crash` failed 1/1 cells: RuntimeError: boom" in printed
    assert (df.loc[["individual", "oracle"], "status"] == "ok").all()  # the rest completed


@pytest.mark.slow  # 9 s: two grid runs
def test_resume_skips_finished_cells(tmp_path: Path) -> None:
    argv = [
        "--agents",
        "rule",
        "tests.evaluation.test_compare:Crash",
        "--out",
        str(tmp_path),
        *TINY,
    ]
    assert compare.main(argv) == 0
    ok_cell = grid.Cell("multimarket_v1", "rule", "default", 1000, 1)
    bad_cell = grid.Cell(
        "multimarket_v1", "tests.evaluation.test_compare:Crash", "default", 1000, 1
    )
    for cell in (ok_cell, bad_cell):  # mark both stored results
        data = grid.read_cell(tmp_path, cell)
        grid.write_json_atomic(grid.cell_path(tmp_path, cell), {**data, "marker": 1})
    assert compare.main([*argv, "--resume"]) == 0
    assert grid.read_cell(tmp_path, ok_cell)["marker"] == 1  # finished: skipped
    assert "marker" not in grid.read_cell(tmp_path, bad_cell)  # failed: run again
    # A stored cell of another episode length is not a finished cell of this grid.
    assert compare.main([*argv, "--days", "2", "--resume"]) == 0  # the last --days wins
    longer = grid.read_cell(tmp_path, grid.Cell("multimarket_v1", "rule", "default", 1000, 2))
    assert longer is not None and "marker" not in longer


@pytest.mark.parametrize(
    ("argv", "needle", "valid"),
    [
        (["--agents", "rule", "nosuchagent"], "unknown agent 'nosuchagent'", "mpc"),
        (["--scenarios", "nowhere"], "unknown scenario 'nowhere'", "heatwave_scarcity"),
        (["--env", "nope_v0"], "unknown env 'nope_v0'", "reservation_exchange_v0"),
        (["--suite", "nosuite"], "unknown suite 'nosuite'", "heldout"),
        (["--env", "reservation_exchange_v0", "--agents", "mpc"], "unknown agent 'mpc'", "zi_c"),
        # A malformed class path is a bad name too (was: exit 0 with a failed cell).
        (["--agents", "rule", "..:x"], "agent path '..:x' is not of the form", "mpc"),
        (["--agents", "rule+../x.py:Y"], "agent path '../x.py:Y' is not of the form", "mpc"),
    ],
)
def test_unknown_names_exit_2_with_one_line(tmp_path, capsys, argv, needle, valid) -> None:
    assert compare.main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert needle in err and valid in err
    assert not (tmp_path / "results.csv").exists()


def test_reservation_exchange_leaderboard(tmp_path: Path, capsys) -> None:
    argv = ["--env", "reservation_exchange_v0", "--seeds", "1", "--out", str(tmp_path)]
    assert compare.main([*argv, "--no-progress", "--no-plots"]) == 0
    printed = capsys.readouterr().out
    for name in ("`zi_c`", "`market_maker`", "`no_loss`", "alloc. efficiency", "spread EUR/MWh"):
        assert name in printed
    df = pd.read_csv(tmp_path / "results.csv")
    assert (df.status == "ok").all() and len(df) == 3
    assert ((df.fill_ratio > 0) & (df.fill_ratio <= 1)).all()
    assert (df.imbalance_mwh >= 0).all() and (df.n_trades > 0).all()


@pytest.mark.slow
def test_ray_backend_runs_the_same_cells(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    cells = [grid.Cell("multimarket_v1", "rule", "default", s, 1) for s in (1000, 1001)]
    local = grid.run_grid(cells, tmp_path / "local", progress=False)
    remote = grid.run_grid(cells, tmp_path / "ray", backend="ray", workers=1, progress=False)
    assert [r["status"] for r in remote] == ["ok", "ok"]
    for a, b in zip(local, remote, strict=True):
        assert a["metrics"] == pytest.approx(b["metrics"], nan_ok=True)  # same episodes
    assert grid.read_cell(tmp_path / "ray", cells[1]) is not None


def _children(pid: int) -> list[int]:
    """Live child processes of ``pid`` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_ctrl_c_prints_one_line_and_stops_the_workers(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    # 200 cells: far more than the workers finish before the signal, on any machine.
    argv = ["--agents", "rule", "--scenarios", "default", "--seeds", "200", "--days", "7",
            "--workers", "2", "--out", str(tmp_path), "--no-plots"]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "evaluation.compare", *argv],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell's background job starts with SIGINT ignored, and Python then keeps
        # ignoring it; give the child the default so Ctrl-C reaches it as in a terminal.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    workers: list[int] = []
    deadline = time.monotonic() + 120
    while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        # the resource tracker is a child too; the workers are the spawn_main ones
        workers = [
            c for c in _children(proc.pid)
            if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()
        ]  # fmt: skip
    assert len(workers) == 2, "the two workers did not start"
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)  # the main process only, as `kill -INT` does
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    lines = [ln for ln in err.splitlines() if ln.strip() and "cells:" not in ln]
    assert "Traceback" not in err and len(lines) == 1, err
    assert lines[0].startswith("interrupted: ") and "of 200 cells finished" in lines[0]
    assert "--resume" in lines[0] and str(tmp_path / "cells") in lines[0]
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers), "a worker outlived the main process"


def test_scenario_yaml_paths_in_the_command_line_and_in_a_suite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    own = tmp_path / "scen" / "small.yaml"
    own.parent.mkdir()
    own.write_text("extends: default\nmembers:\n  count: 6\n")
    out = tmp_path / "out"
    argv = ["--agents", "rule", "--scenarios", str(own), "--seeds", "1", "--days", "1",
            "--no-progress", "--no-plots", "--out", str(out)]  # fmt: skip
    assert compare.main(argv) == 0
    df = pd.read_csv(out / "results.csv")
    assert df.scenario.tolist() == [str(own)] and df.split.tolist() == ["file"]
    assert df.n_members.tolist() == [6.0] and (df.status == "ok").all()
    # A suite file names the scenario relative to itself.
    suite = tmp_path / "scen" / "suite.yaml"
    suite.write_text("scenarios: [small.yaml]\nagents: [rule]\nn_seeds: 1\ndays: 1\n")
    assert grid.load_suite(str(suite)).scenarios == (str(own),)
    capsys.readouterr()
    argv = ["--suite", str(suite), "--no-progress", "--no-plots", "--out", str(out)]
    assert compare.main(argv) == 0
    assert f"`{own}`" in capsys.readouterr().out  # its row of the table by scenario


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("extends: default\nmembers:\n  colour: red\n", "unknown key members.colour"),
        ("extends: default\nmembers: [1, 2\n", "while parsing"),
    ],
)
def test_a_bad_scenario_file_exits_2_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, needle: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    assert compare.main(["--scenarios", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad) in err and needle in err, err
    assert compare.main(["--scenarios", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml' does not exist" in capsys.readouterr().err
    suite = tmp_path / "suite.yaml"
    suite.write_text("agents: [rule]\nn_seeds: 0\n")
    assert compare.main(["--suite", str(suite), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"suite file {suite}" in err and "n_seeds=0" in err


def test_unknown_week_agent_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert compare.main(["--quick", "--week-agent", "mpcc", "--out", str(tmp_path)]) == 2
    assert "--week-agent 'mpcc'" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["file", "/dev/full"])
def test_an_out_that_is_a_file_exits_2_naming_it(tmp_path: Path, capsys, where: str) -> None:
    out = tmp_path / "results.txt" if where == "file" else Path(where)
    if where == "file":
        out.write_text("not a folder")
    assert compare.main(["--agents", "rule", "--out", str(out), *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: --out {out} is a file, not a folder; expected a folder for the results "
        "(it is made if missing)"
    )


@pytest.mark.parametrize("name", ["summary.json", "results.csv", "leaderboard.md"])
def test_an_output_file_that_is_a_folder_is_named_not_its_temporary_file(
    tmp_path: Path, capsys, name: str
) -> None:
    (tmp_path / name).mkdir()
    assert compare.main(["--agents", "rule", "--out", str(tmp_path), *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: Is a directory: {tmp_path / name}"
