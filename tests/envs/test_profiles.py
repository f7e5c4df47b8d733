"""Tests for envs.data.profiles: shapes, bounds, determinism, weather and load physics, errors."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envs.config.scenario import WeatherConfig
from envs.data.profiles import (
    HEATING_BASE_C,
    SECTORS,
    Profiles,
    _wind_speed_m_s,
    clear_sky_cf,
    make_profiles,
    power_curve,
)

JUNE_21 = 171 * 24  # midnight, hour of year
JAN_1 = 0
FIELDS = Profiles.__slots__
WEATHER_FIELDS = {f.name for f in dataclasses.fields(WeatherConfig)}


def _kwargs(n: int = len(SECTORS), **overrides: Any) -> dict[str, Any]:
    """Keyword arguments for make_profiles: one member per sector (cycled), 1 MW each.

    Overrides of :class:`WeatherConfig` fields go into its ``weather`` record.
    """
    weather = {k: overrides.pop(k) for k in list(overrides) if k in WEATHER_FIELDS}
    kw: dict[str, Any] = {
        "weather": WeatherConfig(**weather),
        "num_envs": 3,
        "hours": 8 * 24,
        "start_hour_of_year": JUNE_21,
        "sector_idx": np.arange(n, dtype=np.int64) % len(SECTORS),
        "peak_load_mw": np.ones(n),
        "pv_mw": np.ones(n),
        "wind_mw": np.full(n, 2.0),
        "system_peak_load_mw": 1000.0,
    }
    kw.update(overrides)
    return kw


def _make(seed: int = 0, **overrides: Any) -> Profiles:
    return make_profiles(np.random.default_rng(seed), **_kwargs(**overrides))


def test_shapes_dtypes_and_bounds() -> None:
    p = _make(num_envs=3, hours=8 * 24)
    e, t, n = 3, 8 * 24, len(SECTORS)
    for name in ("load_mw", "pv_mw", "wind_mw"):
        arr = getattr(p, name)
        assert arr.shape == (e, t, n), name
    for name in ("system_load_mw", "solar_cf", "wind_cf", "temperature_c"):
        assert getattr(p, name).shape == (e, t), name
    for name in FIELDS:
        arr = getattr(p, name)
        assert arr.dtype == np.float64, name
        assert np.isfinite(arr).all(), name
    assert (p.load_mw > 0).all()
    assert (p.system_load_mw > 0).all()
    for cf in (p.solar_cf, p.wind_cf):
        assert ((cf >= 0) & (cf <= 1)).all()
    assert ((p.pv_mw >= 0) & (p.pv_mw <= 1.0)).all()
    assert ((p.wind_mw >= 0) & (p.wind_mw <= 2.0)).all()


def test_pv_zero_at_night_and_positive_at_summer_noon() -> None:
    p = _make(cloudiness_mean=0.2)
    hod = np.arange(p.solar_cf.shape[1]) % 24
    night = (hod <= 2) | (hod >= 22)
    assert (p.solar_cf[:, night] == 0).all()
    assert (p.pv_mw[:, night, :] == 0).all()
    assert (p.pv_mw[:, hod == 12, :] > 0).all()


def test_clear_sky_cf_geometry() -> None:
    hours = np.arange(365 * 24)
    cf = clear_sky_cf(hours, 50.0)
    assert ((cf >= 0) & (cf <= 1)).all()
    june_noon = clear_sky_cf(np.array(JUNE_21 + 12), 50.0)
    dec_noon = clear_sky_cf(np.array(354 * 24 + 12), 50.0)
    assert 0.6 < june_noon < 0.9
    assert 0 < dec_noon < june_noon
    # Southern hemisphere mirrors the seasons; the equator has ~12 h of daylight all year.
    assert clear_sky_cf(np.array(354 * 24 + 12), -50.0) > june_noon - 0.05
    assert (clear_sky_cf(np.arange(24), 0.0) > 0).sum() == 12
    # Polar night and midnight sun.
    assert (clear_sky_cf(np.arange(354 * 24, 355 * 24), 80.0) == 0).all()
    assert (clear_sky_cf(np.arange(JUNE_21, JUNE_21 + 24), 80.0) > 0).all()


def test_power_curve() -> None:
    v = np.array([-1.0, 0.0, 3.0, 7.5, 12.0, 20.0, 24.99, 25.0, 40.0])
    cf = power_curve(v)
    expected_mid = (7.5**3 - 27.0) / (12.0**3 - 27.0)
    np.testing.assert_allclose(cf, [0, 0, 0, expected_mid, 1, 1, 1, 0, 0])
    assert power_curve(np.zeros((2, 3))).shape == (2, 3)


def test_same_seed_is_bit_identical_and_seeds_differ() -> None:
    a, b, c = _make(seed=7), _make(seed=7), _make(seed=8)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for name in ("load_mw", "wind_cf", "solar_cf", "temperature_c", "system_load_mw"):
        assert not np.array_equal(getattr(a, name), getattr(c, name)), name


def test_envs_draw_independent_weather_members_share_it() -> None:
    p = _make(num_envs=2, hours=24 * 14)
    assert not np.array_equal(p.wind_cf[0], p.wind_cf[1])
    # Members of one env follow the shared capacity factor up to a small deviation.
    daylight = p.solar_cf[0] > 0.05
    ratio = p.pv_mw[0][daylight] / p.solar_cf[0][daylight, None]
    assert abs(ratio.mean() - 1.0) < 0.02
    assert 0.02 < ratio.std() < 0.08


def test_sunny_summer_beats_winter_pv() -> None:
    summer = _make(start_hour_of_year=JUNE_21, cloudiness_mean=0.1)
    winter = _make(start_hour_of_year=JAN_1, cloudiness_mean=0.4)
    assert summer.pv_mw.sum() > 3 * winter.pv_mw.sum()


def test_higher_mean_wind_speed_gives_more_wind_energy() -> None:
    calm = _make(wind_mean_speed_m_s=5.0, hours=24 * 30)
    windy = _make(wind_mean_speed_m_s=9.0, hours=24 * 30)
    assert windy.wind_mw.sum() > 1.5 * calm.wind_mw.sum()


def test_weibull_marginal_mean_speed() -> None:
    # The speed series make_profiles uses: over a long persistent series (8 x 8760 h) its
    # sample mean and coefficient of variation match the Weibull law.
    rng = np.random.default_rng(11)
    for target, k in ((7.5, 2.0), (5.0, 1.5), (10.0, 3.0)):
        speed = _wind_speed_m_s(rng.standard_normal((8, 8760)), target, k, 0.95)
        assert (speed >= 0).all()
        assert abs(speed.mean() - target) < 0.1 * target
        cv = math.sqrt(math.gamma(1 + 2 / k) / math.gamma(1 + 1 / k) ** 2 - 1)
        assert abs(speed.std() / speed.mean() - cv) < 0.1 * cv


def test_wind_cf_matches_power_curve_under_weibull() -> None:
    # End to end: the mean capacity factor equals E[power_curve(V)] for V ~ Weibull.
    target, k = 7.5, 2.0
    p = _make(num_envs=8, hours=8760, start_hour_of_year=0, wind_mean_speed_m_s=target)
    scale = target / math.gamma(1 + 1 / k)
    grid = np.linspace(0.0, 60.0, 200_001)
    pdf = (k / scale) * (grid / scale) ** (k - 1) * np.exp(-((grid / scale) ** k))
    expected_cf = np.trapezoid(power_curve(grid) * pdf, grid)
    assert abs(p.wind_cf.mean() - expected_cf) < 0.1 * expected_cf


def test_heatwave_raises_cooling_sensitive_load() -> None:
    normal = _make(seed=3)
    heatwave = _make(seed=3, temperature_anomaly_c=8.0)
    np.testing.assert_allclose(heatwave.temperature_c - normal.temperature_c, 8.0)
    for sector in ("commercial", "data_centre", "hospital"):
        j = SECTORS.index(sector)
        assert heatwave.load_mw[..., j].sum() > 1.05 * normal.load_mw[..., j].sum(), sector
    # Warmer never lowers load once no heating is left (a cool June night does lose some).
    no_heating = normal.temperature_c >= HEATING_BASE_C
    assert (heatwave.load_mw[no_heating] >= normal.load_mw[no_heating]).all()
    assert heatwave.system_load_mw.sum() > normal.system_load_mw.sum()


def test_winter_raises_residential_load() -> None:
    j = SECTORS.index("residential")
    winter = _make(start_hour_of_year=JAN_1 + 7 * 24, load_noise_std=0.0)
    summer = _make(start_hour_of_year=JUNE_21 - 5 * 24, load_noise_std=0.0)
    assert winter.load_mw[..., j].sum() > 1.1 * summer.load_mw[..., j].sum()


def test_sector_daily_shapes() -> None:
    # Day 7 is a Monday (1 January is one); 7-13 January is outside the school holidays.
    p = _make(start_hour_of_year=7 * 24, hours=7 * 24, load_noise_std=0.0, temperature_mean_c=18.0)
    load = p.load_mw[0]  # (T, N)
    hod = np.arange(7 * 24) % 24
    weekday = np.arange(7 * 24) < 5 * 24
    s = {name: load[:, SECTORS.index(name)] for name in SECTORS}
    dc = s["data_centre"]
    assert dc.std() / dc.mean() < 0.05
    assert s["hospital"].std() / s["hospital"].mean() < 0.15
    noon = hod == 11
    assert s["school"][noon & weekday].min() > 4 * s["school"][noon & ~weekday].max()
    assert s["commercial"][noon & weekday].min() > 2 * s["commercial"][hod == 3].max()
    assert np.argmax(s["bakery"][:24]) in (3, 4)
    res = s["residential"][:24]
    assert res[19] > res[13] and res[7] > res[3]


def test_member_and_system_scaling() -> None:
    base = _make(seed=5)
    scaled = _make(
        seed=5,
        peak_load_mw=np.full(len(SECTORS), 3.0),
        pv_mw=np.full(len(SECTORS), 2.0),
        system_peak_load_mw=500.0,
    )
    np.testing.assert_allclose(scaled.load_mw, 3.0 * base.load_mw)
    np.testing.assert_allclose(scaled.pv_mw, 2.0 * base.pv_mw)
    np.testing.assert_allclose(scaled.system_load_mw, 0.5 * base.system_load_mw)


def test_long_series_wraps_the_year() -> None:
    p = _make(num_envs=1, hours=8784 + 48, start_hour_of_year=8760 - 24, n=3)
    assert p.load_mw.shape == (1, 8784 + 48, 3)
    assert np.isfinite(p.temperature_c).all()


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"sector_idx": np.array([0, 8, 1])}, r"sector_idx\[1\]=8; expected an index in \[0, 7\]"),
        ({"sector_idx": np.array([0.0, 1.0, 2.0])}, r"sector_idx .* expected an integer \(N,\)"),
        ({"peak_load_mw": np.ones(4)}, r"peak_load_mw has shape \(4,\); expected \(N,\) = \(3,\)"),
        ({"pv_mw": np.array([1.0, -0.5, 0.0])}, r"pv_mw\[1\]=-0.5 MW; expected finite values >= 0"),
        ({"wind_mw": np.array([1.0, np.nan, 0.0])}, r"wind_mw\[1\]=nan MW"),
        ({"cloudiness_persistence": 1.0}, r"cloudiness_persistence=1.0 is out .* in \[0, 1\)"),
        ({"wind_persistence": -0.1}, r"wind_persistence=-0.1 is out of range; .* in \[0, 1\)"),
        ({"cloudiness_mean": 1.0}, r"cloudiness_mean=1.0 is out of range; .* in \[0, 1\)"),
        ({"num_envs": 0}, r"num_envs=0 is out of range; expected a whole number >= 1 envs"),
        ({"hours": 2.5}, r"hours=2.5 has type float; expected a whole number >= 1 h"),
        ({"start_hour_of_year": 8760}, r"start_hour_of_year=8760 .* in \[0, 8759\]"),
        ({"first_weekday": 7}, r"first_weekday=7 .* in \[0, 6\]"),
        ({"system_peak_load_mw": 0.0}, r"system_peak_load_mw=0.0 .* a finite number > 0 MW"),
        ({"wind_weibull_k": 0.0}, r"wind_weibull_k=0.0 is out .* in \[0.5, 10\]"),
        ({"latitude_deg": 91.0}, r"latitude_deg=91.0 .* in \[-66, 66\] degrees"),
        ({"load_noise_std": -0.1}, r"load_noise_std=-0.1 is out of range; .* in \[0, 1\]"),
        ({"temperature_mean_c": math.inf}, r"temperature_mean_c=inf is not finite"),
        ({"temperature_anomaly_c": math.nan}, r"temperature_anomaly_c=nan is not finite"),
    ],
)
def test_invalid_inputs_raise(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_profiles(np.random.default_rng(0), **_kwargs(n=3, **overrides))


def test_power_curve_rejects_unordered_speeds() -> None:
    with pytest.raises(ValueError, match=r"cut_in=12.0, rated=3.0.*cut_in < rated < cut_out"):
        power_curve(np.ones(3), cut_in=12.0, rated=3.0)


@settings(derandomize=True, deadline=None, max_examples=20)
@given(
    seed=st.integers(0, 2**32 - 1),
    num_envs=st.integers(1, 3),
    hours=st.integers(1, 60),
    start=st.integers(0, 8759),
    sectors=st.lists(st.integers(0, len(SECTORS) - 1), min_size=0, max_size=5),
    latitude=st.floats(-66.0, 66.0),
    cloudiness=st.floats(0.0, 0.99),
    persistence=st.floats(0.0, 0.999),
    mean_speed=st.floats(0.5, 20.0),
    k=st.floats(0.8, 5.0),
    noise=st.floats(0.0, 0.5),
)
def test_property_bounds_hold_for_any_valid_input(
    seed: int,
    num_envs: int,
    hours: int,
    start: int,
    sectors: list[int],
    latitude: float,
    cloudiness: float,
    persistence: float,
    mean_speed: float,
    k: float,
    noise: float,
) -> None:
    n = len(sectors)
    caps = np.linspace(0.0, 2.0, n)
    weather = WeatherConfig(
        latitude_deg=latitude,
        cloudiness_mean=cloudiness,
        cloudiness_persistence=persistence,
        wind_mean_speed_m_s=mean_speed,
        wind_weibull_k=k,
        wind_persistence=persistence,
        load_noise_std=noise,
    )
    p = make_profiles(
        np.random.default_rng(seed),
        weather,
        num_envs=num_envs,
        hours=hours,
        start_hour_of_year=start,
        sector_idx=np.array(sectors, dtype=np.int64),
        peak_load_mw=caps,
        pv_mw=caps,
        wind_mw=caps,
        system_peak_load_mw=100.0,
        member_weather_noise_std=noise,
    )
    for name in FIELDS:
        assert np.isfinite(getattr(p, name)).all(), name
    assert p.load_mw.shape == (num_envs, hours, n)
    assert (p.load_mw >= 0).all() and (p.system_load_mw > 0).all()
    assert ((p.solar_cf >= 0) & (p.solar_cf <= 1)).all()
    assert ((p.wind_cf >= 0) & (p.wind_cf <= 1)).all()
    assert ((p.pv_mw >= 0) & (p.pv_mw <= caps + 1e-12)).all()
    assert ((p.wind_mw >= 0) & (p.wind_mw <= caps + 1e-12)).all()


@settings(derandomize=True, deadline=None, max_examples=20)
@given(
    v=st.lists(st.floats(0.0, 40.0), min_size=2, max_size=30),
    cut_in=st.floats(0.0, 5.0),
    rated_gap=st.floats(0.5, 15.0),
)
def test_property_power_curve_monotone_below_cut_out(
    v: list[float], cut_in: float, rated_gap: float
) -> None:
    rated = cut_in + rated_gap
    speeds = np.sort(np.array(v))
    below = speeds[speeds < 25.0]
    cf = power_curve(below, cut_in=cut_in, rated=rated)
    assert ((cf >= 0) & (cf <= 1)).all()
    assert (np.diff(cf) >= 0).all()
    assert (power_curve(speeds[speeds >= 25.0], cut_in=cut_in, rated=rated) == 0).all()
