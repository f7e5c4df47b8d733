"""The web app's pages under Streamlit's headless test API (issue 17), and their logic.

Each page runs as a script in :class:`streamlit.testing.v1.AppTest` (no browser, no
server); the figures it shows are checked against the command-line tools' own numbers
(``evaluation.cfe.run``, ``summary.json``/``results.csv`` of ``evaluation.compare``,
``evaluation.episode.play_cell``). The browser check is ``tests/evaluation/test_app_browser.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("streamlit", reason="the app needs the [app] extra (streamlit, plotly)")
pytest.importorskip("plotly", reason="the app needs the [app] extra (streamlit, plotly)")

from streamlit.testing.v1 import AppTest

from envs.errors import ConfigError
from envs.market.billing import is_worse_off
from evaluation import compare
from evaluation import episode as episode_cli
from evaluation.app import RESULTS_ENV, pooled
from evaluation.app import __main__ as app_cli
from evaluation.app import episode as epi
from evaluation.app import leaderboard as lb
from evaluation.grid import Cell

TIMEOUT_S = 120  # first runs compile numba code or read package data


def page(name: str) -> AppTest:
    """An AppTest running one page's ``render()`` as the whole script."""
    script = f"from evaluation.app import {name}_page\n{name}_page.render()\n"
    return AppTest.from_string(script, default_timeout=TIMEOUT_S)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


# --- Pooled procurement -------------------------------------------------------------------


def test_pooled_add_run_matches_cli() -> None:
    """Two shipped buyers plus one added in the page: the page's pool scores are the CLI's."""
    at = page("pooled")
    at.session_state["pool_frame"] = pooled.default_frame().iloc[:2]
    at.run()
    assert not at.exception
    at.button(key="pool_add").click().run()
    frame = at.session_state["pool_frame"]
    assert list(frame.name) == ["data_centre", "hospital", "participant_3"]
    at.button(key="pool_run_button").click().run()
    assert not at.exception and not at.error
    report = pooled.simulate(pooled.scenario_from_frame(frame)).report
    shown = metrics(at)
    for key, label in pooled.SCORES.items():
        assert shown[f"Pool {label}"] == f"{report[key]['pool']:.2f} %"
    # The participant added in the page is in the run, with its 50 GWh load.
    assert report["annual_load_mwh"]["participant_3"] == pytest.approx(50_000.0)
    assert at.download_button  # the hourly CSV is offered


def test_pooled_remove_participant_and_bad_table() -> None:
    at = page("pooled")
    at.session_state["pool_frame"] = pooled.default_frame().iloc[:3]
    at.run()
    at.selectbox(key="pool_remove_name").select("hospital").run()
    at.button(key="pool_remove").click().run()
    assert list(at.session_state["pool_frame"].name) == ["data_centre", "retailer"]
    # A pool of one participant without load is refused in the page, not with a traceback.
    bad = pooled.default_frame().iloc[:1].assign(annual_load_mwh=0.0)
    at = page("pooled")
    at.session_state["pool_frame"] = bad
    at.run()
    at.button(key="pool_run_button").click().run()
    assert not at.exception
    assert "annual_load_mwh=0.0" in at.error[0].value


def test_pooled_csv_upload_validated(tmp_path: Path) -> None:
    stamps = pd.date_range("2023-01-01", periods=8760, freq="h").strftime("%Y-%m-%d %H:%M")
    good = pd.DataFrame({"timestamp": stamps, "load_mw": 2.0, "solar_mw": 1.0}).to_csv(index=False)
    at = page("pooled")
    at.session_state["pool_frame"] = pooled.default_frame().iloc[:2]
    at.run()
    at.file_uploader(key="pool_csv_file").upload("bad.csv", b"timestamp,load_kw\n1,2\n").run()
    assert not at.exception
    assert "missing column 'load_mw'" in at.error[0].value
    assert at.session_state["pool_csvs"] == {}
    at.file_uploader(key="pool_csv_file").upload("good.csv", good.encode()).run()
    assert not at.error and "attached to data_centre" in at.success[0].value
    at.button(key="pool_run_button").click().run()
    assert not at.exception and not at.error
    run = at.session_state["pool_run"]
    # A flat uploaded load shape: every hour of data_centre is the same MWh.
    load = run.profiles.load_mwh[:, 0]
    np.testing.assert_allclose(load, load[0])
    assert load.sum() == pytest.approx(175_200.0)


