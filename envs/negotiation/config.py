"""Config dataclasses of the bilateral PPA negotiation (seed paper 002, §3-§4).

Code defaults are the paper's case (§4): a citizen energy community (CEC) of 312
consumers needing a PPA of 848 MW negotiates with the Portuguese wind aggregator; the
aggregator opens at 60 EUR/MWh with 36 as its minimum, the coalition opens at 40 with
65 as its maximum, both concede 10% per proposal, team strategy RM-IDM. The tariff
defaults are the 2013 Portuguese figures of §4.1 and Table 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from envs.config import limits as lim
from envs.config.validate import bounded, check, check_fields

__all__ = [
    "SEATS",
    "MembersConfig",
    "NegotiationConfig",
    "PartyConfig",
    "TariffConfig",
    "agent_id",
    "seat_of",
]

#: The two seats of the alternating-offers protocol (§3.2), in ``possible_agents`` order.
SEATS: tuple[str, str] = ("mediator", "opponent")


def agent_id(seat: str) -> str:
    """The PettingZoo agent id of a seat, ``<type>_<n>``: ``"mediator"`` -> ``"mediator_0"``."""
    return f"{seat}_0"


def seat_of(agent: str) -> str:
    """The seat of an agent id (a seat name is accepted as itself).

    Raises:
        ValueError: neither a seat nor a seat's agent id.
    """
    seat = agent.removesuffix("_0")
    if seat not in SEATS:
        ids = [agent_id(s) for s in SEATS]
        raise ValueError(f"unknown negotiation agent {agent!r}; expected one of {ids}")
    return seat


# Physical limits of every numeric field (why each: envs/config/limits.py).
_PRICE = lim.PRICE_EUR_PER_MWH
_MW = lim.POWER_MW

Tactic = Literal["conceder", "linear", "boulware"]
TeamStrategy = Literal["RE", "RM-IDM", "SSV", "SBV", "FUM"]
DecisionRule = Literal["majority", "consensus", "unanimity"]
OpponentKind = Literal["wind_aggregator", "retailer", "producer"]


@dataclass(frozen=True, slots=True)
class PartyConfig:
    """One negotiating party's offers and concession tactic (§4.2; tactics after [21], [76]).

    For the buyer (mediator) the limit is its maximum price, for the seller (opponent)
    its minimum; offers move from ``initial`` towards ``limit`` by the tactic.
    """

    initial_price_eur_per_mwh: float = bounded(ge=-_PRICE, le=_PRICE)
    limit_price_eur_per_mwh: float = bounded(ge=-_PRICE, le=_PRICE)
    initial_volume_mw: float = bounded(848.0, ge=0, le=_MW)
    limit_volume_mw: float = bounded(848.0, ge=0, le=_MW)
    tactic: Tactic = "linear"
    # 0.1 = concede 10% of the remaining gap per proposal, as in the paper's §4.2.
    concession_factor: float = bounded(0.1, gt=0, le=1)
    deadline_proposals: int = bounded(20, ge=1, le=1000, unit="proposals")  # per party
    withdraw_at_limit: bool = True

    def __post_init__(self) -> None:
        """Check each field's type and bounds."""
        check_fields(self)


@dataclass(frozen=True, slots=True)
class MembersConfig:
    """The coalition's members (§3.4): who votes, with what cost function.

    Member sizes, impatience and deviation exposure are drawn at reset from the env's
    Generator; every ``*_sigma`` = 0 gives identical members (the paper's case, where all
    members score proposals by the same cost function and vote alike).
    """

    count: int = bounded(312, ge=1, le=lim.COUNT, unit="members")
    total_consumption_mw: float = bounded(212.0, gt=0, le=_MW)
    # Log-normal spreads: sigma 3 puts 95 % of members within a factor e^6 (400) of each
    # other; far larger sigmas underflow exp(-sigma^2 / 2) to 0.
    consumption_sigma: float = bounded(0.0, ge=0, le=3)
    delay_cost_eur_per_mwh: float = bounded(0.0, ge=0, le=_PRICE)
    delay_cost_sigma: float = bounded(0.0, ge=0, le=3)
    deviation_cost_sigma_eur_per_mwh: float = bounded(0.0, ge=0, le=_PRICE)
    initial_price_sigma_eur_per_mwh: float = bounded(0.0, ge=0, le=_PRICE)
    limit_price_sigma_eur_per_mwh: float = bounded(0.0, ge=0, le=_PRICE)

    def __post_init__(self) -> None:
        """Check each field's type and bounds."""
        check_fields(self)


