"""Config and hourly profiles of a pooled-procurement (CFE matching) scenario.

The scenario file (``configs/scenarios/pooled_procurement.yaml``, top-level key
``env: evaluation.cfe``) is built into :class:`CfeScenarioConfig` by the project's one
loader (:func:`envs.config.loader.build`: unknown keys and bad values raise
:class:`~envs.errors.ConfigError`). :func:`build_profiles` turns it into (T, P) hourly
load, solar and wind arrays, synthetic (seeded) or real (package data, see
:mod:`envs.data.real_profiles`); each participant's series are scaled to its annual volumes.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from envs.cfe import model as cfe
from envs.config import limits as lim
from envs.config.loader import apply_overrides, build, load_yaml
from envs.config.scenario import WeatherConfig
from envs.config.validate import bounded, check, check_fields
from envs.data.profiles import WEATHER_BOUNDS, make_profiles
from envs.data.real_profiles import BDEW_PROFILES, TMY3_FILES
from envs.data.sectors import SECTORS
from envs.errors import ConfigError
from envs.registry import scenario_file

__all__ = [
    "ENV_KEY",
    "CfeScenarioConfig",
    "ParticipantConfig",
    "Profiles",
    "RealProfilesConfig",
    "SyntheticProfilesConfig",
    "build_profiles",
    "load_scenario",
]

#: The ``env:`` key that marks a scenario file as one for ``python -m evaluation.cfe``.
ENV_KEY = "evaluation.cfe"
# A participant's synthetic load shape is a sector of the one sector table (envs/data/sectors.py).
Sector = Literal[SECTORS]  # type: ignore[valid-type]
BdewProfile = Literal["H25", "G25", "L25", "P25", "S25"]


@dataclass(frozen=True, slots=True)
class ParticipantConfig:
    """One pool member: its load, contracted solar and wind volumes, and prices."""

    name: str
    sector: Sector
    annual_load_mwh: float = bounded(gt=0, le=lim.ANNUAL_ENERGY_MWH)
    solar_mwh: float = bounded(0.0, ge=0, le=lim.ANNUAL_ENERGY_MWH)
    wind_mwh: float = bounded(0.0, ge=0, le=lim.ANNUAL_ENERGY_MWH)
    certificate_price_eur_per_mwh: float = bounded(5.0, ge=0, le=lim.PRICE_EUR_PER_MWH)
    shortage_price_eur_per_mwh: float = bounded(50.0, ge=0, le=lim.PRICE_EUR_PER_MWH)
    bdew_profile: BdewProfile = "G25"
    baseload_share: float = bounded(0.0, ge=0, le=1)
    profile_csv: str = ""

    def __post_init__(self) -> None:
        """Check each field's type and bounds (volumes and prices >= 0, load > 0)."""
        check_fields(self)


@dataclass(frozen=True, slots=True)
class SyntheticProfilesConfig:
    """Parameters of the seeded synthetic weather (the simulator's, :mod:`envs.data.profiles`).

    The fields are named and bounded as in the simulator's weather section
    (:class:`envs.config.scenario.WeatherConfig`); the other weather fields take its defaults.
    """

    #: Old keys still read (with a DeprecationWarning) for one release: old -> new.
    RENAMED_KEYS: ClassVar[dict[str, str]] = {"mean_wind_speed_m_per_s": "wind_mean_speed_m_s"}

    latitude_deg: float = bounded(31.0, ge=-66, le=66)
    wind_mean_speed_m_s: float = bounded(7.5, bounds=WEATHER_BOUNDS["wind_mean_speed_m_s"])

    def __post_init__(self) -> None:
        """Check each field's type and bounds."""
        check_fields(self)


@dataclass(frozen=True, slots=True)
class RealProfilesConfig:
    """Which shipped weather file and turbine the real profiles use."""

    tmy3_file: str = "723170TYA.CSV"
    turbine_type: str = "E-126/4200"
    hub_height_m: float = bounded(135.0, gt=0, le=300)  # tallest hubs: about 170 m

    def __post_init__(self) -> None:
        """Check each field's type and bounds, and the TMY3 file is one pvlib ships."""
        check_fields(self)
        check(self.tmy3_file in TMY3_FILES, "tmy3_file", self.tmy3_file, f"one of {TMY3_FILES}")


