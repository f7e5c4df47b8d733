"""Scenario configuration: frozen dataclasses, validation, and the loader.

A scenario YAML (``configs/scenarios/<name>.yaml``) sets any of the fields below;
``extends: <name>`` starts from another scenario. Code defaults equal
``configs/scenarios/default.yaml``'s base. Units are in the field names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from envs.config_loader import apply_overrides, build, load_yaml
from envs.errors import ConfigError
from envs.registry import scenario_file

__all__ = [
    "PERSONAS",
    "ScenarioConfig",
    "load_scenario",
]

Sector = Literal[
    "residential", "commercial", "industrial", "data_centre", "hospital", "school", "bakery"
]


def _check(ok: bool, path: str, value: Any, expected: str) -> None:
    if not ok:
        raise ConfigError(f"{path}={value!r} is out of range; expected {expected}")


@dataclass(frozen=True, slots=True)
class SpotConfig:
    """Energy market rules (DESIGN §3.3)."""

    price_floor_eur_per_mwh: float = -500.0
    price_cap_eur_per_mwh: float = 3000.0
    pricing: Literal["uniform", "pay_as_bid"] = "uniform"
    demand_elastic_share: float = 0.0
    demand_blocks: int = 4
    demand_price_low_eur_per_mwh: float = 30.0
    demand_price_high_eur_per_mwh: float = 300.0
    imbalance_spread_eur_per_mwh: float = 25.0
    scarcity_price_share: float = 0.9

    def __post_init__(self) -> None:
        _check(
            self.price_floor_eur_per_mwh < self.price_cap_eur_per_mwh,
            "spot.price_floor_eur_per_mwh",
            self.price_floor_eur_per_mwh,
            f"below spot.price_cap_eur_per_mwh={self.price_cap_eur_per_mwh}",
        )
        _check(
            self.price_cap_eur_per_mwh > 0
            and self.demand_price_high_eur_per_mwh <= self.price_cap_eur_per_mwh,
            "spot.price_cap_eur_per_mwh",
            self.price_cap_eur_per_mwh,
            f"> 0 and >= spot.demand_price_high_eur_per_mwh={self.demand_price_high_eur_per_mwh}",
        )
        _check(
            0.0 <= self.demand_elastic_share < 1.0,
            "spot.demand_elastic_share",
            self.demand_elastic_share,
            "[0, 1)",
        )
        _check(1 <= self.demand_blocks <= 16, "spot.demand_blocks", self.demand_blocks, "1..16")
        _check(
            self.imbalance_spread_eur_per_mwh >= 0,
            "spot.imbalance_spread_eur_per_mwh",
            self.imbalance_spread_eur_per_mwh,
            ">= 0",
        )
        _check(
            0.0 < self.scarcity_price_share <= 1.0,
            "spot.scarcity_price_share",
            self.scarcity_price_share,
            "(0, 1]",
        )


@dataclass(frozen=True, slots=True)
class ReserveConfig:
    """Upward reserve market (DESIGN §3.3)."""

    enabled: bool = True
    requirement_share_of_load: float = 0.04
    requirement_share_of_renewables: float = 0.1
    scarcity_price_eur_per_mw: float = 500.0
    activation_probability: float = 0.15
    activation_fraction_max: float = 0.5
    non_delivery_penalty_eur_per_mwh: float = 1000.0

    def __post_init__(self) -> None:
        _check(
            0.0 <= self.requirement_share_of_load <= 1.0,
            "reserve.requirement_share_of_load",
            self.requirement_share_of_load,
            "[0, 1]",
        )
        _check(
            0.0 <= self.activation_probability <= 1.0,
            "reserve.activation_probability",
            self.activation_probability,
            "[0, 1]",
        )
        _check(
            0.0 <= self.activation_fraction_max <= 1.0,
            "reserve.activation_fraction_max",
            self.activation_fraction_max,
            "[0, 1]",
        )
        _check(
            self.scarcity_price_eur_per_mw > 0,
            "reserve.scarcity_price_eur_per_mw",
            self.scarcity_price_eur_per_mw,
            "> 0",
        )


@dataclass(frozen=True, slots=True)
class CapacityConfig:
    """Capacity market with a VRR demand curve (DESIGN §3.3)."""

    enabled: bool = True
    period_h: int = 0
    target_share_of_peak: float = 1.15
    price_cap_eur_per_mw_day: float = 300.0
    curve_lower: float = 0.05
    curve_upper: float = 0.10
    battery_full_credit_h: float = 4.0
    solar_credit: float = 0.1
    wind_credit: float = 0.15
    performance_penalty_eur_per_mwh: float = 3000.0

    def __post_init__(self) -> None:
        _check(
            self.period_h >= 0, "capacity.period_h", self.period_h, ">= 0 (0 = once per episode)"
        )
        _check(
            self.target_share_of_peak > 0,
            "capacity.target_share_of_peak",
            self.target_share_of_peak,
            "> 0",
        )
        _check(0.0 <= self.curve_lower < 1.0, "capacity.curve_lower", self.curve_lower, "[0, 1)")
        _check(self.curve_upper > 0.0, "capacity.curve_upper", self.curve_upper, "> 0")
        _check(
            self.price_cap_eur_per_mw_day > 0,
            "capacity.price_cap_eur_per_mw_day",
            self.price_cap_eur_per_mw_day,
            "> 0",
        )


@dataclass(frozen=True, slots=True)
class GeneratorConfig:
    """One incumbent unit (DESIGN §4)."""

    name: str
    technology: str = "gas_cc"
    capacity_mw: float = 100.0
    marginal_cost_eur_per_mwh: float = 50.0
    ramp_mw_per_h: float = 100.0
    emission_t_per_mwh: float = 0.37
    min_output_mw: float = 0.0
    capacity_derating: float = 0.9
    reserve_cost_eur_per_mw: float = 5.0
    reserve_share: float = 0.2

    def __post_init__(self) -> None:
        p = f"fleet.generators[{self.name}]"
        _check(self.capacity_mw > 0, f"{p}.capacity_mw", self.capacity_mw, "> 0")
        _check(self.ramp_mw_per_h > 0, f"{p}.ramp_mw_per_h", self.ramp_mw_per_h, "> 0")
        _check(
            0 <= self.min_output_mw <= self.capacity_mw,
            f"{p}.min_output_mw",
            self.min_output_mw,
            f"[0, capacity_mw={self.capacity_mw}]",
        )
        _check(
            self.emission_t_per_mwh >= 0, f"{p}.emission_t_per_mwh", self.emission_t_per_mwh, ">= 0"
        )
        _check(
            0 < self.capacity_derating <= 1,
            f"{p}.capacity_derating",
            self.capacity_derating,
            "(0, 1]",
        )
        _check(0 <= self.reserve_share <= 1, f"{p}.reserve_share", self.reserve_share, "[0, 1]")


DEFAULT_FLEET: tuple[GeneratorConfig, ...] = (
    GeneratorConfig("nuclear", "nuclear", 200.0, 12.0, 20.0, 0.0, 150.0, 0.95, 20.0, 0.0),
    GeneratorConfig("hydro", "hydro", 100.0, 25.0, 100.0, 0.0, 0.0, 0.9, 2.0, 0.4),
    GeneratorConfig("coal", "coal", 150.0, 38.0, 50.0, 0.95, 40.0, 0.9, 6.0, 0.1),
    GeneratorConfig("gas_cc_1", "gas_cc", 150.0, 58.0, 100.0, 0.37, 0.0, 0.92, 4.0, 0.25),
    GeneratorConfig("gas_cc_2", "gas_cc", 150.0, 63.0, 100.0, 0.38, 0.0, 0.92, 4.0, 0.25),
    GeneratorConfig("gas_ct_1", "gas_ct", 100.0, 95.0, 100.0, 0.55, 0.0, 0.95, 3.0, 0.5),
    GeneratorConfig("gas_ct_2", "gas_ct", 80.0, 115.0, 80.0, 0.6, 0.0, 0.95, 3.0, 0.5),
    GeneratorConfig("oil_peaker", "oil", 60.0, 190.0, 60.0, 0.75, 0.0, 0.95, 3.0, 0.5),
)


@dataclass(frozen=True, slots=True)
class FleetConfig:
    """The incumbent fleet and its scripted strategy (DESIGN §4)."""

    strategy: Literal["competitive", "markup", "withholding"] = "competitive"
    controlled: bool = False
    tranches: int = 3
    markup: float = 0.15
    rsi_threshold: float = 1.1
    withhold_fraction: float = 0.3
    pivotal_markup: float = 1.0
    max_markup: float = 3.0
    generators: tuple[GeneratorConfig, ...] = DEFAULT_FLEET

    def __post_init__(self) -> None:
        _check(1 <= self.tranches <= 8, "fleet.tranches", self.tranches, "1..8")
        _check(self.markup >= 0, "fleet.markup", self.markup, ">= 0")
        _check(self.rsi_threshold > 0, "fleet.rsi_threshold", self.rsi_threshold, "> 0")
        _check(
            0 <= self.withhold_fraction <= 1,
            "fleet.withhold_fraction",
            self.withhold_fraction,
            "[0, 1]",
        )
        _check(self.max_markup > 0, "fleet.max_markup", self.max_markup, "> 0")
        _check(
            len(self.generators) >= 1, "fleet.generators", self.generators, "at least one generator"
        )
        names = [g.name for g in self.generators]
        _check(len(set(names)) == len(names), "fleet.generators", names, "unique names")


@dataclass(frozen=True, slots=True)
class PersonaConfig:
    """A member archetype; sizes are per member, before ``members.size_scale``."""

    sector: Sector
    peak_load_mw: float
    pv_mw: float = 0.0
    wind_mw: float = 0.0
    battery_mwh: float = 0.0
    battery_mw: float = 0.0
    battery_efficiency: float = 0.9
    flex_share: float = 0.0
    export_limit_mw: float = 1e6
    risk_weight: float = 0.0

    def __post_init__(self) -> None:
        _check(
            self.peak_load_mw > 0, f"persona[{self.sector}].peak_load_mw", self.peak_load_mw, "> 0"
        )
        for name in ("pv_mw", "wind_mw", "battery_mwh", "battery_mw", "export_limit_mw"):
            _check(
                getattr(self, name) >= 0,
                f"persona[{self.sector}].{name}",
                getattr(self, name),
                ">= 0",
            )
        _check(
            0 < self.battery_efficiency <= 1,
            f"persona[{self.sector}].battery_efficiency",
            self.battery_efficiency,
            "(0, 1] (round trip)",
        )
        _check(
            0 <= self.flex_share <= 0.5,
            f"persona[{self.sector}].flex_share",
            self.flex_share,
            "[0, 0.5]",
        )


#: Built-in personas (DESIGN §4). A member stands for an aggregate site (e.g. ~300 homes).
PERSONAS: dict[str, PersonaConfig] = {
    "residential": PersonaConfig(
        "residential", 0.5, 0.4, 0.0, 1.0, 0.5, 0.9, 0.10, risk_weight=0.7
    ),
    "commercial": PersonaConfig("commercial", 1.0, 0.5, 0.0, 1.0, 0.5, 0.9, 0.15, risk_weight=0.3),
    "industrial": PersonaConfig("industrial", 3.0, 1.0, 1.0, 4.0, 2.0, 0.9, 0.20, risk_weight=0.2),
    "data_centre": PersonaConfig(
        "data_centre", 4.0, 0.5, 2.0, 4.0, 4.0, 0.92, 0.10, risk_weight=0.5
    ),
    "hospital": PersonaConfig("hospital", 1.5, 0.3, 0.0, 2.0, 1.0, 0.9, 0.05, risk_weight=0.9),
    "school": PersonaConfig("school", 0.4, 0.3, 0.0, 0.4, 0.2, 0.9, 0.10, risk_weight=0.4),
    "bakery": PersonaConfig("bakery", 0.1, 0.1, 0.0, 0.2, 0.1, 0.9, 0.30, risk_weight=0.1),
}


@dataclass(frozen=True, slots=True)
class MembersConfig:
    """The coalition's prosumer members (DESIGN §4)."""

    count: int = 20
    agents: bool = True
    mix: dict[str, float] = field(
        default_factory=lambda: {
            "residential": 0.3,
            "commercial": 0.2,
            "industrial": 0.1,
            "data_centre": 0.05,
            "hospital": 0.1,
            "school": 0.15,
            "bakery": 0.1,
        }
    )
    size_scale: float = 1.0
    pv_scale: float = 1.0
    battery_scale: float = 1.0
    personas: dict[str, PersonaConfig] = field(default_factory=lambda: dict(PERSONAS))
    reward: Literal["individual", "team", "mix"] = "individual"
    reward_mix: float = 0.5

    def __post_init__(self) -> None:
        _check(1 <= self.count <= 100_000, "members.count", self.count, "1..100000")
        unknown = sorted(set(self.mix) - set(self.personas))
        _check(not unknown, "members.mix", unknown, f"persona names among {sorted(self.personas)}")
        _check(
            all(v >= 0 for v in self.mix.values()) and sum(self.mix.values()) > 0,
            "members.mix",
            self.mix,
            "non-negative shares with a positive sum",
        )
        for name in ("size_scale", "pv_scale", "battery_scale"):
            _check(getattr(self, name) >= 0, f"members.{name}", getattr(self, name), ">= 0")
        _check(0 <= self.reward_mix <= 1, "members.reward_mix", self.reward_mix, "[0, 1]")


