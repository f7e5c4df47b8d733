"""Pooled procurement and CFE matching (issue 6 part B): metrics, swaps, profiles, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from envs.cfe import model as cfe
from envs.cfe.config import CfeScenarioConfig, build_profiles, load_scenario
from envs.config.loader import build, to_dict
from envs.data import real_profiles as real
from envs.errors import ConfigError
from evaluation import cfe as cli

# --- Hand-worked example: 3 participants (A, B, C), 4 hours, MWh -------------------------
#
#        load (A, B, C)   gen (A, B, C)   surplus S / deficit D   swapped X = min(S, D)
#  h0    (4, 2, 2)        (6, 0, 1)       S=2 (A)   D=3 (B2, C1)  X=2: B gets 4/3, C 2/3
#  h1    (4, 2, 2)        (2, 4, 2)       S=2 (B)   D=2 (A2)      X=2: A gets 2
#  h2    (4, 4, 2)        (0, 0, 0)       S=0       D=10          X=0
#  h3    (4, 2, 2)        (8, 4, 4)       S=8       D=0           X=0
#
#  annual load A=16, B=10, C=8 (pool 34); annual gen A=16, B=8, C=7 (pool 31)
#  volumetric: A 100, B 80, C 87.5, pool 31/34 = 91.176
#  own match min(l, g): A 4+2+0+4=10, B 0+2+0+2=4, C 1+2+0+2=5 (pool 19)
#  standalone: A 10/16=62.5, B 4/10=40, C 5/8=62.5, pool 19/34=55.882
#  after swaps: A 12/16=75, B (4+4/3)/10=53.333, C (5+2/3)/8=70.833, pool 23/34=67.647
#  pooled: hourly min(L, G) = 7, 8, 0, 8 = 23 -> 23/34 = 67.647; coverage r = 7/8, 1, 0, 1
#          A (3.5+4+0+4)/16=71.875, B (1.75+2+0+2)/10=57.5, C (1.75+2+0+2)/8=71.875
#  financials (certificate 5, shortage 50, swap 10 EUR/MWh):
#          A exports 2 (h0), receives 2 (h1); left surplus 4 (h3) -> 20; left deficit 4 (h2)
#          -> 200; net = 20 + 20 - 20 - 200 = -180; standalone 6*5 - 6*50 = -270
#          B exports 2 (h1), receives 4/3; left surplus 2 -> 10; deficit 2/3 + 4 -> 233.333;
#          net = 10 + 20 - 13.333 - 233.333 = -216.667
#          C receives 2/3; surplus 2 -> 10; deficit 1/3 + 2 -> 116.667; net = -113.333
LOAD = np.array([[4, 2, 2], [4, 2, 2], [4, 4, 2], [4, 2, 2]], dtype=float)
GEN = np.array([[6, 0, 1], [2, 4, 2], [0, 0, 0], [8, 4, 4]], dtype=float)


def test_hand_example_metrics() -> None:
    m = cfe.cfe_metrics(LOAD, GEN)
    np.testing.assert_allclose(m.volumetric_re_pct, [100.0, 80.0, 87.5])
    np.testing.assert_allclose(m.standalone_cfe_pct, [62.5, 40.0, 62.5])
    np.testing.assert_allclose(m.swapped_cfe_pct, [75.0, 160 / 3, 17 / 24 * 100])
    np.testing.assert_allclose(m.pooled_cfe_pct, [71.875, 57.5, 71.875])
    assert m.pool_volumetric_re_pct == pytest.approx(3100 / 34)
    assert m.pool_standalone_cfe_pct == pytest.approx(1900 / 34)
    assert m.pool_swapped_cfe_pct == pytest.approx(2300 / 34)
    assert m.pool_pooled_cfe_pct == pytest.approx(2300 / 34)
    # The single-metric functions agree with the one-pass report.
    np.testing.assert_allclose(cfe.standalone_cfe_pct(LOAD, GEN), m.standalone_cfe_pct)
    np.testing.assert_allclose(cfe.swapped_cfe_pct(LOAD, GEN), m.swapped_cfe_pct)
    np.testing.assert_allclose(cfe.volumetric_re_pct(LOAD, GEN), m.volumetric_re_pct)


def test_hand_example_swaps_and_financials() -> None:
    swaps = cfe.pro_rata_swaps(LOAD, GEN)
    np.testing.assert_allclose(swaps.swapped_mwh, [2, 2, 0, 0])
    np.testing.assert_allclose(swaps.received_mwh[0], [0, 4 / 3, 2 / 3])
    np.testing.assert_allclose(swaps.exported_mwh[1], [0, 2, 0])
    f = cfe.financials(
        LOAD,
        GEN,
        certificate_price_eur_per_mwh=5.0,
        shortage_price_eur_per_mwh=[50.0, 50.0, 50.0],
        swap_price_eur_per_mwh=10.0,
    )
    np.testing.assert_allclose(f.certificate_revenue_eur, [20, 10, 10])
    np.testing.assert_allclose(f.shortage_cost_eur, [200, 700 / 3, 350 / 3])
    np.testing.assert_allclose(f.net_settlement_eur, [-180, -650 / 3, -340 / 3])
    assert f.standalone_net_eur[0] == pytest.approx(-270.0)
    assert f.swap_revenue_eur.sum() == pytest.approx(f.swap_cost_eur.sum())


@pytest.mark.parametrize(
    ("load", "gen", "match"),
    [
        (LOAD, GEN[:, :2], r"gen_mwh has shape \(4, 2\); expected the shape of load_mwh"),
        (LOAD[0], GEN[0], r"load_mwh has shape \(3,\); expected \(T hours, P participants\)"),
        (-LOAD, GEN, r"load_mwh\[0, 0\] = -4.0; expected MWh >= 0"),
        (LOAD, np.where(GEN == 6, np.nan, GEN), r"gen_mwh\[0, 0\] = nan; expected a finite"),
        (LOAD * [1, 0, 1], GEN, r"load_mwh\[:, 1\] sums to 0 MWh"),
    ],
)
def test_bad_hourly_input_raises(load: np.ndarray, gen: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        cfe.cfe_metrics(load, gen)


def test_bad_price_raises() -> None:
    with pytest.raises(ValueError, match=r"shortage_price_eur_per_mwh=\[50.0, -1.0, 50.0\]"):
        cfe.financials(
            LOAD,
            GEN,
            certificate_price_eur_per_mwh=5.0,
            shortage_price_eur_per_mwh=[50.0, -1.0, 50.0],
            swap_price_eur_per_mwh=10.0,
        )


# --- Properties ------------------------------------------------------------------------
_shapes = st.tuples(st.integers(1, 8), st.integers(1, 5))
_mwh = st.floats(0.0, 100.0, allow_nan=False, allow_infinity=False)


@st.composite
def _pools(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    shape = draw(_shapes)
    load = draw(arrays(np.float64, shape, elements=_mwh)) + 0.01  # every load positive
    gen = draw(arrays(np.float64, shape, elements=_mwh))
    return load, gen


@settings(derandomize=True, deadline=None, max_examples=60)
@given(_pools())
def test_swaps_never_create_certificates(pool: tuple[np.ndarray, np.ndarray]) -> None:
    load, gen = pool
    before = (load.copy(), gen.copy())
    swaps = cfe.pro_rata_swaps(load, gen)
    after = swaps.gen_after_mwh(gen)
    np.testing.assert_allclose(after.sum(axis=1), gen.sum(axis=1), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(swaps.received_mwh.sum(axis=1), swaps.swapped_mwh, atol=1e-9)
    np.testing.assert_allclose(swaps.exported_mwh.sum(axis=1), swaps.swapped_mwh, atol=1e-9)
    assert np.all(swaps.received_mwh <= np.maximum(load - gen, 0.0))
    assert np.all(swaps.exported_mwh <= np.maximum(gen - load, 0.0))
    assert np.all(after >= -1e-12)
    np.testing.assert_array_equal(load, before[0])  # inputs untouched
    np.testing.assert_array_equal(gen, before[1])


@settings(derandomize=True, deadline=None, max_examples=60)
@given(_pools())
def test_swaps_never_lower_cfe(pool: tuple[np.ndarray, np.ndarray]) -> None:
    load, gen = pool
    m = cfe.cfe_metrics(load, gen)
    assert np.all(m.swapped_cfe_pct >= m.standalone_cfe_pct - 1e-9)
    assert np.all(m.swapped_cfe_pct <= 100.0 + 1e-9)
    # Matching computed from the post-swap holdings gives the same scores.
    held = cfe.pro_rata_swaps(load, gen).gen_after_mwh(gen)
    np.testing.assert_allclose(cfe.standalone_cfe_pct(load, held), m.swapped_cfe_pct, atol=1e-9)
    # Swaps reach exactly the pooled score for the pool as a whole.
    assert m.pool_swapped_cfe_pct == pytest.approx(m.pool_pooled_cfe_pct, abs=1e-9)
    pooled_share = (m.pooled_cfe_pct * load.sum(axis=0)).sum() / load.sum()
    assert pooled_share == pytest.approx(m.pool_pooled_cfe_pct, abs=1e-9)


# --- Synthetic profiles: the simulator's generator ---------------------------------------
def test_synthetic_profiles_scaled_seeded_and_bounded() -> None:
    cfg = load_scenario("pooled_procurement")
    prof = build_profiles(cfg, np.random.default_rng(1))
    again = build_profiles(cfg, np.random.default_rng(1))
    np.testing.assert_array_equal(prof.load_mwh, again.load_mwh)
    annual = [p.annual_load_mwh for p in cfg.participants]
    np.testing.assert_allclose(prof.load_mwh.sum(axis=0), annual)
    solar = prof.solar_mwh[:, 0] / prof.solar_mwh[:, 0].max()
    wind = prof.wind_mwh[:, 0] / prof.wind_mwh[:, 0].max()
    assert solar.shape == wind.shape == (8760,)
    assert solar.reshape(365, 24)[:, 2].max() == 0.0  # no sun at 02:00
    # Regional weather: every participant's solar and wind have the same shape.
    shapes = prof.solar_mwh / prof.solar_mwh.sum(axis=0)
    np.testing.assert_allclose(shapes, np.repeat(shapes[:, :1], len(cfg.names), axis=1))
    # The load shapes are the sector table's: offices work weekdays, data centres do not rest.
    names = list(cfg.names)
    office = prof.load_mwh[:, names.index("business")].reshape(365, 24)
    # 2023 starts on a Sunday: day 1 is a Monday, day 6 a Saturday.
    assert office[1, 11] > 2.0 * office[6, 11]
    dc = prof.load_mwh[:, names.index("data_centre")]
    assert dc.std() / dc.mean() < 0.1


def test_synthetic_profiles_are_the_simulators() -> None:
    from envs.config.scenario import WeatherConfig
    from envs.data.profiles import make_profiles
    from envs.data.sectors import SECTORS

    cfg = load_scenario("pooled_procurement")
    prof = build_profiles(cfg, np.random.default_rng(4))
    n = len(cfg.participants)
    weather = WeatherConfig(
        latitude_deg=cfg.synthetic.latitude_deg,
        wind_mean_speed_m_s=cfg.synthetic.wind_mean_speed_m_s,
    )
    sim = make_profiles(
        np.random.default_rng(4),
        weather,
        num_envs=1,
        hours=8760,
        start_hour_of_year=0,
        sector_idx=np.array([SECTORS.index(p.sector) for p in cfg.participants]),
        peak_load_mw=np.ones(n),
        pv_mw=np.ones(n),
        wind_mw=np.ones(n),
        system_peak_load_mw=1.0,
        member_weather_noise_std=0.0,
        first_weekday=6,
    )
    np.testing.assert_allclose(
        prof.load_mwh, cfe.scale_to_annual(sim.load_mw[0], prof.load_mwh.sum(0))
    )
    np.testing.assert_allclose(
        prof.wind_mwh[:, 0], cfe.scale_to_annual(sim.wind_cf[0], prof.wind_mwh[:, 0].sum())
    )


# --- Real profiles from shipped package files ------------------------------------------
def test_tmy3_pv_and_wind_from_pvlib_files() -> None:
    assert real.pvlib_data_path("723170TYA.CSV").is_file()
    pv = real.tmy3_solar_cf("723170TYA.CSV")
    with pytest.warns(DeprecationWarning, match="renamed tmy3_solar_cf"):
        np.testing.assert_array_equal(real.tmy3_pv_cf("723170TYA.CSV"), pv)  # the old name
    assert pv.shape == (8760,) and 0.0 <= pv.min() and pv.max() <= 1.0
    assert 0.12 < pv.mean() < 0.22  # North Carolina fixed-tilt PV
    by_hour = pv.reshape(365, 24).mean(axis=0)
    assert by_hour[0] == 0.0 and 11 <= int(np.argmax(by_hour)) <= 13
    wind = real.tmy3_wind_cf("703165TY.csv", turbine_type="V126/3300", hub_height_m=117.0)
    assert wind.shape == (8760,) and 0.2 < wind.mean() < 0.7 and wind.max() <= 1.0
    with pytest.raises(ValueError, match=r"tmy3_file='nowhere\.csv' is unknown; valid files"):
        real.pvlib_data_path("nowhere.csv")


def test_turbine_power_curve_from_windpowerlib_oedb() -> None:
    speeds, frac = real.turbine_power_curve("E-126/4200")
    assert speeds[0] >= 0 and np.all(np.diff(speeds) > 0)
    assert frac.max() == pytest.approx(1.0, abs=0.02) and frac[0] == 0.0
    with pytest.raises(ValueError, match="turbine_type='X-1/1' has no power curve"):
        real.turbine_power_curve("X-1/1")


def test_bdew_load_profiles_from_demandlib() -> None:
    house = real.bdew_load_mw("H25", annual_mwh=4380.0)
    shop = real.bdew_load_mw("G25", annual_mwh=4380.0)
    assert house.shape == shop.shape == (8760,)
    assert house.sum() == pytest.approx(4380.0) and np.all(np.isfinite(shop))
    day = house.reshape(365, 24).mean(axis=0)
    assert day[19] > 1.5 * day[3]  # household evening peak over the night
    week = shop[24 : 24 * 8].reshape(7, 24).sum(axis=1)  # 2 Jan 2023 is a Monday
    assert week[:5].min() > week[6]  # businesses are busier Monday-Friday than Sunday
    with pytest.raises(ValueError, match="profile='H0' is unknown"):
        real.bdew_load_mw("H0")  # type: ignore[arg-type]


def _write_csv(path: Path, rows: int = 24, **edits: object) -> Path:
    frame = pd.DataFrame(
        {
            "timestamp": pd.date_range("2023-01-01", periods=rows, freq="h").strftime(
                "%Y-%m-%d %H:%M"
            ),
            "load_mw": np.linspace(1.0, 2.0, rows).round(3).astype(object),
            "solar_mw": np.zeros(rows).astype(object),
        }
    )
    for key, value in edits.items():
        column, row = key.rsplit("_", 1)
        frame.loc[int(row), column] = value
    frame.to_csv(path, index=False)
    return path


def test_user_csv_roundtrip(tmp_path: Path) -> None:
    out = real.load_user_csv(_write_csv(tmp_path / "site.csv"), hours=24)
    assert sorted(out) == ["load_mw", "solar_mw"]
    assert out["load_mw"].shape == (24,) and out["load_mw"][-1] == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("edits", "match"),
    [
        ({"load_mw_5": "abc"}, r"site.csv: column 'load_mw' row 7 has 'abc'; expected average"),
        ({"solar_mw_0": "-1"}, r"column 'solar_mw' row 2 has '-1'; expected .* MW >= 0"),
        ({"timestamp_3": "2023-01-01 05:00"}, r"column 'timestamp' row 5 .* exactly one hour"),
        ({"timestamp_2": "yesterday"}, r"column 'timestamp' row 4 has 'yesterday'"),
    ],
)
def test_user_csv_bad_values(tmp_path: Path, edits: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        real.load_user_csv(_write_csv(tmp_path / "site.csv", **edits), hours=24)


def test_user_csv_bad_columns_and_length(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "site.csv")
    with pytest.raises(ValueError, match=r"24 rows of data; expected 8760 hourly rows"):
        real.load_user_csv(path)
    pd.read_csv(path).rename(columns={"load_mw": "load_kw"}).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"missing column 'load_mw'"):
        real.load_user_csv(path, hours=24)
    pd.read_csv(path).assign(load_mw=1.0).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"unknown column 'load_kw'; valid columns"):
        real.load_user_csv(path, hours=24)


# --- Scenario config -------------------------------------------------------------------
def test_scenario_loads_and_rejects_bad_config() -> None:
    cfg = load_scenario("pooled_procurement")
    assert cfg.hours == 8760 and len(cfg.names) == 6 and cfg.profiles == "synthetic"
    assert set(cfg.names) >= {"data_centre", "hospital", "retailer", "residential"}
    with pytest.raises(ConfigError, match="unknown key colour; valid keys"):
        load_scenario("pooled_procurement", {"colour": "red"})
    with pytest.raises(ConfigError, match="year=2024 is a leap year"):
        load_scenario("pooled_procurement", {"year": 2024})
    with pytest.raises(ConfigError, match=r"profiles='measured' is not allowed"):
        load_scenario("pooled_procurement", {"profiles": "measured"})
    bad = {"participants": [{"name": "a", "sector": "hospital", "annual_load_mwh": -1}]}
    with pytest.raises(ConfigError, match=r"participants\.a\.annual_load_mwh=-1.0 is out of"):
        build(CfeScenarioConfig, bad)
    with pytest.raises(ConfigError, match=r"participants\.hospital\.sector='clinic' is not"):
        load_scenario("pooled_procurement", {"participants.hospital.sector": "clinic"})
    with pytest.raises(ConfigError, match=r"participants\.hospital\.solar_mwh=nan is not finite"):
        load_scenario("pooled_procurement", {"participants.hospital.solar_mwh": "nan"})
    one = load_scenario("pooled_procurement", {"participants.hospital.wind_mwh": 1.0})
    assert one.participants[1].wind_mwh == 1.0 and one.participants[0] == cfg.participants[0]


def test_old_wind_speed_key_reads_with_a_deprecation_warning() -> None:
    # synthetic.mean_wind_speed_m_per_s was renamed to WeatherConfig's wind_mean_speed_m_s;
    # the old key is read for one release.
    data = to_dict(load_scenario("pooled_procurement"))
    data["synthetic"] = {"latitude_deg": 31.0, "mean_wind_speed_m_per_s": 9.0}
    match = r"synthetic\.mean_wind_speed_m_per_s is deprecated: it is now synthetic\.wind_mean"
    with pytest.warns(DeprecationWarning, match=match):
        cfg = build(CfeScenarioConfig, data)
    assert cfg.synthetic.wind_mean_speed_m_s == 9.0
    data["synthetic"]["wind_mean_speed_m_s"] = 8.0
    with pytest.raises(ConfigError, match=r"mean_wind_speed_m_per_s=9.0 and .*=8.0 are both set"):
        build(CfeScenarioConfig, data)


def test_profile_csv_replaces_shape(tmp_path: Path) -> None:
    path = tmp_path / "site.csv"
    stamps = pd.date_range("2023-01-01", periods=8760, freq="h")
    flat = pd.DataFrame({"timestamp": stamps, "load_mw": 1.0})
    flat.to_csv(path, index=False)
    part = {"name": "s", "sector": "residential", "annual_load_mwh": 876.0, "solar_mwh": 100.0}
    cfg = build(CfeScenarioConfig, {"participants": [{**part, "profile_csv": str(path)}]})
    prof = build_profiles(cfg, np.random.default_rng(0))
    np.testing.assert_allclose(prof.load_mwh[:, 0], 0.1)  # flat shape, scaled to 876 MWh
    assert prof.solar_mwh.sum() == pytest.approx(100.0)


# --- CLI end to end --------------------------------------------------------------------
def test_cli_json_hourly_csv_and_plots(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    csv_path = tmp_path / "hourly.csv"
    argv = ["--scenario", "pooled_procurement", "--json", "--seed", "3"]
    rc = cli.main([*argv, "--hourly-csv", str(csv_path), "--plots", str(tmp_path / "plots")])
    assert rc == 0
    report = json.loads(capsys.readouterr().out)
    names = report["participants"]
    for key in ("volumetric_re_pct", "standalone_cfe_pct", "swapped_cfe_pct", "pooled_cfe_pct"):
        assert set(report[key]) == {*names, "pool"}
    for n in names:
        assert report["swapped_cfe_pct"][n] >= report["standalone_cfe_pct"][n]
    assert report["swapped_cfe_pct"]["pool"] == pytest.approx(report["pooled_cfe_pct"]["pool"])
    assert report["pooled_cfe_pct"]["pool"] > report["standalone_cfe_pct"]["pool"]
    fin = report["financials"]
    assert fin["pool"]["swap_revenue_eur"] == pytest.approx(fin["pool"]["swap_cost_eur"], abs=1)
    assert fin["pool"]["pooling_gain_eur"] > 0
    hourly = pd.read_csv(csv_path)
    assert len(hourly) == 8760 and "data_centre_load_mwh" in hourly
    assert hourly["hospital_load_mwh"].sum() == pytest.approx(report["annual_load_mwh"]["hospital"])
    pngs = sorted(p.name for p in (tmp_path / "plots").glob("*.png"))
    assert pngs == [
        "cfe_individual_vs_pooled.png",
        "monthly_balance.png",
        "net_position.png",
        "week_load_vs_generation.png",
    ]
    # Same seed, same numbers; the Markdown view prints too.
    assert cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out) == report
    assert cli.main(["--profiles", "real"]) == 0
    assert "| pool |" in capsys.readouterr().out


def test_cli_unknown_scenario_exits_2(capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["--scenario", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown scenario 'nope'" in err
