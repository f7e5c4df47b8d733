"""Config and hourly profiles of a pooled-procurement (CFE matching) scenario.

The scenario file (``configs/scenarios/pooled_procurement.yaml``, top-level key
``env: evaluation.cfe``) is built into :class:`CfeScenarioConfig` by the project's one
loader (:func:`envs.config_loader.build`: unknown keys and bad values raise
:class:`~envs.errors.ConfigError`). :func:`build_profiles` turns it into (T, P) hourly
load, solar and wind arrays, synthetic (seeded) or real (package data, see
:mod:`envs.real_profiles`); each participant's series are scaled to its annual volumes.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from envs import cfe
from envs.config_loader import apply_overrides, build, load_yaml
from envs.errors import ConfigError
from envs.real_profiles import BDEW_PROFILES, TMY3_FILES
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
Sector = Literal["data_centre", "hospital", "retailer", "industrial", "residential", "business"]
BdewProfile = Literal["H25", "G25", "L25", "P25", "S25"]


def _non_negative(where: str, **values: float) -> None:
    """Raise ConfigError naming the first negative or non-finite value."""
    for key, value in values.items():
        if not np.isfinite(value) or value < 0:
            raise ConfigError(f"{where}{key}={value}; expected a finite value >= 0")


@dataclass(frozen=True, slots=True)
class ParticipantConfig:
    """One pool member: its load, contracted solar and wind volumes, and prices."""

    name: str
    sector: Sector
    annual_load_mwh: float
    solar_mwh: float = 0.0
    wind_mwh: float = 0.0
    certificate_price_eur_per_mwh: float = 5.0
    shortage_price_eur_per_mwh: float = 50.0
    bdew_profile: BdewProfile = "G25"
    baseload_share: float = 0.0
    profile_csv: str = ""

    def __post_init__(self) -> None:
        """Check volumes and prices are >= 0, load > 0 and the baseload share in [0, 1]."""
        where = f"participants[{self.name}]."
        _non_negative(
            where,
            solar_mwh=self.solar_mwh,
            wind_mwh=self.wind_mwh,
            certificate_price_eur_per_mwh=self.certificate_price_eur_per_mwh,
            shortage_price_eur_per_mwh=self.shortage_price_eur_per_mwh,
        )
        if not self.annual_load_mwh > 0:
            raise ConfigError(f"{where}annual_load_mwh={self.annual_load_mwh}; expected MWh > 0")
        if not 0.0 <= self.baseload_share <= 1.0:
            raise ConfigError(f"{where}baseload_share={self.baseload_share}; expected [0, 1]")


@dataclass(frozen=True, slots=True)
class SyntheticProfilesConfig:
    """Parameters of the seeded synthetic weather (:mod:`envs.cfe`)."""

    latitude_deg: float = 31.0
    mean_wind_speed_m_per_s: float = 7.5

    def __post_init__(self) -> None:
        """Check the latitude is in [-66, 66] and the mean wind speed positive."""
        if not -66.0 <= self.latitude_deg <= 66.0:
            raise ConfigError(f"synthetic.latitude_deg={self.latitude_deg}; expected [-66, 66]")
        if not self.mean_wind_speed_m_per_s > 0:
            raise ConfigError(
                f"synthetic.mean_wind_speed_m_per_s={self.mean_wind_speed_m_per_s}; expected > 0"
            )


@dataclass(frozen=True, slots=True)
class RealProfilesConfig:
    """Which shipped weather file and turbine the real profiles use."""

    tmy3_file: str = "723170TYA.CSV"
    turbine_type: str = "E-126/4200"
    hub_height_m: float = 135.0

    def __post_init__(self) -> None:
        """Check the TMY3 file is one pvlib ships and the hub height is positive."""
        if self.tmy3_file not in TMY3_FILES:
            raise ConfigError(
                f"real.tmy3_file={self.tmy3_file!r}; expected one of {list(TMY3_FILES)}"
            )
        if not self.hub_height_m > 0:
            raise ConfigError(f"real.hub_height_m={self.hub_height_m}; expected > 0 m")


@dataclass(frozen=True, slots=True)
class CfeScenarioConfig:
    """A full-year pooled-procurement scenario."""

    participants: tuple[ParticipantConfig, ...]
    profiles: Literal["synthetic", "real"] = "synthetic"
    year: int = 2023
    seed: int = 0
    swap_price_eur_per_mwh: float = 10.0
    synthetic: SyntheticProfilesConfig = field(default_factory=SyntheticProfilesConfig)
    real: RealProfilesConfig = field(default_factory=RealProfilesConfig)

    def __post_init__(self) -> None:
        """Check there are participants with unique names, a non-leap year, prices >= 0."""
        if not self.participants:
            raise ConfigError("participants is empty; expected at least one participant")
        names = [p.name for p in self.participants]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConfigError(f"participants: name {dupes[0]!r} is used twice; names must differ")
        if calendar.isleap(self.year):
            raise ConfigError(f"year={self.year} is a leap year; expected a year of 8760 hours")
        _non_negative("", swap_price_eur_per_mwh=self.swap_price_eur_per_mwh)

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


def _real_shapes(cfg: CfeScenarioConfig) -> tuple[NDArray[np.float64], ...]:
    """(T, P) load shape and (T,) solar and wind capacity factors from package data."""
    from envs import real_profiles as real

    solar = real.tmy3_pv_cf(cfg.real.tmy3_file, year=cfg.year)
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
    sector. A participant's ``profile_csv`` (format: :func:`envs.real_profiles.load_user_csv`)
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
        first_weekday = calendar.weekday(cfg.year, 1, 1)
        sectors = [p.sector for p in cfg.participants]
        load = cfe.synthetic_load_mwh(sectors, 1.0, rng, hours=hours, first_weekday=first_weekday)
        solar_cf = cfe.synthetic_solar_cf(rng, hours=hours, latitude_deg=cfg.synthetic.latitude_deg)
        wind_cf = cfe.synthetic_wind_cf(
            rng, hours=hours, mean_speed_m_per_s=cfg.synthetic.mean_wind_speed_m_per_s
        )
    n = len(cfg.participants)
    solar = np.repeat(solar_cf[:, None], n, axis=1)
    wind = np.repeat(wind_cf[:, None], n, axis=1)
    load = np.array(load, dtype=np.float64)
    for i, part in enumerate(cfg.participants):  # per-file I/O, not per-hour arithmetic
        if part.profile_csv:
            from envs.real_profiles import load_user_csv

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
