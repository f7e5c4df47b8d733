"""``python -m evaluation.calibrate``: the table builder on fake episodes; the CLI end to end."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from evaluation import calibrate
from evaluation.calibrate import COLUMNS, TARGETS, build_table, episode_figures, markdown


def _figures(**over: float) -> dict[str, float]:
    base = dict.fromkeys((k for k, _ in COLUMNS), 0.5)
    return base | over


def test_episode_figures_by_hand():
    """Two days of 24 h: prices 100 except one hour at the 3000 cap and one at 500;
    2 MWh unserved; capacity 150 EUR/MW-day against a Net CONE of 300; saving 200 EUR.
    Mean price (22 * 100 + 3000 + 500) / 24 per day; per week: x 7 / 2."""
    price = np.full(48, 100.0)
    price[5], price[30] = 3000.0, 500.0
    market = {
        "price_eur_per_mwh": price,
        "unserved_energy_mwh": np.r_[2.0, np.zeros(47)],
        "reserve_price_eur_per_mw": np.full(48, 4.0),
        "capacity_price_eur_per_mw_day": np.full(48, 150.0),
    }
    f = episode_figures(
        market, 200.0, days=2, price_cap_eur_per_mwh=3000.0, net_cone_eur_per_mw_day=300.0
    )
    assert f["price_mean_eur_per_mwh"] == pytest.approx((46 * 100 + 3000 + 500) / 48)
    assert f["price_max_eur_per_mwh"] == 3000.0
    assert f["hours_at_cap_per_week"] == pytest.approx(3.5)
    assert f["unserved_mwh_per_week"] == pytest.approx(7.0)
    assert f["reserve_price_eur_per_mw"] == 4.0
    assert f["capacity_price_over_net_cone"] == pytest.approx(0.5)
    assert math.isnan(f["markup_energy_weighted"])  # not published by the env
    assert f["members_saving_eur_per_week"] == pytest.approx(700.0)
    no_cone = episode_figures(
        market, 0.0, days=2, price_cap_eur_per_mwh=3000.0, net_cone_eur_per_mw_day=None,
        capacity_enabled=False,
    )  # fmt: skip
    assert math.isnan(no_cone["capacity_price_over_net_cone"])
    assert math.isnan(no_cone["capacity_price_eur_per_mw_day"])


def test_build_table_aggregates_and_flags():
    """Mean over seeds (max for the maximum price); flags where outside the band; n/a
    stays n/a (None) and is never flagged."""
    runs = [
        _figures(price_mean_eur_per_mwh=80.0, price_max_eur_per_mwh=200.0,
                 hours_at_cap_per_week=0.0, markup_energy_weighted=math.nan),
        _figures(price_mean_eur_per_mwh=100.0, price_max_eur_per_mwh=2500.0,
                 hours_at_cap_per_week=4.0, markup_energy_weighted=math.nan),
    ]  # fmt: skip
    table = build_table({"cheap": runs, "dear": [_figures(price_mean_eur_per_mwh=400.0)]})
    assert list(table) == ["cheap", "dear"]
    row = table["cheap"]
    assert row["price_mean_eur_per_mwh"] == {
        "value": 90.0, "low": 50.0, "high": 150.0, "outside": False,
    }  # fmt: skip
    assert row["price_max_eur_per_mwh"]["value"] == 2500.0
    assert row["price_max_eur_per_mwh"]["outside"] is True  # above 1000
    assert row["hours_at_cap_per_week"]["value"] == 2.0
    assert row["hours_at_cap_per_week"]["outside"] is True
    assert row["markup_energy_weighted"] == {
        "value": None, "low": 0.0, "high": 0.15, "outside": None,
    }  # fmt: skip
    assert row["members_saving_eur_per_week"]["high"] is None  # open band
    assert table["dear"]["price_mean_eur_per_mwh"]["outside"] is True
    text = markdown(table)
    assert "| dear | 400 ! |" in text
    assert "| n/a |" in text
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert len(rows) == 5  # header, separator, target bands, two scenarios
    json.dumps(table)  # plain JSON: None for n/a, no NaN


def test_every_column_has_a_cited_target():
    assert {k for k, _ in COLUMNS} == set(TARGETS)
    for t in TARGETS.values():
        assert t.low <= t.high and t.source


def test_cli_json_one_scenario(capsys):
    """One scenario, one seed, one day: stdout is one JSON object with every column."""
    rc = calibrate.main(["--scenarios", "default", "--seeds", "1", "--days", "1", "--json"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["seeds"] == [1000] and doc["days"] == 1 and doc["policy"] == "rule"
    row = doc["scenarios"]["default"]
    assert set(row) == set(TARGETS)
    assert row["price_mean_eur_per_mwh"]["value"] > 0
    assert set(doc["targets"]) == set(TARGETS)


def test_cli_bad_scenario(capsys):
    assert calibrate.main(["--scenarios", "nowhere", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "unknown nowhere" in err and "default" in err


def test_write_readme_replaces_only_the_marked_table(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{calibrate.BEGIN}\nold table\n{calibrate.END}\noutro\n")
    args = ["--scenarios", "default", "--seeds", "1", "--days", "1", "--no-progress"]
    assert calibrate.main([*args, "--write-readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("\noutro\n")
    assert "old table" not in text and "| default |" in text
    assert "--seeds 1 --days 1 --write-readme" in text  # the command that wrote it
    readme.write_text("no markers")
    assert calibrate.main([*args, "--write-readme", str(readme)]) == 2
    assert "markers" in capsys.readouterr().err


@pytest.mark.slow
def test_the_readme_table_is_what_the_command_writes(tmp_path):
    """The README's calibration table is current: rewriting it changes nothing."""
    from pathlib import Path

    readme = Path(__file__).resolve().parents[2] / calibrate.PAGE
    copy = tmp_path / "README.md"
    copy.write_text(readme.read_text())
    rc = calibrate.main(["--seeds", "3", "--days", "7", "--no-progress",
                         "--write-readme", str(copy)])  # fmt: skip
    assert rc == 0
    assert copy.read_text() == readme.read_text()
