"""Scenario configuration: frozen dataclasses, validation, and the loader.

A scenario YAML (``configs/scenarios/<name>.yaml``) sets any of the fields below;
``extends: <name>`` starts from another scenario. Code defaults equal
``configs/scenarios/default.yaml``'s base. Units are in the field names; each field's
bounds are stated where it is declared (:func:`envs.config.validate.bounded`) and checked at
construction, so a bad value fails with its dotted path before any env is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from envs.config import limits as lim
from envs.config.loader import apply_overrides, build, load_yaml
from envs.config.validate import bounded, check, check_fields
from envs.data.profiles import WEATHER_BOUNDS
from envs.data.sectors import SECTORS
from envs.errors import ConfigError
from envs.registry import scenario_file

__all__ = [
    "PERSONAS",
    "ScenarioConfig",
    "load_scenario",
]

# Any sector of the one sector table (envs/data/sectors.py).
Sector = Literal[SECTORS]  # type: ignore[valid-type]

# Shared by the weather config and the generator's arguments (envs/data/profiles.py).
_W = WEATHER_BOUNDS
# Physical limits of every numeric field (why each: envs/config/limits.py).
_PRICE = lim.PRICE_EUR_PER_MWH
_MW = lim.POWER_MW


@dataclass(frozen=True, slots=True)
class SpotConfig:
    """Energy market rules (DESIGN §3.3)."""

    price_floor_eur_per_mwh: float = bounded(-500.0, ge=-_PRICE, le=_PRICE)
    price_cap_eur_per_mwh: float = bounded(3000.0, gt=0, le=_PRICE)
    pricing: Literal["uniform", "pay_as_bid"] = "uniform"
    demand_elastic_share: float = bounded(0.0, ge=0, lt=1)
    demand_blocks: int = bounded(4, ge=1, le=16)
    demand_price_low_eur_per_mwh: float = bounded(30.0, ge=-_PRICE, le=_PRICE)
    demand_price_high_eur_per_mwh: float = bounded(300.0, ge=-_PRICE, le=_PRICE)
    scarcity_price_share: float = bounded(0.9, gt=0, le=1)

    def __post_init__(self) -> None:
        """Check each field's type and bounds, the floor below the cap, the demand prices."""
        check_fields(self)
        check(
            self.price_floor_eur_per_mwh < self.price_cap_eur_per_mwh,
            "price_floor_eur_per_mwh",
            self.price_floor_eur_per_mwh,
            f"below price_cap_eur_per_mwh={self.price_cap_eur_per_mwh}",
        )
        check(
            self.demand_price_high_eur_per_mwh <= self.price_cap_eur_per_mwh,
            "price_cap_eur_per_mwh",
            self.price_cap_eur_per_mwh,
            f">= demand_price_high_eur_per_mwh={self.demand_price_high_eur_per_mwh}",
        )


@dataclass(frozen=True, slots=True)
class ReserveConfig:
    """Upward reserve market (DESIGN §3.3).

    ``clearing``: ``cooptimised`` (energy and reserve in one LP, as PJM and ERCOT clear
    them) or ``sequential`` (the reserve auction first, the European order). The reserve
    held is activated in real time by the system's deviation, not by a random draw.
    ``demand_curve_steps``: the operating-reserve demand curve's blocks, equal shares of
    the requirement valued from ``scarcity_price_eur_per_mw`` down in equal steps (1: the
    vertical requirement of market model v1; the default 4 is a sloped ORDC, PJM's since
    2022 and ERCOT's shape; :func:`envs.market.reserve.demand_curve_row`).
    """

    enabled: bool = True
    clearing: Literal["cooptimised", "sequential"] = "cooptimised"
    requirement_share_of_load: float = bounded(0.04, ge=0, le=1)
    requirement_share_of_renewables: float = bounded(0.1, ge=0, le=1)
    scarcity_price_eur_per_mw: float = bounded(500.0, gt=0, le=_PRICE)  # per MW and hour
    non_delivery_penalty_eur_per_mwh: float = bounded(1000.0, ge=0, le=_PRICE)
    demand_curve_steps: int = bounded(4, ge=1, le=16)

    def __post_init__(self) -> None:
        """Check each field's type and bounds."""
        check_fields(self)