@dataclass(frozen=True, slots=True)
class CfeScenarioConfig:
    """A full-year pooled-procurement scenario."""

    participants: tuple[ParticipantConfig, ...]
    profiles: Literal["synthetic", "real"] = "synthetic"
    year: int = bounded(2023, ge=1, le=9999)
    seed: int = bounded(0, ge=0, le=lim.SEED)  # numpy seeds are non-negative
    swap_price_eur_per_mwh: float = bounded(10.0, ge=0, le=lim.PRICE_EUR_PER_MWH)
    synthetic: SyntheticProfilesConfig = field(default_factory=SyntheticProfilesConfig)
    real: RealProfilesConfig = field(default_factory=RealProfilesConfig)

    def __post_init__(self) -> None:
        """Check each field's type and bounds, participants with unique names, no leap year."""
        check_fields(self)
        if not self.participants:
            raise ConfigError("participants is empty; expected at least one participant")
        names = [p.name for p in self.participants]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConfigError(f"participants: name {dupes[0]!r} is used twice; names must differ")
        if calendar.isleap(self.year):
            raise ConfigError(f"year={self.year} is a leap year; expected a year of 8760 hours")

    @property
    def hours(self) -> int:
        """T, hours in the simulated year."""
        return 8760

    @property
    def names(self) -> tuple[str, ...]:
        """Participant names, in config order (the P axis)."""
        return tuple(p.name for p in self.participants)


def load_scenario(name: str, overrides: dict[str, Any] | None = None) -> CfeScenarioConfig:
    """Load a shipped scenario whose file says ``env: evaluation.cfe``.

    Args:
        name: scenario name (file stem in ``configs/scenarios``).
        overrides: dotted-path overrides, e.g. ``{"seed": 3, "profiles": "real"}``.

    Raises:
        UnknownNameError: no such CFE scenario (the message lists the valid ones).
        ConfigError: an unknown key or a bad value.
    """
    path = scenario_file(name, ENV_KEY)
    data = load_yaml(path, resolve_base=lambda base: scenario_file(base, ENV_KEY))
    data.pop("env", None)
    return build(CfeScenarioConfig, apply_overrides(data, overrides))


@dataclass(frozen=True, slots=True)
class Profiles:
    """Hourly series of a scenario, each (T, P) in MWh per hour (P in config order)."""

    names: tuple[str, ...]
    load_mwh: NDArray[np.float64]
    solar_mwh: NDArray[np.float64]
    wind_mwh: NDArray[np.float64]

    @property
    def gen_mwh(self) -> NDArray[np.float64]:
        """(T, P) carbon-free generation (solar + wind), MWh."""
        return self.solar_mwh + self.wind_mwh


def _synthetic_shapes(
    cfg: CfeScenarioConfig, rng: np.random.Generator
) -> tuple[NDArray[np.float64], ...]:
    """(T, P) load shape and (T,) solar and wind capacity factors from the simulator's generator.

    One env over the whole year from 1 January 00:00 (:func:`envs.data.profiles.make_profiles`),
    each participant a 1 MW member of its sector; weather is regional, so every
    participant's solar and wind share one shape (no member deviation).
    """
    n = len(cfg.participants)
    ones = np.ones(n)
    weather = WeatherConfig(
        latitude_deg=cfg.synthetic.latitude_deg,
        wind_mean_speed_m_s=cfg.synthetic.wind_mean_speed_m_s,
    )
    prof = make_profiles(
        rng,
        weather,
        num_envs=1,
        hours=cfg.hours,
        start_hour_of_year=0,
        sector_idx=np.array([SECTORS.index(p.sector) for p in cfg.participants], dtype=np.int64),
        peak_load_mw=ones,
        pv_mw=ones,
        wind_mw=ones,
        system_peak_load_mw=1.0,  # the system load is drawn but not used here
        member_weather_noise_std=0.0,
        first_weekday=calendar.weekday(cfg.year, 1, 1),
    )
    return prof.load_mw[0], prof.solar_cf[0], prof.wind_cf[0]