@dataclass(frozen=True, slots=True)
class CoalitionConfig:
    """The coalition trader (DESIGN §3.2, §3.5)."""

    allocation: Literal["proportional", "marginal", "shapley"] = "proportional"
    shapley_permutations: int = 32

    def __post_init__(self) -> None:
        _check(
            1 <= self.shapley_permutations <= 4096,
            "coalition.shapley_permutations",
            self.shapley_permutations,
            "1..4096",
        )


@dataclass(frozen=True, slots=True)
class TariffConfig:
    """Retail tariff of the individual-actor counterfactual, and grid charges (DESIGN §3.5)."""

    energy_eur_per_mwh: float = 110.0
    network_eur_per_mwh: float = 55.0
    taxes_eur_per_mwh: float = 20.0
    feed_in_eur_per_mwh: float = 45.0
    time_of_use: bool = False
    peak_hours: tuple[int, ...] = (17, 18, 19, 20)
    peak_multiplier: float = 1.5
    offpeak_multiplier: float = 0.85
    community_discount: float = 0.0

    def __post_init__(self) -> None:
        _check(
            0 <= self.community_discount <= 1,
            "tariff.community_discount",
            self.community_discount,
            "[0, 1]",
        )
        _check(
            all(0 <= h <= 23 for h in self.peak_hours),
            "tariff.peak_hours",
            self.peak_hours,
            "hours 0..23",
        )
        for name in ("energy_eur_per_mwh", "network_eur_per_mwh", "taxes_eur_per_mwh"):
            _check(getattr(self, name) >= 0, f"tariff.{name}", getattr(self, name), ">= 0")