@dataclass(frozen=True, slots=True)
class BalancingConfig:
    """Real-time balancing and imbalance settlement (rules in :mod:`envs.market.balancing`).

    ``scarcity_adder``: ``ordc`` (default) adds the real-time value of reserve to the
    imbalance price when the headroom left online after balancing falls short of the
    reserve requirement (PJM's shortage pricing, ERCOT's ORDC adder; it reaches the spot
    cap less the energy price at ``ordc_min_reserve_share`` of the requirement, ERCOT's
    minimum contingency level: :func:`envs.market.balancing.ordc_adder`), so under-buying
    day-ahead does not pay;
    ``none`` prices the marginal activated offer alone (market model v1).
    ``imbalance_pricing``: ``single`` (default; the EU's harmonised rule, ACER Decision
    18/2020 Art. 9: every deviation at one price, helping the system is paid) or
    ``dual`` (a short position pays at least, a long one receives at most, the day-ahead
    price; Art. 9(6)). ``spot_coupling`` (default on): the imbalance price is at least the
    day-ahead price when the system is short and at most when it is long (Germany's reBAP
    bound, BNetzA BK6-19-552): deploying reserve at its energy offer does not make real
    time cheaper than the day-ahead that held it.
    """

    scarcity_adder: Literal["ordc", "none"] = "ordc"
    imbalance_pricing: Literal["single", "dual"] = "single"
    spot_coupling: bool = True
    ordc_min_reserve_share: float = bounded(0.5, ge=0, lt=1)

    def __post_init__(self) -> None:
        """Check each field's type."""
        check_fields(self)


#: ELCC class ratings by technology (PJM, 2025/2026 BRA ELCC class ratings, Manual 21A):
#: nuclear 95 %, coal 84 %, gas combined cycle 79 %, gas combustion turbine 62 %, onshore
#: wind 35 %, tracking solar 9 %. Units of a technology not listed use their own derating.
DEFAULT_ELCC: dict[str, float] = {
    "nuclear": 0.95,
    "coal": 0.84,
    "gas_cc": 0.79,
    "gas_ct": 0.62,
    "wind": 0.35,
    "solar": 0.09,
}