def test_csv_upload_into_a_folder_in_the_way_is_a_message(tmp_path: Path) -> None:
    """A folder where the file goes, or a file where the folder goes: ValueError with the
    path (was IsADirectoryError / FileExistsError); '..' as a name stays in the folder."""
    (tmp_path / "hospital_load.csv").mkdir()
    with pytest.raises(ValueError, match=r"hospital_load\.csv: a folder, not a file\)"):
        pooled.validate_user_csv(b"timestamp,load_mw\n", "hospital_load.csv", tmp_path)
    (tmp_path / "uploads").write_text("a file")
    with pytest.raises(ValueError, match=r"uploads: a file, not a folder\); expected a writable"):
        pooled.validate_user_csv(b"timestamp,load_mw\n", "x.csv", tmp_path / "uploads")
    with pytest.raises(ValueError, match=r"^profile\.csv: 0 rows of data"):
        pooled.validate_user_csv(b"timestamp,load_mw\n", "..", tmp_path / "sub")


def test_scenario_from_frame_names_bad_cells() -> None:
    frame = pooled.default_frame().iloc[:2].copy()
    frame.loc[1, "solar_mwh"] = np.nan
    with pytest.raises(ConfigError, match=r"participants\[hospital\]\.solar MWh/yr is empty"):
        pooled.scenario_from_frame(frame)
    frame = pooled.default_frame().iloc[:2].copy()
    frame.loc[0, "name"] = " "
    with pytest.raises(ConfigError, match="row 1: the name is empty"):
        pooled.scenario_from_frame(frame)
    with pytest.raises(ConfigError, match="participants is empty"):
        pooled.scenario_from_frame(frame.iloc[:0])


def test_monthly_balance_sums_to_the_year() -> None:
    cfg = pooled.scenario_from_frame(pooled.default_frame().iloc[:2])
    run = pooled.simulate(cfg)
    month = pooled.monthly_balance(run, "hospital")
    assert len(month) == 12 and month.month.iloc[0] == "Jan"
    assert month.load_mwh.sum() == pytest.approx(run.report["annual_load_mwh"]["hospital"])
    assert month.solar_mwh.sum() == pytest.approx(run.report["annual_solar_mwh"]["hospital"])
    csv = pd.read_csv(pd.io.common.BytesIO(pooled.hourly_csv_bytes(run)))
    assert len(csv) == 8760 and "hospital_swap_in_mwh" in csv