@dataclass(frozen=True, slots=True)
class BackgroundConfig:
    """System demand outside the coalition and must-take system renewables."""

    peak_load_mw: float = 800.0
    solar_mw: float = 150.0
    wind_mw: float = 200.0
    renewable_offer_eur_per_mwh: float = 0.0

    def __post_init__(self) -> None:
        _check(self.peak_load_mw > 0, "background.peak_load_mw", self.peak_load_mw, "> 0")
        _check(
            self.solar_mw >= 0 and self.wind_mw >= 0,
            "background.solar_mw/wind_mw",
            (self.solar_mw, self.wind_mw),
            ">= 0",
        )


@dataclass(frozen=True, slots=True)
class WeatherConfig:
    """Synthetic weather (see :mod:`envs.profiles`)."""

    latitude_deg: float = 50.0
    cloudiness_mean: float = 0.4
    cloudiness_persistence: float = 0.9
    wind_mean_speed_m_s: float = 7.5
    wind_weibull_k: float = 2.0
    wind_persistence: float = 0.95
    temperature_anomaly_c: float = 0.0
    load_noise_std: float = 0.05

    def __post_init__(self) -> None:
        _check(
            -66 <= self.latitude_deg <= 66, "weather.latitude_deg", self.latitude_deg, "[-66, 66]"
        )
        _check(
            0 <= self.cloudiness_mean < 1, "weather.cloudiness_mean", self.cloudiness_mean, "[0, 1)"
        )
        _check(
            self.wind_mean_speed_m_s > 0,
            "weather.wind_mean_speed_m_s",
            self.wind_mean_speed_m_s,
            "> 0",
        )
        for name in ("cloudiness_persistence", "wind_persistence"):
            _check(0 <= getattr(self, name) < 1, f"weather.{name}", getattr(self, name), "[0, 1)")