@dataclass(frozen=True, slots=True)
class CapacityConfig:
    """Capacity market after PJM's RPM (DESIGN §3.3; rules in :mod:`envs.market.capacity`).

    ``period_h`` is the auction period (0 = once per episode), at most a leap year.

    Sources of the defaults (stated from the documents named; check them against the
    current tariff before calibrating to PJM):

    - ``net_cone_eur_per_mw_day``: the order of PJM's RTO Net CONE for its combustion
      turbine reference resource in the BRA planning parameters of 2022/23-2025/26 (about
      USD 270/MW-day UCAP, Brattle's Fourth Quadrennial Review, 2018), at 1.08 USD/EUR:
      EUR 250/MW-day.
    - VRR points a/b/c (``point_*_share`` of the reliability requirement, ``point_*_net_cone``
      multiples of Net CONE): PJM OATT Attachment DD §5.10(a) and Manual 18 §2.4 as revised
      after the 2014 Triennial Review: a at IRM - 0.2 %, b at IRM + 2.9 %, c at IRM + 8.8 %
      of the forecast peak, priced max(Gross CONE, 1.5 Net CONE), 0.75 Net CONE and 0;
      as shares of the requirement at an IRM of 15.5 %: 0.998, 1.025, 1.076.
    - ``price_cap_eur_per_mw_day``: point a's price, 1.5 Net CONE.
    - ``reserve_margin``: requirement = (1 + margin) * forecast peak of all load. Offers are
      accredited (UCAP/ELCC) MW, so the margin is PJM's Forecast Pool Requirement minus 1
      (FPR = (1 + IRM) * the pool's average accreditation; about 0.94 for the 2025/26 BRA,
      IRM 17.7 %), not the installed reserve margin itself.
    - ``elcc``: technology -> ELCC class rating (:data:`DEFAULT_ELCC`); ``solar`` and
      ``wind`` also rate members' PV and wind (0 where missing).
    - ``storage_classes_h``/``storage_elcc``: PJM's 4/6/8/10-hour storage classes, 2025/26
      BRA ratings 59/67/68/78 %.
    - ``performance_assessment_hours``: the Non-Performance Charge Rate is Net CONE * 365 /
      30 expected Performance Assessment Interval hours, EUR/MWh (Attachment DD §10A(e)).
    - ``stop_loss_multiple``: a resource's charges in a delivery year are capped at 1.5 *
      Net CONE * 365 per committed MW (Attachment DD §10A(e)), pro-rated to the episode.
    - ``mopr_floor_net_cone``: buyer-side mitigation after PJM's Minimum Offer Price Rule
      (OATT Attachment DD §5.14(h), the 2021 focused MOPR on buyer-side market power): while
      the coalition is net short (its members' obligation, the margin on their net load at
      the forecast coincident peak, exceeds the MW it offers) its capacity offer price is
      raised to this multiple of Net CONE. A MOPR floor is the resource class's own Net CONE
      (PJM's informational 2020 MOPR values ranged from USD 235/MW-day for a combined cycle
      to 3,261 for offshore wind), not the reference resource's. Default 1.5 (point a's
      price, the cap): on the sloped VRR curve any floor below the price the auction clears
      at without the coalition still lets a net-short buyer lower it, and the shipped
      systems clear at point a; measured with ``python -m evaluation.audit --references rule
      --deviations capacity_at_zero capacity_at_cap``, a floor of 0 / 1.0 / 1.5 leaves
      offering at 0 ahead of offering at the cap by 3.4 / 2.7 / 0.0 % of the members' bills
      in ``large_coalition``.

    Rules that depend on no field (stated in :mod:`envs.market.capacity`): the reliability
    requirement is (1 + ``reserve_margin``) * the forecast *coincident* peak over the
    auction's delivery period of background load plus the members' load net of their own
    PV and wind (their firm capacity offered is then their batteries only); capacity
    committed must be offered in the energy market (must-offer, Attachment DD §6.6); a
    resource's expected performance excuses the MW the operator dispatched it down
    (Attachment DD §10A(c)).
    """

    enabled: bool = True
    period_h: int = bounded(0, ge=0, le=8784)
    net_cone_eur_per_mw_day: float = bounded(250.0, gt=0, le=lim.CAPACITY_PRICE_EUR_PER_MW_DAY)
    reserve_margin: float = bounded(-0.06, gt=-1, le=1)
    point_a_share: float = bounded(0.998, gt=0, le=2)
    point_a_net_cone: float = bounded(1.5, ge=0, le=lim.MULTIPLE)
    point_b_share: float = bounded(1.025, gt=0, le=2)
    point_b_net_cone: float = bounded(0.75, ge=0, le=lim.MULTIPLE)
    point_c_share: float = bounded(1.076, gt=0, le=2)
    point_c_net_cone: float = bounded(0.0, ge=0, le=lim.MULTIPLE)
    price_cap_eur_per_mw_day: float = bounded(375.0, gt=0, le=lim.CAPACITY_PRICE_EUR_PER_MW_DAY)
    elcc: dict[str, float] = bounded(  # noqa: RUF009 - bounded returns a dataclasses.field
        ge=0, le=1, default_factory=lambda: dict(DEFAULT_ELCC)
    )
    storage_classes_h: tuple[float, ...] = bounded(
        (4.0, 6.0, 8.0, 10.0), gt=0, le=lim.HOURS_PER_LEAP_YEAR, unit="h"
    )
    storage_elcc: tuple[float, ...] = bounded((0.59, 0.67, 0.68, 0.78), ge=0, le=1)
    performance_assessment_hours: float = bounded(30.0, gt=0, le=lim.HOURS_PER_LEAP_YEAR)
    stop_loss_multiple: float = bounded(1.5, ge=0, le=lim.MULTIPLE)
    mopr_floor_net_cone: float = bounded(1.5, ge=0, le=lim.MULTIPLE)

    def __post_init__(self) -> None:
        """Check each field's type and bounds, the points in order, the storage classes."""
        check_fields(self)
        shares = (self.point_a_share, self.point_b_share, self.point_c_share)
        check(shares[0] <= shares[1] <= shares[2], "point_a_share", shares,
              "point_a_share <= point_b_share <= point_c_share")  # fmt: skip
        prices = (self.point_a_net_cone, self.point_b_net_cone, self.point_c_net_cone)
        check(prices[0] >= prices[1] >= prices[2], "point_a_net_cone", prices,
              "point_a_net_cone >= point_b_net_cone >= point_c_net_cone")  # fmt: skip
        check(len(self.storage_classes_h) >= 1
              and len(self.storage_classes_h) == len(self.storage_elcc), "storage_elcc",
              self.storage_elcc, f"one rating per class of storage_classes_h="
              f"{self.storage_classes_h}")  # fmt: skip
        increasing = list(self.storage_classes_h) == sorted(set(self.storage_classes_h))
        check(increasing, "storage_classes_h", self.storage_classes_h,
              "strictly increasing durations")  # fmt: skip

    @property
    def non_performance_rate_eur_per_mwh(self) -> float:
        """PJM's Non-Performance Charge Rate: Net CONE * 365 / expected PAI hours."""
        return self.net_cone_eur_per_mw_day * 365.0 / self.performance_assessment_hours

    @property
    def mopr_floor_eur_per_mw_day(self) -> float:
        """The floor on a net-short coalition's capacity offers, EUR/MW-day."""
        return self.mopr_floor_net_cone * self.net_cone_eur_per_mw_day

    @property
    def stop_loss_eur_per_mw_year(self) -> float:
        """A resource's largest charges per committed MW in a year, EUR/MW."""
        return self.stop_loss_multiple * self.net_cone_eur_per_mw_day * 365.0


