"""``training.ship`` writes under the current folder, never into the installed package, and
the training bar calls the members' saving what the run's last line calls it."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch", reason="training needs the [train] extra")

from tests.training.test_training import CONFIGS, TINY
from training import ship, train


def _package_files() -> dict[str, float]:
    return {p.name: p.stat().st_mtime for p in ship.PACKAGE_DEST.iterdir()}


def test_ship_defaults_to_runs_shipped_and_the_bar_says_members_saving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    argv = ["--config", str(CONFIGS / "mappo.yaml"), "--out", str(run), *TINY,
            "--total-steps", "96", "--progress"]  # fmt: skip
    assert train.main(argv) == 0
    printed = capsys.readouterr()
    bar = printed.err.replace("\r", "\n")
    assert "members' saving" in bar and "return" not in bar
    assert "last episode: members' saving" in printed.out

    before = _package_files()
    monkeypatch.chdir(tmp_path)
    assert ship.main([str(run), "--name", "mappo"]) == 0
    out = capsys.readouterr().out
    shipped = tmp_path / "runs" / "shipped"
    for name in ("mappo.pt", "mappo.yaml", "mappo_curve.png", "mappo_training.json"):
        assert (shipped / name).stat().st_size > 0, name
    assert _package_files() == before  # the package's own policies untouched
    assert "checkpoint=runs/shipped/mappo.pt" in out
    import agents

    agents.load("mappo", checkpoint=str(shipped / "mappo.pt"))  # the export loads