@dataclass(frozen=True, slots=True)
class ForecastConfig:
    """Forecasts in observations: relative error grows with lead time as sqrt((h+1)/H)."""

    horizon_h: int = 24
    load_error: float = 0.05
    renewable_error: float = 0.2

    def __post_init__(self) -> None:
        _check(1 <= self.horizon_h <= 168, "forecast.horizon_h", self.horizon_h, "1..168")
        _check(
            self.load_error >= 0 and self.renewable_error >= 0,
            "forecast.load_error/renewable_error",
            (self.load_error, self.renewable_error),
            ">= 0",
        )


@dataclass(frozen=True, slots=True)
class PpaConfig:
    """A pay-as-produced wind PPA held by the coalition (e.g. from ``ppa_negotiation_v0``).

    Each hour the coalition takes ``volume_mw * wind capacity factor`` MWh at
    ``price_eur_per_mwh``; the energy counts toward its position, so deviations from
    the wind shape are the coalition's imbalance. ``volume_mw: 0`` means no PPA.
    """

    volume_mw: float = 0.0
    price_eur_per_mwh: float = 50.0

    def __post_init__(self) -> None:
        _check(self.volume_mw >= 0, "ppa.volume_mw", self.volume_mw, ">= 0")


@dataclass(frozen=True, slots=True)
class ScenarioConfig:
    """A whole scenario: market rules, participants, weather and policy."""

    name: str = "default"
    description: str = ""
    days: int = 7
    start_day_of_year: int = 100
    carbon_price_eur_per_t: float = 0.0
    emissions_accounting: Literal["marginal", "average"] = "average"
    spot: SpotConfig = field(default_factory=SpotConfig)
    reserve: ReserveConfig = field(default_factory=ReserveConfig)
    capacity: CapacityConfig = field(default_factory=CapacityConfig)
    fleet: FleetConfig = field(default_factory=FleetConfig)
    members: MembersConfig = field(default_factory=MembersConfig)
    coalition: CoalitionConfig = field(default_factory=CoalitionConfig)
    tariff: TariffConfig = field(default_factory=TariffConfig)
    background: BackgroundConfig = field(default_factory=BackgroundConfig)
    weather: WeatherConfig = field(default_factory=WeatherConfig)
    forecast: ForecastConfig = field(default_factory=ForecastConfig)
    ppa: PpaConfig = field(default_factory=PpaConfig)

    def __post_init__(self) -> None:
        _check(1 <= self.days <= 366, "days", self.days, "1..366")
        _check(
            1 <= self.start_day_of_year <= 365,
            "start_day_of_year",
            self.start_day_of_year,
            "1..365",
        )
        _check(
            self.carbon_price_eur_per_t >= 0,
            "carbon_price_eur_per_t",
            self.carbon_price_eur_per_t,
            ">= 0",
        )

    @property
    def hours(self) -> int:
        """Episode length T in hourly steps."""
        return self.days * 24