@dataclass(frozen=True, slots=True)
class GeneratorConfig:
    """One incumbent unit (DESIGN §4)."""

    name: str
    technology: str = "gas_cc"
    capacity_mw: float = bounded(100.0, gt=0, le=_MW)
    marginal_cost_eur_per_mwh: float = bounded(50.0, ge=-_PRICE, le=_PRICE)
    ramp_mw_per_h: float = bounded(100.0, gt=0, le=lim.RAMP_MW_PER_H)
    emission_t_per_mwh: float = bounded(0.37, ge=0, le=lim.EMISSION_T_PER_MWH)
    min_output_mw: float = bounded(0.0, ge=0, le=_MW)
    capacity_derating: float = bounded(0.9, gt=0, le=1)
    reserve_cost_eur_per_mw: float = bounded(5.0, ge=0, le=_PRICE)  # per MW and hour
    reserve_share: float = bounded(0.2, ge=0, le=1)

    def __post_init__(self) -> None:
        """Check each field's type and bounds, and the minimum output within capacity."""
        check_fields(self)
        check(
            self.min_output_mw <= self.capacity_mw,
            "min_output_mw",
            self.min_output_mw,
            f"[0, capacity_mw={self.capacity_mw}]",
        )


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
    """The incumbent fleet and its scripted strategy (DESIGN §4); markups are fractions.

    ``withholding``: the most pivotal unit withholds up to ``withhold_fraction`` and marks
    up by up to ``pivotal_markup`` when that pays (:mod:`envs.actors.withholding`);
    ``mitigation: three_pivotal`` caps the offers of units failing PJM's three pivotal
    supplier test at cost + 10%.
    """

    strategy: Literal["competitive", "markup", "withholding"] = "competitive"
    mitigation: Literal["none", "three_pivotal"] = "none"
    controlled: bool = False
    tranches: int = bounded(3, ge=1, le=8)
    markup: float = bounded(0.15, ge=0, le=lim.MULTIPLE)
    rsi_threshold: float = bounded(1.1, gt=0, le=lim.MULTIPLE)  # supply / demand ratio
    withhold_fraction: float = bounded(0.3, ge=0, le=1)
    pivotal_markup: float = bounded(1.0, ge=0, le=lim.MULTIPLE)
    max_markup: float = bounded(3.0, gt=0, le=lim.MULTIPLE)
    generators: tuple[GeneratorConfig, ...] = DEFAULT_FLEET

    def __post_init__(self) -> None:
        """Check each field's type and bounds, and at least one generator, names unique."""
        check_fields(self)
        check(len(self.generators) >= 1, "generators", self.generators, "at least one generator")
        names = [g.name for g in self.generators]
        check(len(set(names)) == len(names), "generators", names, "unique names")


