"""Synthetic hourly load, solar and wind series for a batch of environments (DESIGN §4).

Dims: E envs, T hours, N members, S = ``len(SECTORS)`` sectors.

Model
-----
*Calendar.* Hour ``t`` of a series is hour ``(start_hour_of_year + t) % 8760`` of a
365-day year whose 1 January is a Monday (as in 2018 and 2024); the weekday keeps
counting across the year end. Solar time is taken equal to clock time (no longitude or
equation-of-time correction).

*Solar.* The clear-sky capacity factor of a horizontal array uses Cooper's declination
``δ = 23.45° sin(360° (284 + n) / 365)`` (Cooper 1969, Solar Energy 12(3)) and the hour
angle ``ω = 15° (h + 0.5 - 12)`` at mid-hour, giving the solar elevation ``α`` by
``sin α = sin φ sin δ + cos φ cos δ cos ω``. Beam irradiance follows the Meinel air-mass
model ``DNI = 1.353 · 0.7^(AM^0.678)`` kW/m² with ``AM = 1 / sin α``, plus 10 % diffuse
(both as in PVEducation, "Air Mass"), times a performance ratio of 0.85 and divided by
1 kW/m² (STC). Clouds attenuate it by a fraction ``c ∈ [0, 1)``: ``cf = cf_clear (1 - c)``.
``c`` is Beta(1, b)-distributed with ``b = 1/m - 1`` (mean ``m = cloudiness_mean``) and
persistent in time: an AR(1) Gaussian process ``z`` (coefficient
``cloudiness_persistence``) is mapped through the normal CDF and the inverse Beta(1, b)
CDF ``c = 1 - (1 - Φ(z))^(1/b)`` (a Gaussian copula).

*Wind.* Hub-height speed is Weibull(k, λ) with ``λ = v̄ / Γ(1 + 1/k)``, again by a
Gaussian copula: ``v = λ (-ln(1 - Φ(z)))^(1/k)`` for an AR(1) Gaussian ``z`` (coefficient
``wind_persistence``); see e.g. Brown, Katz & Murphy (1984), J. Clim. Appl. Meteor. 23,
for the transformed-Gaussian AR wind model. Output follows :func:`power_curve`.

*Members.* Weather is shared by the members of an env (one place); each member's PV and
wind output deviate from it by an independent hourly factor ``1 + σ ξ``
(``σ = member_weather_noise_std``), clipped to ``[0, 1]`` of installed capacity.
Different envs draw independent weather.

*Temperature.* ``10 - 9 cos(2π (d - 15) / 365)`` °C (coldest mid-January, shifted half a
year south of the equator) or a constant ``temperature_mean_c``, plus a 4 °C diurnal
swing peaking at 15:00, an AR(1) weather anomaly (σ 2 °C, coefficient 0.97 per hour) and
``temperature_anomaly_c``.

*Load.* Each sector of :mod:`envs.data.sectors` has 24-h weekday and weekend shapes
(weekends from ``first_weekday``; schools use the weekend shape in holidays). Load is
``peak_load_mw · shape · (1 + h_s HDH + k_s CDH) · ε``: heating degrees below 15.5 °C and
cooling degrees above 22 °C with per-sector coefficients (so a heatwave raises
commercial, data-centre and hospital load), and mean-one lognormal noise ``ε`` with
relative std ``load_noise_std``, independent per hour and member. ``peak_load_mw`` is the
peak of the weather-neutral shape; weather and noise can exceed it (the simulator rescales
an episode so that its realised peaks are the stated ones: :mod:`envs.data.episode`).
The system load is the ``SYSTEM_MIX``-weighted mix of the sector shapes and
coefficients, scaled so that its weather-neutral weekday peak equals
``system_peak_load_mw``, with noise ``0.3 · load_noise_std`` (aggregation smooths it).

Draws are made in a fixed order with fixed shapes, so one seed gives bit-identical
output, and two calls that differ only in non-random parameters share their noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray
from scipy import special

from envs.config.validate import Bounds, check_number
from envs.data.sectors import (
    COOLING_BASE_C,
    COOLING_PER_C,
    DAILY_SHAPES,
    HEATING_BASE_C,
    HEATING_PER_C,
    SECTORS,
    SYSTEM_MIX,
    sector_shapes,
)


class Weather(Protocol):
    """The weather quantities :func:`make_profiles` reads, read-only: the fields of
    :class:`envs.config.scenario.WeatherConfig` (a protocol, because the config module
    imports this one for its bounds, and imports run one way)."""

    @property
    def latitude_deg(self) -> float: ...  # deg
    @property
    def cloudiness_mean(self) -> float: ...  # share of clear-sky output lost, [0, 1]
    @property
    def cloudiness_persistence(self) -> float: ...  # AR(1) coefficient per hour
    @property
    def wind_mean_speed_m_s(self) -> float: ...  # m/s at hub height
    @property
    def wind_weibull_k(self) -> float: ...  # Weibull shape
    @property
    def wind_persistence(self) -> float: ...  # AR(1) coefficient per hour
    @property
    def temperature_anomaly_c(self) -> float: ...  # deg C added to the climatology
    @property
    def load_noise_std(self) -> float: ...  # std of the log of the load noise


__all__ = [
    "HEATING_BASE_C",
    "SECTORS",
    "SYSTEM_MIX",
    "WEATHER_BOUNDS",
    "Profiles",
    "clear_sky_cf",
    "make_profiles",
    "power_curve",
]

HOURS_PER_YEAR = 8760
#: Bounds of the weather quantities: the fields of the scenario's ``weather`` section
#: (:class:`~envs.config.scenario.WeatherConfig`, which :func:`make_profiles` takes) and
#: :func:`make_profiles`' ``temperature_mean_c`` and ``member_weather_noise_std``. The
#: Weibull shape keeps Γ(1 + 1/k) finite, the AR(1) coefficients below 1 keep the
#: processes stationary, Beta(1, b) needs a mean below 1.
WEATHER_BOUNDS: dict[str, Bounds] = {
    "latitude_deg": Bounds(ge=-90, le=90),
    "cloudiness_mean": Bounds(ge=0, lt=1),
    "cloudiness_persistence": Bounds(ge=0, lt=1),
    # A mean wind speed of 30 m/s is 3x the windiest sites' (about 10 m/s offshore) and
    # above wind turbines' cut-out speed (25 m/s).
    "wind_mean_speed_m_s": Bounds(gt=0, le=30),
    "wind_weibull_k": Bounds(ge=0.5, le=10),
    "wind_persistence": Bounds(ge=0, lt=1),
    "temperature_mean_c": Bounds(ge=-50, le=50),
    "temperature_anomaly_c": Bounds(ge=-30, le=30),
    "load_noise_std": Bounds(ge=0, le=1),
    "member_weather_noise_std": Bounds(ge=0, le=1),
}
_SYSTEM_NOISE_SCALE = 0.3
_N_SYSTEM = len(SYSTEM_MIX)  # sectors in the system mix (the first ones of SECTORS)

_PERFORMANCE_RATIO = 0.85
_TEMP_ANNUAL_MEAN_C, _TEMP_SEASON_AMPLITUDE_C, _TEMP_COLDEST_DAY = 10.0, 9.0, 15
_TEMP_DIURNAL_AMPLITUDE_C, _TEMP_WARMEST_HOUR = 4.0, 15
_TEMP_ANOMALY_STD_C, _TEMP_ANOMALY_PERSISTENCE = 2.0, 0.97


@dataclass(frozen=True, slots=True)
class Profiles:
    """Hourly series for E envs, T hours and N members (all float64).

    Attributes:
        load_mw: (E, T, N) member load, MW, >= 0.
        pv_mw: (E, T, N) member PV output, MW, in [0, installed].
        wind_mw: (E, T, N) member wind-share output, MW, in [0, installed].
        system_load_mw: (E, T) background (system) load, MW, > 0.
        solar_cf: (E, T) shared solar capacity factor in [0, 1].
        wind_cf: (E, T) shared wind capacity factor in [0, 1].
        temperature_c: (E, T) air temperature, deg C.
    """

    load_mw: NDArray[np.float64]
    pv_mw: NDArray[np.float64]
    wind_mw: NDArray[np.float64]
    system_load_mw: NDArray[np.float64]
    solar_cf: NDArray[np.float64]
    wind_cf: NDArray[np.float64]
    temperature_c: NDArray[np.float64]


def power_curve(
    speed_m_s: ArrayLike,
    cut_in: float = 3.0,
    rated: float = 12.0,
    cut_out: float = 25.0,
) -> NDArray[np.float64]:
    """Generic turbine power curve: capacity factor from hub-height wind speed.

    Zero below ``cut_in`` and from ``cut_out`` on, ``(v³ - v_in³) / (v_r³ - v_in³)`` between
    cut-in and rated, 1 between rated and cut-out.

    Args:
        speed_m_s: any shape, wind speed, m/s.
        cut_in: cut-in speed, m/s.
        rated: rated speed, m/s.
        cut_out: cut-out speed, m/s.

    Returns:
        Same shape as ``speed_m_s``, capacity factor in [0, 1].

    Raises:
        ValueError: unless 0 <= cut_in < rated < cut_out.

    Examples:
        >>> power_curve(np.array([2.0, 12.0, 30.0])).tolist()
        [0.0, 1.0, 0.0]
    """
    if not 0.0 <= cut_in < rated < cut_out:
        raise ValueError(
            f"power_curve speeds cut_in={cut_in}, rated={rated}, cut_out={cut_out} m/s; "
            "expected 0 <= cut_in < rated < cut_out"
        )
    v = np.asarray(speed_m_s, dtype=np.float64)
    cf = np.clip((v**3 - cut_in**3) / (rated**3 - cut_in**3), 0.0, 1.0)
    return np.where(v >= cut_out, 0.0, cf)


def clear_sky_cf(hour_of_year: ArrayLike, latitude_deg: float) -> NDArray[np.float64]:
    """Clear-sky capacity factor of a horizontal PV array (see the module docstring).

    Args:
        hour_of_year: any shape, hour index from 00:00 on 1 January (taken modulo 8760).
        latitude_deg: site latitude, degrees north, in [-90, 90].

    Returns:
        Same shape as ``hour_of_year``, capacity factor in [0, 1]; 0 while the sun is down.

    Raises:
        ConfigError: (a ValueError) if ``latitude_deg`` is outside [-90, 90].

    Examples:
        >>> float(clear_sky_cf(np.array(0), 50.0))
        0.0
        >>> round(float(clear_sky_cf(np.array(171 * 24 + 12), 50.0)), 2)
        0.76
    """
    check_number("latitude_deg", latitude_deg, bounds=WEATHER_BOUNDS["latitude_deg"])
    h = np.asarray(hour_of_year, dtype=np.float64) % HOURS_PER_YEAR
    day = np.floor(h / 24.0) + 1.0  # Cooper's n, 1-based day of year.
    declination = np.deg2rad(23.45) * np.sin(2.0 * np.pi * (284.0 + day) / 365.0)
    hour_angle = np.deg2rad(15.0 * (h % 24.0 + 0.5 - 12.0))
    lat = math.radians(latitude_deg)
    seasonal_term = math.sin(lat) * np.sin(declination)
    sin_elev = seasonal_term + math.cos(lat) * np.cos(declination) * np.cos(hour_angle)
    air_mass = 1.0 / np.maximum(sin_elev, 1e-3)
    ghi_kw_m2 = 1.1 * 1.353 * 0.7 ** (air_mass**0.678) * sin_elev
    return np.where(sin_elev > 0.0, np.clip(_PERFORMANCE_RATIO * ghi_kw_m2, 0.0, 1.0), 0.0)


def make_profiles(
    rng: np.random.Generator,
    weather: Weather,
    *,
    num_envs: int,
    hours: int,
    start_hour_of_year: int,
    sector_idx: NDArray[np.int64],
    peak_load_mw: NDArray[np.float64],
    pv_mw: NDArray[np.float64],
    wind_mw: NDArray[np.float64],
    system_peak_load_mw: float,
    temperature_mean_c: float | None = None,
    member_weather_noise_std: float = 0.05,
    first_weekday: int = 0,
) -> Profiles:
    """Draw hourly load, PV, wind and temperature series for E envs and N members.

    Args:
        rng: the only source of randomness.
        weather: the scenario's weather section (:class:`envs.config.scenario.WeatherConfig`,
            which checks its own bounds: latitude, cloudiness, wind speed law, temperature
            anomaly and load noise; ``WeatherConfig()`` is the default climate).
        num_envs: E >= 1.
        hours: T >= 1 (e.g. 7*24 + 24 forecast hours, or 8760).
        start_hour_of_year: hour of year of t=0, in [0, 8759].
        sector_idx: (N,) integer index into ``SECTORS``.
        peak_load_mw: (N,) weather-neutral peak load per member, MW, >= 0.
        pv_mw: (N,) installed PV per member, MW peak, >= 0.
        wind_mw: (N,) installed wind share per member, MW, >= 0.
        system_peak_load_mw: weather-neutral weekday peak of the system load, MW, > 0.
        temperature_mean_c: constant daily-mean temperature, deg C, in [-50, 50]; None for
            the seasonal climatology.
        member_weather_noise_std: relative std of each member's PV/wind deviation, in [0, 1].
        first_weekday: weekday of 1 January, 0 = Monday ... 6 = Sunday (2018 and 2024
            start on a Monday, 2023 on a Sunday).

    Returns:
        A :class:`Profiles` with the shapes listed there.

    Raises:
        ConfigError: (a ValueError) naming the argument, its bad value and what is allowed.
    """
    sector_idx, peak, pv_cap, wind_cap = _check_members(sector_idx, peak_load_mw, pv_mw, wind_mw)
    _check_scalars(num_envs, hours, start_hour_of_year, first_weekday, system_peak_load_mw,
                   temperature_mean_c, member_weather_noise_std)  # fmt: skip
    e, t, n = num_envs, hours, sector_idx.shape[0]
    # Fixed draw order and shapes: weather (cloud, wind, temperature, system noise), then
    # member load, PV and wind noise.
    draws = rng.standard_normal((4, e, t))
    load_eps = rng.standard_normal((e, t, n))
    pv_dev = rng.standard_normal((e, t, n))
    wind_dev = rng.standard_normal((e, t, n))

    abs_hour = start_hour_of_year + np.arange(t)
    solar_cf, wind_cf, temperature_c = _weather_series(draws, abs_hour, weather,
                                                       temperature_mean_c)  # fmt: skip
    load_mw, system_load_mw = _loads(
        draws[3], load_eps, temperature_c, abs_hour, first_weekday, weather.load_noise_std,
        sector_idx, peak, system_peak_load_mw,
    )  # fmt: skip
    return Profiles(
        load_mw=load_mw,
        pv_mw=_member_output(pv_dev, solar_cf, pv_cap, member_weather_noise_std),
        wind_mw=_member_output(wind_dev, wind_cf, wind_cap, member_weather_noise_std),
        system_load_mw=system_load_mw,
        solar_cf=solar_cf,
        wind_cf=wind_cf,
        temperature_c=temperature_c,
    )


def _calendar(abs_hour: NDArray[np.int64]) -> tuple[NDArray[np.int64], ...]:
    """(T,) hour of year, day of year (0-based) and hour of day of the (T,) absolute hours."""
    hour_of_year = abs_hour % HOURS_PER_YEAR
    return hour_of_year, hour_of_year // 24, hour_of_year % 24


def _weather_series(
    draws: NDArray[np.float64],
    abs_hour: NDArray[np.int64],
    weather: Weather,
    temperature_mean_c: float | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Shared solar and wind capacity factors and temperature, each (E, T).

    ``draws`` is the (4, E, T) weather innovations (cloud, wind, temperature, system
    noise); the first three are used here and modified in place.
    """
    hour_of_year, day_of_year, hour_of_day = _calendar(abs_hour)
    w = weather
    solar_cf = _solar_cf(draws[0], hour_of_year, w.latitude_deg, w.cloudiness_mean,
                         w.cloudiness_persistence)  # fmt: skip
    # Wind: Weibull speed by Gaussian copula, through the power curve.
    speed_m_s = _wind_speed_m_s(draws[1], w.wind_mean_speed_m_s, w.wind_weibull_k,
                                w.wind_persistence)  # fmt: skip
    wind_cf = power_curve(speed_m_s)
    temperature_c = _temperature(day_of_year, hour_of_day, w.latitude_deg, temperature_mean_c)
    temperature_c = temperature_c + w.temperature_anomaly_c
    temperature_c = temperature_c + _TEMP_ANOMALY_STD_C * _ar1(draws[2], _TEMP_ANOMALY_PERSISTENCE)
    return solar_cf, wind_cf, temperature_c


