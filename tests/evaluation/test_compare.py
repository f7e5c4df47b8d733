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
    assert compare.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
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
    for name in ("summary.json", "leaderboard.md", "score.png", "heatmap.png", "week.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    summary = json.loads((tmp_path / "summary.json").read_text())
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
    ok_cell = grid.Cell("multimarket_v0", "rule", "default", 1000, 1)
    bad_cell = grid.Cell(
        "multimarket_v0", "tests.evaluation.test_compare:Crash", "default", 1000, 1
    )
    for cell in (ok_cell, bad_cell):  # mark both stored results
        data = grid.read_cell(tmp_path, cell)
        grid.write_json_atomic(grid.cell_path(tmp_path, cell), {**data, "marker": 1})
    assert compare.main([*argv, "--resume"]) == 0
    assert grid.read_cell(tmp_path, ok_cell)["marker"] == 1  # finished: skipped
    assert "marker" not in grid.read_cell(tmp_path, bad_cell)  # failed: run again
    # A stored cell of another episode length is not a finished cell of this grid.
    assert compare.main([*argv, "--days", "2", "--resume"]) == 0  # the last --days wins
    longer = grid.read_cell(tmp_path, grid.Cell("multimarket_v0", "rule", "default", 1000, 2))
    assert longer is not None and "marker" not in longer


@pytest.mark.parametrize(
    ("argv", "needle", "valid"),
    [
        (["--agents", "rule", "nosuchagent"], "unknown agent 'nosuchagent'", "mpc"),
        (["--scenarios", "nowhere"], "unknown scenario 'nowhere'", "heatwave_scarcity"),
        (["--env", "nope_v0"], "unknown env 'nope_v0'", "reservation_exchange_v0"),
        (["--suite", "nosuite"], "unknown suite 'nosuite'", "heldout"),
        (["--env", "reservation_exchange_v0", "--agents", "mpc"], "unknown agent 'mpc'", "zi_c"),
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
    cells = [grid.Cell("multimarket_v0", "rule", "default", s, 1) for s in (1000, 1001)]
    local = grid.run_grid(cells, tmp_path / "local", progress=False)
    remote = grid.run_grid(cells, tmp_path / "ray", backend="ray", workers=1, progress=False)
    assert [r["status"] for r in remote] == ["ok", "ok"]
    for a, b in zip(local, remote, strict=True):
        assert a["metrics"] == pytest.approx(b["metrics"], nan_ok=True)  # same episodes
    assert grid.read_cell(tmp_path / "ray", cells[1]) is not None