@dataclass(frozen=True, slots=True)
class PersonaConfig:
    """A member archetype; sizes are per member, before ``members.size_scale``.

    ``peak_load_mw`` is the member's realised peak: its largest hourly load of the episode
    (:mod:`envs.data.episode`). ``battery_efficiency`` is the round trip; ``risk_weight``
    the members' risk aversion beta in [0, 1] (DESIGN §4).
    """

    sector: Sector
    peak_load_mw: float = bounded(gt=0, le=_MW)
    pv_mw: float = bounded(0.0, ge=0, le=_MW)
    wind_mw: float = bounded(0.0, ge=0, le=_MW)
    battery_mwh: float = bounded(0.0, ge=0, le=lim.ENERGY_MWH)
    battery_mw: float = bounded(0.0, ge=0, le=_MW)
    battery_efficiency: float = bounded(0.9, gt=0, le=1)
    flex_share: float = bounded(0.0, ge=0, le=0.5)
    export_limit_mw: float = bounded(1e6, ge=0, le=_MW)
    risk_weight: float = bounded(0.0, ge=0, le=1)

    def __post_init__(self) -> None:
        """Check each field's type and bounds."""
        check_fields(self)


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
    """The coalition's prosumer members (DESIGN §4).

    ``mix`` gives each persona's share of ``count`` (weights, normalised); the scales
    multiply every persona's sizes (``size_scale`` all of them, so it must be > 0).
    """

    count: int = bounded(20, ge=1, le=100_000)
    agents: bool = True
    mix: dict[str, float] = bounded(  # noqa: RUF009 - bounded returns a dataclasses.field
        ge=0,
        le=lim.WEIGHT,
        default_factory=lambda: {
            "residential": 0.3,
            "commercial": 0.2,
            "industrial": 0.1,
            "data_centre": 0.05,
            "hospital": 0.1,
            "school": 0.15,
            "bakery": 0.1,
        },
    )
    size_scale: float = bounded(1.0, gt=0, le=lim.SCALE)
    pv_scale: float = bounded(1.0, ge=0, le=lim.SCALE)
    battery_scale: float = bounded(1.0, ge=0, le=lim.SCALE)
    personas: dict[str, PersonaConfig] = field(default_factory=lambda: dict(PERSONAS))
    reward: Literal["individual", "team", "mix"] = "individual"
    reward_mix: float = bounded(0.5, ge=0, le=1)

    def __post_init__(self) -> None:
        """Check each field's type and bounds, and a mix of known personas summing > 0."""
        check_fields(self)
        unknown = sorted(set(self.mix) - set(self.personas))
        check(not unknown, "mix", unknown, f"persona names among {sorted(self.personas)}")
        check(sum(self.mix.values()) > 0, "mix", self.mix, "shares with a positive sum")