# --- Leaderboard explorer ----------------------------------------------------------------


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny compare folder: 3 agents x 2 scenarios x 2 seeds of 1 day, run in-process."""
    out = tmp_path_factory.mktemp("compare")
    argv = [
        "--agents",
        "individual",
        "rule",
        "oracle",
        "--scenarios",
        "default",
        "sunny_summer",
        "--seeds",
        "2",
        "--days",
        "1",
        "--out",
        str(out),
        "--no-plots",
        "--no-progress",
        "--resamples",
        "200",
        # In this process: the cells' isolation is tested in test_cell_isolation, and a
        # worker process per cell would pay the imports 12 times.
        "--cell-timeout",
        "0",
    ]
    assert compare.main(argv) == 0
    return out


def test_leaderboard_page_shows_the_cli_ranking(
    results_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RESULTS_ENV, str(results_dir))
    at = page("leaderboard")
    at.run()
    assert not at.exception and not at.error
    # The ranking table's rows are leaderboard.md's: agent and both intervals, same order.
    md = [
        line.split(" | ")
        for line in (results_dir / "leaderboard.md").read_text().splitlines()
        if line.startswith("| 1 ") or line.startswith("| 2 ") or line.startswith("| 3 ")
    ]
    shown = at.table[0].value
    assert [a.strip("`") for _, a, *_ in md] == list(shown.agent)
    assert [row[2] for row in md] == list(shown.iloc[:, 1])
    assert [row[3] for row in md] == list(shown.iloc[:, 2])
    # Drill down into sunny_summer: the per-seed table is results.csv's savings.
    at.selectbox(key="lb_scenario").select("sunny_summer").run()
    assert not at.exception
    per_seed = at.table[1].value
    csv = pd.read_csv(results_dir / "results.csv")
    rule = csv[(csv.agent == "rule") & (csv.scenario == "sunny_summer")].sort_values("seed")
    assert list(per_seed["rule"]) == [f"{v:,.0f}" for v in rule.members_saving_eur]
    label = next(m.label for m in at.metric if m.label.startswith("P("))
    assert label == "P(oracle > rule) on members_saving_eur"


def test_leaderboard_logic(results_dir: Path) -> None:
    res = lb.load_results(results_dir)
    assert res.agents[0] == "oracle"  # the upper reference scores 1 everywhere
    heat = lb.heatmap_table(res)
    assert heat.shape == (2, 3)
    np.testing.assert_allclose(heat["oracle"], 1.0)
    np.testing.assert_allclose(heat["individual"], 0.0)
    sav = lb.member_savings(res, "default")
    csv = res.frame[(res.frame.scenario == "default") & (res.frame.agent == "rule")]
    by_seed = sav[sav.agent == "rule"].groupby("seed").saving_eur.sum()
    np.testing.assert_allclose(by_seed.to_numpy(), csv.sort_values("seed").members_saving_eur)
    worse = lb.worse_off(res, "default").set_index("agent")
    mine = sav[sav.agent == "rule"].saving_eur.to_numpy(np.float64)
    assert worse.loc["rule", "worse_off"] == int(is_worse_off(mine).sum())
    table, (p, lo, hi) = lb.compare_agents(res, "oracle", "individual")
    assert 0.0 <= lo <= p <= hi <= 1.0
    assert (table["difference"] > 0).all()  # the oracle saves more on both scenarios


def test_leaderboard_missing_folder_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path / "nowhere"))
    at = page("leaderboard")
    at.run()
    assert not at.exception
    assert "does not exist" in at.error[0].value and "evaluation.compare" in at.error[0].value
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "results.csv").write_text("agent,scenario\n")
    with pytest.raises(lb.ResultsError, match=r"has no summary\.json"):
        lb.load_results(tmp_path / "half")


# --- Episode viewer -----------------------------------------------------------------------


def test_episode_page_run_matches_the_grid_cell() -> None:
    at = page("episode")
    at.run()
    assert not at.exception
    at.number_input(key="ep_days").set_value(1)
    at.button(key="ep_run_button").click().run()
    assert not at.exception and not at.error
    cell = episode_cli.play_cell(Cell("multimarket_v1", "rule", "default", 1000, 1))
    saving = cell["metrics"]["members_saving_eur"]
    assert metrics(at)["Members' saving"] == f"{saving:,.0f} EUR"
    hour = at.slider(key="ep_hour").value
    price = cell["series"]["price_eur_per_mwh"][hour]
    assert metrics(at)[f"Spot price, hour {hour}"] == f"{price:,.2f} EUR/MWh"


def test_episode_page_bad_inputs_give_messages() -> None:
    at = page("episode")
    # A link to an episode whose scenario is not shipped, and a bad day count.
    at.query_params["scenario"] = "no_such_scenario"
    at.query_params["days"] = "two"
    at.query_params["seed"] = "3"
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert "unknown scenario 'no_such_scenario' for multimarket_v1" in errors[0]
    assert "days='two'; expected a whole number >= 1" in errors[1]
    assert at.selectbox(key="ep_scenario").value == "default"  # the default is kept
    assert at.number_input(key="ep_seed").value == 3  # the usable setting is applied
    at.radio(key="ep_kind").set_value("class path").run()
    at.text_input(key="ep_class").input("agents.simple.RulePolicy").run()
    assert "has no ':'" in at.error[-1].value
    assert at.button(key="ep_run_button").disabled


@pytest.mark.parametrize(
    ("scenario", "agent"), [("default", "rule"), ("strategic_incumbents", "random")]
)
def test_merit_order_reproduces_the_env_clearing(scenario: str, agent: str) -> None:
    """The viewer's rebuilt auction clears at the env's price with the env's dispatch."""
    ep = epi.run_viewer_episode("multimarket_v1", scenario, 7, 1, agent)
    led = ep.episode.ledger
    for t in range(24):
        supply, demand, price = epi.merit_order(ep, t)
        assert price == pytest.approx(ep.episode.record.price_eur_per_mwh[t], abs=1e-9)
        gens = supply[supply.owner.str.startswith("incumbent")]
        sold = gens.groupby("owner").accepted_mw.sum()
        spot = led[(led.step == t) & (led.market == "spot")].set_index("participant").energy_mwh
        np.testing.assert_allclose(sold, spot.reindex(sold.index, fill_value=0.0), atol=1e-9)
        assert supply.accepted_mw.sum() == pytest.approx(demand.accepted_mw.sum())
    disp = epi.dispatch_frame(ep)
    assert len(disp) == 24 and (disp.to_numpy() >= 0).all()
    bat = epi.battery_frame(ep)
    assert len(bat) == 25 and np.nanmax(bat.drop(columns="total_mwh").to_numpy()) <= 100 + 1e-9
    cash, members = epi.ledger_tables(ep)
    # Money is conserved: every market's cash sums to zero over participants.
    np.testing.assert_allclose(cash.drop(columns="total").sum(axis=0), 0.0, atol=1e-6)
    assert members.saving_eur.sum() == pytest.approx(ep.metrics["members_saving_eur"])


def test_agent_name_and_launcher() -> None:
    assert epi.agent_name("checkpoint", "mappo", "runs/x.pt") == "mappo=runs/x.pt"
    with pytest.raises(ValueError, match="checkpoint path is empty"):
        epi.agent_name("checkpoint", "mappo", " ")
    args = app_cli._parser().parse_args(["--port", "8765", "--no-browser"])
    cmd = app_cli.streamlit_command(args)
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"
    assert cmd[cmd.index("--server.headless") + 1] == "true"
    assert app_cli.main(["--port", "0"]) == 2