def _real_shapes(cfg: CfeScenarioConfig) -> tuple[NDArray[np.float64], ...]:
    """(T, P) load shape and (T,) solar and wind capacity factors from package data."""
    from envs.data import real_profiles as real

    solar = real.tmy3_solar_cf(cfg.real.tmy3_file, year=cfg.year)
    wind = real.tmy3_wind_cf(
        cfg.real.tmy3_file,
        year=cfg.year,
        turbine_type=cfg.real.turbine_type,
        hub_height_m=cfg.real.hub_height_m,
    )
    cache = {p: real.bdew_load_mw(p, annual_mwh=1.0, year=cfg.year) for p in BDEW_PROFILES}
    slp = np.stack([cache[p.bdew_profile] for p in cfg.participants], axis=1)
    share = np.array([p.baseload_share for p in cfg.participants])
    # 24/7 sites (data centres, hospitals) have no BDEW class: blend a flat baseload in.
    load = share / cfg.hours + (1.0 - share) * slp
    return load, solar, wind


def build_profiles(cfg: CfeScenarioConfig, rng: np.random.Generator) -> Profiles:
    """Hourly load, solar and wind of every participant, scaled to its annual volumes.

    Solar and wind shapes are regional (shared by all participants); loads differ by
    sector. A participant's ``profile_csv`` (format: :func:`envs.data.real_profiles.load_user_csv`)
    replaces its load shape, and its solar/wind shapes where those columns are present.

    Args:
        cfg: the scenario.
        rng: the random stream (used by synthetic profiles only).

    Returns:
        The scenario's :class:`Profiles`.
    """
    hours = cfg.hours
    if cfg.profiles == "real":
        load, solar_cf, wind_cf = _real_shapes(cfg)
    else:
        load, solar_cf, wind_cf = _synthetic_shapes(cfg, rng)
    n = len(cfg.participants)
    solar = np.repeat(solar_cf[:, None], n, axis=1)
    wind = np.repeat(wind_cf[:, None], n, axis=1)
    load = np.array(load, dtype=np.float64)
    for i, part in enumerate(cfg.participants):  # per-file I/O, not per-hour arithmetic
        if part.profile_csv:
            from envs.data.real_profiles import load_user_csv

            user = load_user_csv(Path(part.profile_csv), hours=hours)
            load[:, i] = user["load_mw"]
            solar[:, i] = user.get("solar_mw", solar[:, i])
            wind[:, i] = user.get("wind_mw", wind[:, i])
    volume = np.array([[p.annual_load_mwh, p.solar_mwh, p.wind_mwh] for p in cfg.participants])
    return Profiles(
        names=cfg.names,
        load_mwh=cfe.scale_to_annual(load, volume[:, 0]),
        solar_mwh=_scale_or_zero(solar, volume[:, 1], cfg.names, "solar_mwh"),
        wind_mwh=_scale_or_zero(wind, volume[:, 2], cfg.names, "wind_mwh"),
    )


def _scale_or_zero(
    shape: NDArray[np.float64], annual_mwh: NDArray[np.float64], names: tuple[str, ...], key: str
) -> NDArray[np.float64]:
    """Scale columns to ``annual_mwh`` (zero volume gives zeros); refuse an all-zero shape."""
    total = shape.sum(axis=0)
    empty = np.flatnonzero((total <= 0) & (annual_mwh > 0))
    if empty.size:
        i = int(empty[0])
        raise ConfigError(
            f"participants[{names[i]}].{key}={annual_mwh[i]} but its hourly shape is all "
            "zero (check its profile_csv column); set the volume to 0 or give a shape"
        )
    factor = np.divide(annual_mwh, total, out=np.zeros_like(total), where=total > 0)
    return shape * factor