@dataclass(frozen=True, slots=True)
class CoalitionConfig:
    """The coalition trader (DESIGN §3.2, §3.5).

    ``allocation`` shares the coalition's result among its members each hour
    (:mod:`envs.market.allocation`). ``individually_rational``: in the last hour of each
    billing period of ``billing_period_h`` hours (and the episode's last hour), members
    whose saving over the period is negative are lifted to 0 by the members who saved,
    pro rata, whenever the coalition's saving over the period is not negative
    (:mod:`envs.market.billing`; the bill is what a member compares, EU Directive
    2019/944 Annex I). Default 168 h, a weekly bill; 1 h is the hourly floor.
    """

    allocation: Literal["proportional", "marginal", "shapley"] = "proportional"
    shapley_permutations: int = bounded(32, ge=1, le=4096)
    individually_rational: bool = True
    billing_period_h: int = bounded(168, ge=1, le=lim.HOURS_PER_LEAP_YEAR)

    def __post_init__(self) -> None:
        """Check each field's type and bounds."""
        check_fields(self)


@dataclass(frozen=True, slots=True)
class TariffConfig:
    """Retail tariff of the individual-actor counterfactual, and grid charges (DESIGN §3.5).

    ``mode``: ``rehearsal`` (default): the energy part covers the scenario's expected
    wholesale cost, the load-weighted day-ahead price plus the reserve and capacity costs
    per MWh of a price-taking rehearsal of the scenario (:mod:`envs.sim.tariff`), plus
    ``margin_eur_per_mwh``; ``fixed``: ``energy_eur_per_mwh``; ``dynamic``: the hour's
    day-ahead price plus the margin (spot pass-through).

    ``peak_hours`` are hours of day (0-23); the multipliers scale the energy price in and
    outside them; ``community_discount`` is a fraction of the network charge.
    """

    mode: Literal["rehearsal", "fixed", "dynamic"] = "rehearsal"
    margin_eur_per_mwh: float = bounded(12.0, ge=0, le=_PRICE)
    energy_eur_per_mwh: float = bounded(110.0, ge=0, le=_PRICE)
    network_eur_per_mwh: float = bounded(55.0, ge=0, le=_PRICE)
    taxes_eur_per_mwh: float = bounded(20.0, ge=0, le=_PRICE)
    feed_in_eur_per_mwh: float = bounded(45.0, ge=-_PRICE, le=_PRICE)
    time_of_use: bool = False
    peak_hours: tuple[int, ...] = bounded((17, 18, 19, 20), ge=0, le=23, unit="h of day")
    peak_multiplier: float = bounded(1.5, ge=0, le=lim.MULTIPLE)
    offpeak_multiplier: float = bounded(0.85, ge=0, le=lim.MULTIPLE)
    community_discount: float = bounded(0.0, ge=0, le=1)

    def __post_init__(self) -> None:
        """Check each field's type and bounds."""
        check_fields(self)


@dataclass(frozen=True, slots=True)
class BackgroundConfig:
    """System demand outside the coalition and must-take system renewables.

    ``peak_load_mw`` is the realised peak of the background load (outside the coalition):
    its largest hour of the episode, weather and noise included (:mod:`envs.data.episode`),
    as a load forecast report states a season's metered peak (PJM Manual 19 §3). A scenario
    states its own week's peak: weather shapes the week, it does not raise the peak. The
    system peak (background plus the members, coincident) lies between it and it plus the
    members' peaks. ``solar_mw`` and ``wind_mw`` are installed MW, scaled by the hour's
    capacity factors.
    """

    peak_load_mw: float = bounded(800.0, gt=0, le=lim.SYSTEM_POWER_MW)
    solar_mw: float = bounded(150.0, ge=0, le=lim.SYSTEM_POWER_MW)
    wind_mw: float = bounded(200.0, ge=0, le=lim.SYSTEM_POWER_MW)
    renewable_offer_eur_per_mwh: float = bounded(0.0, ge=-_PRICE, le=_PRICE)

    def __post_init__(self) -> None:
        """Check each field's type and bounds."""
        check_fields(self)