@dataclass(frozen=True, slots=True)
class TariffConfig:
    """Variable-term tariff parameters, EUR/MWh (paper §4.1, 2013 Portugal; Table 1).

    ``other_charges_eur_per_mwh`` is the residual of Table 1's regulated row
    (140.50 - 70.60 - 65.90 - 2.50 = 1.50) that §4.1 does not itemise.
    ``ppa_deviation_cost_eur_per_mwh`` is implied by Table 1 (55.56 - 50.17): under the
    PPA the CEC bears the wind farms' deviations and trades the wind energy it cannot
    self-consume in the market. ``aggregator_market_remuneration_eur_per_mwh`` is
    Table 1's market-based remuneration of the wind aggregator.
    """

    regulated_energy_eur_per_mwh: float = bounded(70.60, ge=-_PRICE, le=_PRICE)
    grid_access_eur_per_mwh: float = bounded(65.90, ge=-_PRICE, le=_PRICE)
    commercialization_tax_eur_per_mwh: float = bounded(2.50, ge=-_PRICE, le=_PRICE)
    other_charges_eur_per_mwh: float = bounded(1.50, ge=-_PRICE, le=_PRICE)
    market_energy_eur_per_mwh: float = bounded(48.11, ge=-_PRICE, le=_PRICE)
    ppa_deviation_cost_eur_per_mwh: float = bounded(5.39, ge=-_PRICE, le=_PRICE)
    # 0.5 = the 50% self-consumption discount of §4.1.
    grid_access_discount: float = bounded(0.5, ge=0, le=1)
    aggregator_market_remuneration_eur_per_mwh: float = bounded(43.28, ge=-_PRICE, le=_PRICE)

    def __post_init__(self) -> None:
        """Check each field's type and bounds."""
        check_fields(self)

    @property
    def regulated_other_eur_per_mwh(self) -> float:
        """Grid access + commercialisation tax + other charges (regulated tariff)."""
        return (
            self.grid_access_eur_per_mwh
            + self.commercialization_tax_eur_per_mwh
            + self.other_charges_eur_per_mwh
        )

    @property
    def market_other_eur_per_mwh(self) -> float:
        """A CEC trading in the market itself pays no commercialisation tax (§4.1)."""
        return self.regulated_other_eur_per_mwh - self.commercialization_tax_eur_per_mwh

    @property
    def ppa_other_eur_per_mwh(self) -> float:
        """Self-consumed wind earns the grid-access discount (§4.1: 50%)."""
        return (
            self.market_other_eur_per_mwh - self.grid_access_discount * self.grid_access_eur_per_mwh
        )


def _mediator_default() -> PartyConfig:
    return PartyConfig(initial_price_eur_per_mwh=40.0, limit_price_eur_per_mwh=65.0)


def _opponent_default() -> PartyConfig:
    return PartyConfig(initial_price_eur_per_mwh=60.0, limit_price_eur_per_mwh=36.0)


@dataclass(frozen=True, slots=True)
class NegotiationConfig:
    """The whole ``ppa_negotiation_v0`` scenario (defaults: the paper's §4 case)."""

    need_mw: float = bounded(848.0, gt=0, le=_MW)
    mediator: PartyConfig = field(default_factory=_mediator_default)
    opponent: PartyConfig = field(default_factory=_opponent_default)
    opponent_kind: OpponentKind = "wind_aggregator"
    contract_shape: str | None = None
    members: MembersConfig = field(default_factory=MembersConfig)
    tariff: TariffConfig = field(default_factory=TariffConfig)
    team_strategy: TeamStrategy = "RM-IDM"
    decision_rule: DecisionRule = "majority"
    first_mover: Literal["opponent", "mediator"] = "opponent"
    negotiate_volume: bool = False
    rl_seats: tuple[str, ...] = SEATS
    action_type: Literal["box", "discrete"] = "box"
    # At least 2 levels for discrete actions.
    n_price_levels: int = bounded(101, ge=2, le=10_000, unit="levels")  # actions' width
    price_floor_eur_per_mwh: float = bounded(0.0, ge=-_PRICE, le=_PRICE)
    price_cap_eur_per_mwh: float = bounded(100.0, ge=-_PRICE, le=_PRICE)
    volume_floor_mw: float = bounded(0.0, ge=0, le=_MW)
    volume_cap_mw: float = bounded(1696.0, ge=0, le=_MW)

    def __post_init__(self) -> None:
        """Check each field's type and bounds, floors below caps, offers within the bounds."""
        check_fields(self)
        check(
            self.price_floor_eur_per_mwh < self.price_cap_eur_per_mwh,
            "price_floor_eur_per_mwh",
            self.price_floor_eur_per_mwh,
            f"below price_cap_eur_per_mwh={self.price_cap_eur_per_mwh!r}",
        )
        check(
            self.volume_floor_mw < self.volume_cap_mw,
            "volume_floor_mw",
            self.volume_floor_mw,
            f"below volume_cap_mw={self.volume_cap_mw!r}",
        )
        for seat in SEATS:
            party: PartyConfig = getattr(self, seat)
            for name in ("initial_price_eur_per_mwh", "limit_price_eur_per_mwh"):
                check(
                    self.price_floor_eur_per_mwh
                    <= getattr(party, name)
                    <= self.price_cap_eur_per_mwh,
                    f"{seat}.{name}",
                    getattr(party, name),
                    f"within [price_floor_eur_per_mwh, price_cap_eur_per_mwh] = "
                    f"[{self.price_floor_eur_per_mwh}, {self.price_cap_eur_per_mwh}]; widen the "
                    "bounds or change the offer",
                )
        bad = [s for s in self.rl_seats if s not in SEATS]
        check(
            bool(self.rl_seats) and not bad and len(set(self.rl_seats)) == len(self.rl_seats),
            "rl_seats",
            list(self.rl_seats),
            f"a non-empty subset of {list(SEATS)} without repeats (the other seat is scripted "
            "by its tactic)",
        )

    @property
    def shape(self) -> str:
        """Delivery shape of the contract: wind output unless configured (§4: wind PPA)."""
        if self.contract_shape is not None:
            return self.contract_shape
        return "wind" if self.opponent_kind == "wind_aggregator" else "flat"