def _resolve(name_or_path: str) -> str:
    if name_or_path.endswith((".yaml", ".yml")) or Path(name_or_path).is_file():
        if not Path(name_or_path).is_file():
            raise ConfigError(f"scenario file {name_or_path!r} does not exist")
        return name_or_path
    return scenario_file(name_or_path, "multimarket_v0")


def load_scenario(
    scenario: str | None = None,
    overrides: dict[str, Any] | None = None,
    **fields: Any,
) -> ScenarioConfig:
    """Load a shipped scenario by name (or a YAML path) and apply overrides.

    Args:
        scenario: name from :func:`envs.list_scenarios` or a path; ``None`` = ``default``.
        overrides: nested fields by dotted path, e.g. ``{"members.count": 200}``.
        **fields: top-level fields, e.g. ``days=3``.

    Raises:
        UnknownNameError: unknown scenario name (lists the valid ones).
        ConfigError: unknown key or bad value (names the field path).
    """
    path = _resolve(scenario or "default")
    data = load_yaml(path, resolve_base=_resolve)
    if data.get("env") is not None:
        raise ConfigError(
            f"scenario {scenario!r} is for env {data['env']!r}, not the multi-market envs"
        )
    data.pop("env", None)
    data = apply_overrides(data, {**fields, **(overrides or {})})
    try:
        return build(ScenarioConfig, data)
    except ConfigError as exc:  # a user's own file: say which one (issue 20)
        if path != scenario or str(exc).startswith(path):
            raise
        raise ConfigError(f"scenario file {path}: {exc}") from None