@dataclass(frozen=True, slots=True)
class WeatherConfig:
    """Synthetic weather (see :mod:`envs.data.profiles`, whose argument bounds these are)."""

    latitude_deg: float = bounded(50.0, ge=-66, le=66)
    cloudiness_mean: float = bounded(0.4, bounds=_W["cloudiness_mean"])
    cloudiness_persistence: float = bounded(0.9, bounds=_W["cloudiness_persistence"])
    wind_mean_speed_m_s: float = bounded(7.5, bounds=_W["wind_mean_speed_m_s"])
    wind_weibull_k: float = bounded(2.0, bounds=_W["wind_weibull_k"])
    wind_persistence: float = bounded(0.95, bounds=_W["wind_persistence"])
    temperature_anomaly_c: float = bounded(0.0, bounds=_W["temperature_anomaly_c"])
    load_noise_std: float = bounded(0.05, bounds=_W["load_noise_std"])

    def __post_init__(self) -> None:
        """Check each field's type and bounds (so a bad value fails here, not at reset)."""
        check_fields(self)


@dataclass(frozen=True, slots=True)
class ForecastConfig:
    """Forecasts in observations: relative error grows with lead time as sqrt((h+1)/H).

    The errors are relative standard deviations at the horizon (0.2 = 20 %).
    """

    horizon_h: int = bounded(24, ge=1, le=168)
    load_error: float = bounded(0.05, ge=0, le=1)
    renewable_error: float = bounded(0.2, ge=0, le=1)

    def __post_init__(self) -> None:
        """Check each field's type and bounds."""
        check_fields(self)


@dataclass(frozen=True, slots=True)
class PpaConfig:
    """A pay-as-produced wind PPA held by the coalition (e.g. from ``ppa_negotiation_v0``).

    Each hour the coalition takes ``volume_mw * wind capacity factor`` MWh at
    ``price_eur_per_mwh``; the energy counts toward its position, so deviations from
    the wind shape are the coalition's imbalance. ``volume_mw: 0`` means no PPA.
    """

    volume_mw: float = bounded(0.0, ge=0, le=_MW)
    price_eur_per_mwh: float = bounded(50.0, ge=-_PRICE, le=_PRICE)

    def __post_init__(self) -> None:
        """Check each field's type and bounds."""
        check_fields(self)


@dataclass(frozen=True, slots=True)
class ScenarioConfig:
    """A whole scenario: market rules, participants, weather and policy.

    ``days`` is the episode length; ``start_day_of_year`` its first day (1 = 1 January).
    """

    name: str = "default"
    description: str = ""
    days: int = bounded(7, ge=1, le=366)
    start_day_of_year: int = bounded(100, ge=1, le=365)
    carbon_price_eur_per_t: float = bounded(0.0, ge=0, le=lim.CARBON_PRICE_EUR_PER_T)
    emissions_accounting: Literal["marginal", "average"] = "average"
    spot: SpotConfig = field(default_factory=SpotConfig)
    reserve: ReserveConfig = field(default_factory=ReserveConfig)
    balancing: BalancingConfig = field(default_factory=BalancingConfig)
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
        """Check each field's type and bounds (sections checked themselves when built)."""
        check_fields(self)

    @property
    def hours(self) -> int:
        """Episode length T in hourly steps."""
        return self.days * 24


def _resolve(name_or_path: str) -> str:
    if name_or_path.endswith((".yaml", ".yml")) or Path(name_or_path).is_file():
        if not Path(name_or_path).is_file():
            raise ConfigError(f"scenario file {name_or_path!r} does not exist")
        return name_or_path
    return scenario_file(name_or_path, "multimarket_v1")


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
