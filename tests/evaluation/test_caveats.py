"""What a leaderboard says about itself: smoke run, ties, a missing baseline, file labels."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evaluation import caveats, compare


def _row(agent: str, low: float, high: float) -> dict:
    return {"agent": agent, "s_iqm_low": low, "s_iqm_high": high}


def test_overlap_groups_chain_neighbours_in_rank_order() -> None:
    rows = [_row("a", 0.9, 1.0), _row("b", 0.5, 0.7), _row("c", 0.6, 0.8), _row("d", 0.4, 0.55),
            _row("e", 0.1, 0.2), _row("f", float("nan"), float("nan"))]  # fmt: skip
    # b and c overlap; d's top (0.55) is below c's bottom (0.6), so d stands alone.
    assert caveats.overlap_groups(rows, "s_iqm") == [["b", "c"]]
    rows[3] = _row("d", 0.4, 0.65)
    assert caveats.overlap_groups(rows, "s_iqm") == [["b", "c", "d"]]
    assert caveats.overlap_groups([_row("x", 0, 1), _row("y", 2, 3)], "s_iqm") == []


def test_ranking_notes_say_smoke_run_only_for_quick() -> None:
    rows = [_row("mappo", 0.3, 0.9), _row("mpc", 0.4, 0.7)]
    quick = caveats.ranking_notes(rows, "s_iqm", quick=True, grid="3 scenarios x 2 seeds")
    assert quick[0].startswith("SMOKE RUN (--quick, 3 scenarios x 2 seeds)")
    assert "not significant" in quick[0] and "`mappo`, `mpc`" in quick[1]
    full = caveats.ranking_notes(rows, "s_iqm", quick=False, grid="")
    assert len(full) == 1 and full[0].startswith("note: overlapping 95% intervals")


def test_present_baseline_falls_back_to_the_strongest_run() -> None:
    assert caveats.present_baseline("mpc", ["rule", "mpc"]) == ("mpc", None)
    chosen, note = caveats.present_baseline("mpc", ["oracle", "rule", "admm"])
    assert chosen == "admm" and "`mpc` (the suite's baseline) was not run" in note
    assert caveats.present_baseline("mpc", ["pkg.mod:Mine", "oracle"])[0] == "pkg.mod:Mine"


def test_scenario_labels_use_the_files_name(tmp_path: Path) -> None:
    named, bare, clash = (tmp_path / f"{n}.yaml" for n in ("named", "bare", "clash"))
    named.write_text("name: my_windy\nextends: windy_winter\n")
    bare.write_text("extends: default\n")
    clash.write_text("name: default\nextends: default\n")
    given = ["default", str(named), str(bare), str(clash)]
    labels = caveats.scenario_labels(given, set(given[1:]), ["default", "windy_winter"])
    assert labels == {"default": "default", str(named): "my_windy", str(bare): str(bare),
                      str(clash): str(clash)}  # fmt: skip


# In-process cells (--cell-timeout 0): these tests read the leaderboard's text; worker
# processes (64 s of the default suite here) have their own tests (test_cell_isolation.py).
TINY = ["--seeds", "1", "--days", "1", "--no-progress", "--no-plots", "--resamples", "50",
        "--cell-timeout", "0"]  # fmt: skip


def test_quick_leaderboard_says_smoke_run_and_labels_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    own = tmp_path / "mine.yaml"
    own.write_text("name: small_default\nextends: default\nmembers:\n  count: 6\n")
    out = tmp_path / "out"
    argv = ["--quick", "--agents", "individual", "rule", "oracle", "--scenarios", str(own),
            "--out", str(out), *TINY]  # fmt: skip
    assert compare.main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("SMOKE RUN (--quick, 1 scenarios x 1 seeds x 1 days)")
    # mpc was not run: P(> X) compares with the strongest baseline that was, not n/a.
    assert "P(> individual) [95% CI]" in printed and "`mpc` (the suite's baseline)" in printed
    assert f"python -m evaluation.app --results {out}" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["smoke_run"] is True and summary["notes"][0].startswith("SMOKE RUN")
    assert summary["scenario_labels"] == {str(own): "small_default"}
    assert summary["suite"]["baseline"] == "individual"
    assert pd.read_csv(out / "results.csv").scenario.unique().tolist() == ["small_default"]
    p = {r["agent"]: r["p_improve"] for r in summary["agents"]}
    assert p["oracle"] is not None and p["rule"] is not None
