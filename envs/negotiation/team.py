"""The coalition's members: cost functions, votes, decision rules and team strategies.

Dims: N members, C candidate counter-offers. Paper references are to seed 002:
§3.3 (members vote yes/no by comparing their own utilities), §3.4 (team strategies
RE, RM-IDM, SSV, SBV, FUM and their message cost), §4.2 (RM-IDM in the case study).

Member ``i``'s cost of an offer ``(p, v)`` in EUR/h, for consumption ``q_i`` MW and
coverage ``c = min(v / need, 1)``, excess ``x = max(v / need - 1, 0)``::

    cost_i = q_i * [ c (p + d_i + o_ppa) + (1 - c)(m + o_mkt) + x (p + d_i - m) ]

with ``d_i`` the member's deviation cost under the PPA, ``m`` the market energy price and
``o_ppa``/``o_mkt`` the other (non-energy) parts of Table 1. Member ``i`` votes *yes*
for the opponent's offer ``o`` against the counter-offer ``k`` when
``cost_i(o) <= cost_i(k) + delay_i q_i`` (its impatience: one more exchange costs it
``delay_i`` EUR/MWh; 0 in the paper) and ``cost_i(o) <= q_i (m + o_mkt)`` (its least
acceptable agreement [61]: never worse than the market-based coalition of Table 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

from envs.negotiation.config import MembersConfig, PartyConfig, TariffConfig
from envs.negotiation.tactics import concession_price

__all__ = [
    "RULE_THRESHOLDS",
    "Members",
    "TeamDecision",
    "decide",
    "draw_members",
    "member_costs",
    "rule_passes",
]

#: Share of members that must vote yes (§3.3 of [23] as summarised in the paper's §2):
#: majority = more than half, consensus = 75%, unanimity = all.
RULE_THRESHOLDS: dict[str, float] = {"majority": 0.5, "consensus": 0.75, "unanimity": 1.0}


@dataclass(frozen=True, slots=True)
class Members:
    """Member arrays, shape (N,) each."""

    consumption_mw: NDArray[np.float64]
    delay_cost_eur_per_mwh: NDArray[np.float64]
    deviation_cost_eur_per_mwh: NDArray[np.float64]
    initial_price_eur_per_mwh: NDArray[np.float64]
    limit_price_eur_per_mwh: NDArray[np.float64]

    @property
    def count(self) -> int:
        """Number of members N."""
        return int(self.consumption_mw.shape[0])


@dataclass(frozen=True, slots=True)
class TeamDecision:
    """Outcome of one team decision on an opponent offer (or on the team's next counter)."""

    accept: bool
    counter_price_eur_per_mwh: float
    counter_volume_mw: float
    yes_share: float
    messages: int


def draw_members(
    cfg: MembersConfig, mediator: PartyConfig, tariff: TariffConfig, rng: np.random.Generator
) -> Members:
    """Draw heterogeneous members around the config means (all equal when sigmas are 0)."""
    n = cfg.count
    # Lognormal with unit mean keeps the coalition's total consumption at its config value.
    size = np.exp(cfg.consumption_sigma * rng.standard_normal(n) - 0.5 * cfg.consumption_sigma**2)
    consumption = cfg.total_consumption_mw * size / size.sum()
    delay = cfg.delay_cost_eur_per_mwh * np.exp(
        cfg.delay_cost_sigma * rng.standard_normal(n) - 0.5 * cfg.delay_cost_sigma**2
    )
    deviation = tariff.ppa_deviation_cost_eur_per_mwh + (
        cfg.deviation_cost_sigma_eur_per_mwh * rng.standard_normal(n)
    )
    initial = mediator.initial_price_eur_per_mwh + (
        cfg.initial_price_sigma_eur_per_mwh * rng.standard_normal(n)
    )
    limit = mediator.limit_price_eur_per_mwh + (
        cfg.limit_price_sigma_eur_per_mwh * rng.standard_normal(n)
    )
    return Members(consumption, delay, deviation, initial, np.maximum(limit, initial))


def member_costs(
    members: Members,
    tariff: TariffConfig,
    price_eur_per_mwh: NDArray[np.float64] | float,
    volume_mw: NDArray[np.float64] | float,
    need_mw: float,
) -> NDArray[np.float64]:
    """Each member's cost of offers, EUR/h.

    Args:
        members: the N members.
        tariff: tariff parameters.
        price_eur_per_mwh: (C,) or scalar offer prices.
        volume_mw: (C,) or scalar offer volumes.
        need_mw: the coalition's PPA need (§4.1: 848 MW).

    Returns:
        (N, C) costs, or (N,) for scalar offers.
    """
    p = np.asarray(price_eur_per_mwh, dtype=np.float64)
    ratio = np.asarray(volume_mw, dtype=np.float64) / need_mw
    cover = np.minimum(ratio, 1.0)
    excess = np.maximum(ratio - 1.0, 0.0)
    m = tariff.market_energy_eur_per_mwh
    d = (
        members.deviation_cost_eur_per_mwh[:, None]
        if p.ndim
        else members.deviation_cost_eur_per_mwh
    )
    q = members.consumption_mw[:, None] if p.ndim else members.consumption_mw
    per_mwh = (
        cover * (p + d + tariff.ppa_other_eur_per_mwh)
        + (1.0 - cover) * (m + tariff.market_other_eur_per_mwh)
        + excess * (p + d - m)
    )
    return q * per_mwh


def rule_passes(yes_share: float, rule: str) -> bool:
    """Whether a yes-vote share carries under ``rule``.

    >>> rule_passes(0.5, "majority"), rule_passes(0.51, "majority")
    (False, True)
    >>> rule_passes(0.75, "consensus"), rule_passes(0.99, "unanimity")
    (True, False)
    """
    if rule not in RULE_THRESHOLDS:
        raise ValueError(f"decision_rule={rule!r}; expected one of {list(RULE_THRESHOLDS)}")
    threshold = RULE_THRESHOLDS[rule]
    if rule == "majority":
        return yes_share > threshold
    return yes_share >= threshold - 1e-12


def _yes_votes(
    members: Members,
    tariff: TariffConfig,
    need_mw: float,
    offer: tuple[float, float],
    counter: tuple[float, float] | None,
) -> NDArray[np.bool_]:
    """Members' votes on the opponent ``offer`` against ``counter`` (None: no further offer)."""
    cost_offer = member_costs(members, tariff, offer[0], offer[1], need_mw)
    alternative = members.consumption_mw * (
        tariff.market_energy_eur_per_mwh + tariff.market_other_eur_per_mwh
    )
    acceptable = cost_offer <= alternative + 1e-9
    if counter is None:
        return acceptable
    cost_counter = member_costs(members, tariff, counter[0], counter[1], need_mw)
    patience = members.delay_cost_eur_per_mwh * members.consumption_mw
    return acceptable & (cost_offer <= cost_counter + patience + 1e-9)


def _select_counter(
    strategy: str,
    members: Members,
    tariff: TariffConfig,
    need_mw: float,
    prices: NDArray[np.float64],
    volumes: NDArray[np.float64],
) -> tuple[int, int]:
    """Index of the team's counter among candidates (0 = the mediator's) and its messages.

    SSV: each member votes for its cheapest candidate, the plurality wins. SBV: Borda
    count, a member's best of C candidates earns C points, its worst 1 (§3.4). FUM: the
    mediator polls candidates from the cheapest for the team until every member approves
    one (price within its own limit), two messages per member per poll (§3.4).
    Ties go to the lower index (the mediator's own proposal first), never at random.
    """
    n, c = members.count, prices.shape[0]
    costs = member_costs(members, tariff, prices, volumes, need_mw)  # (N, C)
    # Every voting strategy starts with each member's proposal in and the list out.
    base = 2 * n
    if strategy == "SSV":
        counts = np.bincount(np.argmin(costs, axis=1), minlength=c)
        return int(np.argmax(counts)), base + n
    if strategy == "SBV":
        ranks = np.argsort(np.argsort(costs, axis=1, kind="stable"), axis=1, kind="stable")
        points = (c - ranks).sum(axis=0)
        return int(np.argmax(points)), base + n * c
    # FUM: a member approves a candidate priced within its own limit (same volume for all).
    approve = prices[None, :] <= members.limit_price_eur_per_mwh[:, None] + 1e-9
    order = np.argsort(costs.sum(axis=0), kind="stable")
    # (C,) per candidate: approve is 2-D, so .all(axis=0) is an array, not a scalar.
    unanimous = cast("NDArray[np.bool_]", approve.all(axis=0))[order]
    polls = int(np.argmax(unanimous)) + 1 if unanimous.any() else c
    pick = int(order[polls - 1]) if unanimous.any() else 0
    return pick, base + 2 * n * polls


def decide(
    strategy: str,
    rule: str,
    members: Members,
    tariff: TariffConfig,
    need_mw: float,
    offer: tuple[float, float] | None,
    counter: tuple[float, float] | None,
    member_step: int,
    mediator: PartyConfig,
) -> TeamDecision:
    """The team's decision on the opponent's ``offer`` given the mediator's ``counter``.

    Args:
        strategy: ``RE``, ``RM-IDM``, ``SSV``, ``SBV`` or ``FUM`` (§3.4).
        rule: ``majority``, ``consensus`` or ``unanimity`` (FUM always uses unanimity).
        members: the members.
        tariff: tariff parameters.
        need_mw: the coalition's need, MW.
        offer: the opponent's standing (price EUR/MWh, volume MW), or None at the opening.
        counter: the mediator's proposed counter (price, volume), or None when the
            mediator may make no further proposal (deadline): members then compare the
            offer only with their least acceptable agreement.
        member_step: proposals the team has made (members' own tactics use it).
        mediator: the mediator's party config (members' tactic kind and factor).

    Returns:
        The decision; ``accept`` False with ``counter`` the offer to send.
    """
    n = members.count
    counter_price, counter_volume = counter if counter is not None else (np.nan, np.nan)
    messages = 0
    if strategy in ("SSV", "SBV", "FUM") and counter is not None:
        own = concession_price(
            members.initial_price_eur_per_mwh,
            members.limit_price_eur_per_mwh,
            member_step,
            kind=mediator.tactic,
            factor=mediator.concession_factor,
            deadline=mediator.deadline_proposals,
        )
        prices = np.concatenate([[counter_price], own])
        volumes = np.full(prices.shape, counter_volume)
        pick, messages = _select_counter(strategy, members, tariff, need_mw, prices, volumes)
        counter_price, counter_volume = float(prices[pick]), float(volumes[pick])
        counter = (counter_price, counter_volume)
    if offer is None:
        return TeamDecision(False, counter_price, counter_volume, 0.0, messages)
    yes = _yes_votes(members, tariff, need_mw, offer, counter)
    if strategy == "RE":
        # The representative decides alone on the coalition's total cost (no member messages).
        total_offer = member_costs(members, tariff, offer[0], offer[1], need_mw).sum()
        if counter is None:
            total_alt = members.consumption_mw.sum() * (
                tariff.market_energy_eur_per_mwh + tariff.market_other_eur_per_mwh
            )
        else:
            total_alt = member_costs(members, tariff, counter_price, counter_volume, need_mw).sum()
        accept = bool(total_offer <= total_alt + 1e-9)
        return TeamDecision(accept, counter_price, counter_volume, float(yes.mean()), 0)
    share = float(yes.mean())
    # RM-IDM: both proposals out to every member, one vote back from each (§2, §3.4).
    messages += 2 * n
    accept = rule_passes(share, "unanimity" if strategy == "FUM" else rule)
    return TeamDecision(accept, counter_price, counter_volume, share, messages)