def _loads(
    system_eps: NDArray[np.float64],
    load_eps: NDArray[np.float64],
    temperature_c: NDArray[np.float64],
    abs_hour: NDArray[np.int64],
    first_weekday: int,
    load_noise_std: float,
    sector_idx: NDArray[np.int64],
    peak_load_mw: NDArray[np.float64],
    system_peak_load_mw: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Member load (E, T, N) and system load (E, T), MW: sector shapes, weather, noise.

    ``system_eps`` (E, T) and ``load_eps`` (E, T, N) are standard normal draws, turned
    into the mean-one lognormal noise in place.
    """
    _, day_of_year, hour_of_day = _calendar(abs_hour)
    heating_deg = np.maximum(HEATING_BASE_C - temperature_c, 0.0)[..., None]  # (E, T, 1)
    cooling_deg = np.maximum(temperature_c - COOLING_BASE_C, 0.0)[..., None]
    shape_st = sector_shapes(abs_hour, day_of_year, hour_of_day, first_weekday)  # (S, T)
    weather_factor = 1.0 + heating_deg * HEATING_PER_C + cooling_deg * COOLING_PER_C  # (E, T, S)
    load_mw = weather_factor[..., sector_idx]  # (E, T, N)
    load_mw *= shape_st[sector_idx].T * peak_load_mw
    load_mw *= _lognormal_unit_mean(load_eps, load_noise_std)
    system_load_mw = _system_load(heating_deg, cooling_deg, shape_st, system_peak_load_mw)
    system_load_mw *= _lognormal_unit_mean(system_eps, _SYSTEM_NOISE_SCALE * load_noise_std)
    return load_mw, system_load_mw


def _solar_cf(innovations: NDArray[np.float64], hour_of_year: NDArray[np.int64],
              latitude_deg: float, cloudiness_mean: float,
              persistence: float) -> NDArray[np.float64]:  # fmt: skip
    """Solar capacity factor (E, T): the clear sky (T,), the same for every env, under
    persistent clouds (E, T) whose attenuation has a Beta(1, b) law with mean
    ``cloudiness_mean``; modifies ``innovations``."""
    cloud = _ar1(innovations, persistence)
    exponent = cloudiness_mean / (1.0 - cloudiness_mean)  # 1/b of Beta(1, b)
    attenuation = 1.0 - special.ndtr(-cloud) ** exponent
    return clear_sky_cf(hour_of_year, latitude_deg) * (1.0 - attenuation)


def _system_load(heating_deg: NDArray[np.float64], cooling_deg: NDArray[np.float64],
                 shape_st: NDArray[np.float64], peak_mw: float) -> NDArray[np.float64]:  # fmt: skip
    """Background load before noise, MW (E, T): the system mix of sector shapes scaled to
    ``peak_mw``, times its heating and cooling factor.

    The mix covers the first ``_N_SYSTEM`` sectors; its factor is computed over those
    alone (not sliced from the S-wide one) so the products sum in the order they always did.
    """
    k = _N_SYSTEM
    system_factor = 1.0 + heating_deg * HEATING_PER_C[:k] + cooling_deg * COOLING_PER_C[:k]
    mix_peak = float(np.max(SYSTEM_MIX @ DAILY_SHAPES[:k, 0, :]))
    system_shape = (SYSTEM_MIX @ shape_st[:k]) * (peak_mw / mix_peak)  # (T,)
    return system_shape * (system_factor @ SYSTEM_MIX)


def _ar1(innovations: NDArray[np.float64], phi: float) -> NDArray[np.float64]:
    """Stationary unit-variance AR(1) along the last axis, started from its stationary law.

    ``y_t = φ y_{t-1} + sqrt(1 - φ²) z_t`` with ``y_0 = z_0``; modifies ``innovations``.
    """
    gain = math.sqrt(1.0 - phi * phi)
    innovations[..., 0] /= gain
    flat = np.ascontiguousarray(innovations).reshape(-1, innovations.shape[-1])
    return _ar1_filter(flat, gain, phi).reshape(innovations.shape)


@njit(cache=True)
def _ar1_filter(x, gain, phi):
    """``y_t = gain x_t + phi y_{t-1}`` along the last axis of (R, T) ``x`` from ``y_{-1} = 0``:
    the first-order recursive filter, in the operation order of ``scipy.signal.lfilter``
    (whose import alone took ~0.5 s of every first ``envs.make``)."""
    y = np.empty_like(x)
    for r in range(x.shape[0]):
        prev = 0.0
        for t in range(x.shape[1]):
            prev = gain * x[r, t] + phi * prev
            y[r, t] = prev
    return y


def _wind_speed_m_s(
    innovations: NDArray[np.float64], mean_m_s: float, weibull_k: float, persistence: float
) -> NDArray[np.float64]:
    """Weibull(k, λ) speeds, m/s, same shape as ``innovations``, persistent along the last axis.

    Gaussian copula: a stationary AR(1) ``z`` through ``Φ`` and the Weibull inverse CDF,
    ``λ (-ln(1 - Φ(z)))^(1/k)`` with ``λ = mean / Γ(1 + 1/k)``; modifies ``innovations``.
    """
    scale_m_s = mean_m_s / math.gamma(1.0 + 1.0 / weibull_k)
    z = _ar1(innovations, persistence)
    # log_ndtr(-z) = ln(1 - Φ(z)), accurate in the upper tail where 1 - Φ(z) underflows.
    return scale_m_s * (-special.log_ndtr(-z)) ** (1.0 / weibull_k)


def _lognormal_unit_mean(eps: NDArray[np.float64], rel_std: float) -> NDArray[np.float64]:
    """Mean-one lognormal factor with relative std ``rel_std``, in place over ``eps``."""
    sigma = math.sqrt(math.log1p(rel_std * rel_std))
    eps *= sigma
    eps -= 0.5 * sigma * sigma
    return np.exp(eps, out=eps)


def _member_output(
    dev: NDArray[np.float64],
    cf: NDArray[np.float64],
    capacity_mw: NDArray[np.float64],
    rel_std: float,
) -> NDArray[np.float64]:
    """(E, T, N) output, MW: shared ``cf`` (E, T) times ``1 + σ dev``, clipped to [0, 1]."""
    dev *= rel_std
    dev += 1.0
    dev *= cf[..., None]
    np.clip(dev, 0.0, 1.0, out=dev)
    dev *= capacity_mw
    return dev


def _temperature(
    day_of_year: NDArray[np.int64],
    hour_of_day: NDArray[np.int64],
    latitude_deg: float,
    temperature_mean_c: float | None,
) -> NDArray[np.float64]:
    """(T,) deterministic temperature, deg C: seasonal (or fixed) mean plus diurnal swing."""
    if temperature_mean_c is None:
        coldest = _TEMP_COLDEST_DAY + (182.5 if latitude_deg < 0.0 else 0.0)
        mean_c = _TEMP_ANNUAL_MEAN_C - _TEMP_SEASON_AMPLITUDE_C * np.cos(
            2.0 * np.pi * (day_of_year - coldest) / 365.0
        )
    else:
        mean_c = np.full(day_of_year.shape, float(temperature_mean_c))
    diurnal = _TEMP_DIURNAL_AMPLITUDE_C * np.cos(
        2.0 * np.pi * (hour_of_day - _TEMP_WARMEST_HOUR) / 24.0
    )
    return mean_c + diurnal


def _check_scalars(
    num_envs: int,
    hours: int,
    start_hour_of_year: int,
    first_weekday: int,
    system_peak_load_mw: float,
    temperature_mean_c: float | None,
    member_weather_noise_std: float,
) -> None:
    """Validate the scalar arguments of :func:`make_profiles` (bounds: WEATHER_BOUNDS)."""
    check_number("num_envs", num_envs, integer=True, bounds=Bounds(ge=1), unit="envs")
    check_number("hours", hours, integer=True, bounds=Bounds(ge=1), unit="h")
    check_number("start_hour_of_year", start_hour_of_year, integer=True, bounds=Bounds(0, le=8759))
    check_number("first_weekday", first_weekday, integer=True, bounds=Bounds(0, le=6))
    check_number("system_peak_load_mw", system_peak_load_mw, bounds=Bounds(gt=0))
    if temperature_mean_c is not None:
        check_number("temperature_mean_c", temperature_mean_c,
                     bounds=WEATHER_BOUNDS["temperature_mean_c"])  # fmt: skip
    check_number("member_weather_noise_std", member_weather_noise_std,
                 bounds=WEATHER_BOUNDS["member_weather_noise_std"])  # fmt: skip


def _check_members(sector_idx: ArrayLike, *capacities: ArrayLike) -> tuple[NDArray[Any], ...]:
    """Validate the (N,) member arrays; return them as int64 (sector_idx) / float64 arrays."""
    idx = np.asarray(sector_idx)
    if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(
            f"sector_idx has shape {idx.shape} and dtype {idx.dtype}; "
            "expected an integer (N,) array"
        )
    bad = (idx < 0) | (idx >= len(SECTORS))
    if bad.any():
        raise ValueError(
            f"sector_idx[{int(np.argmax(bad))}]={int(idx[bad][0])}; expected an index in "
            f"[0, {len(SECTORS) - 1}] into SECTORS={SECTORS}"
        )
    out: list[NDArray[Any]] = [idx.astype(np.int64)]
    for name, value in zip(("peak_load_mw", "pv_mw", "wind_mw"), capacities, strict=True):
        arr = np.asarray(value, dtype=np.float64)
        if arr.shape != idx.shape:
            raise ValueError(
                f"{name} has shape {arr.shape}; expected (N,) = {idx.shape} from sector_idx"
            )
        bad = ~np.isfinite(arr) | (arr < 0.0)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"{name}[{i}]={float(arr[i])!r} MW; expected finite values >= 0")
        out.append(arr)
    return tuple(out)
