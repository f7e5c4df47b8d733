"""The MPC's capacity offer: the MW it commits in a capacity auction, chosen by its
planning LP (:mod:`agents.lp`, the commitment column K) against the expected capacity
cash, the expected Capacity Performance charges and the energy and reserve the
commitment displaces.

Units: MW (accredited), EUR/MW-day (capacity prices), EUR/MWh (charge rate), EUR.

What the MPC expects, from its observation and static scenario constants only:

- the price an awarded MW is paid (:meth:`CapacityOutlook.price`): the last cleared
  capacity price once an auction has cleared (the requirement and the fleet change little
  between auctions); before, the VRR curve (:func:`envs.market.capacity.vrr_price`) at the
  fleet's accredited capacity against a requirement estimated from the static peaks, the
  background's plus the members' (the env's is the margin on the forecast coincident
  peak of the period; on seed 1000 the static estimate is 772 MW against 786 in
  ``default`` and 939 against 836 in ``large_coalition``). While the coalition is net
  short (its members' obligation, estimated the same way from their peaks, exceeds its firm
  MW) the auction raises its offer to the MOPR floor (:func:`envs.market.capacity.mopr_row`),
  and an offer is only accepted where the curve pays its price: an awarded MW is then paid
  at least the floor, so the forecast is at least the floor. In every shipped scenario the
  coalition is net short and the floor is the curve's cap, so the forecast is the floor;
- its own share of the bill: consumers pay for the capacity committed, pro rata to their
  consumption (:func:`envs.market.settlement.settle_capacity`), so where its award adds to
  what clears at that price (the flat part of the curve, where a floor-priced offer
  clears) the coalition pays back its consumption share of its own revenue; the share is
  its members' forecast net imports against those plus the background's forecast load;
- scarcity hours: the MPC's own estimate (:meth:`agents.mpc.MPCPolicy.market_inputs`),
  but at least the rule's own expectation, ``performance_assessment_hours`` a year per hour
  (the Non-Performance Charge Rate is calibrated on it, PJM OATT Attachment DD §10A(e)):
  at the first auction the MPC has seen no hour, and an estimate of zero would price the
  risk at nothing.

The LP plans H hours; the commitment runs for the auction's period (the rest of the
episode in the shipped scenarios). Its K is priced over the horizon it has: the cash of
``H / 24`` days against the charges it expects in those H hours, both scaled from the
period by the same factor, so the horizon stands for the period hour for hour (what it
misses: scarcity that the next H hours do not show, and the battery's state at the
horizon's end; a period shorter than H would be priced as if it lasted H hours).

The stop-loss caps a resource's charges at ``stop_loss`` EUR per committed MW over the
episode, pro-rated here to the horizon: the charges the LP expects are
``min(rate * sum_h w_h u_h, stop_loss_h * K)``, and the minimum of two costs is the better
of two plans (:func:`choose_commitment`: the plan that performs, and the plan that pays
the stop-loss and keeps its energy for the spot and reserve markets). The expectation of
a minimum is at most the minimum of the expectations, so this over-states the expected
charges a little where the cap may bind.

The offer: K MW at 0 EUR/MW-day (a price-taker; K carries the decision); a net-short
coalition's offer is raised to the floor by the auction, which the price forecast above
already assumes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from agents.lp import CoalitionLP, MarketInputs
from envs.market.capacity import VrrCurve, vrr_price

__all__ = ["CapacityOutlook", "choose_commitment"]

HOURS_PER_YEAR = 8760.0


@dataclass(frozen=True)
class CapacityOutlook:
    """What the coalition knows of the capacity market from static scenario constants.

    Attributes:
        floor_eur_per_mw_day: the MOPR floor on its offer while net short.
        cap_eur_per_mw_day: the capacity price cap (scales the observed price).
        static_price_eur_per_mw_day: the VRR curve's price at the fleet's accredited
            capacity against the requirement estimated from the static peaks.
        net_short: whether its members' estimated obligation exceeds its firm MW.
        scarcity_prior: the rule's expected share of hours that are assessment hours.
        stop_loss_eur_per_mw_h: the stop-loss per committed MW, pro-rated per hour of
            the episode, EUR/MW per hour.
    """

    floor_eur_per_mw_day: float
    cap_eur_per_mw_day: float
    static_price_eur_per_mw_day: float
    net_short: bool
    scarcity_prior: float
    stop_loss_eur_per_mw_h: float

    @classmethod
    def of(cls, core: Any) -> CapacityOutlook:
        """From an env's :class:`envs.sim.core.MarketCore` (static constants only: the
        scenario's config, the fleet's accredited capacity, the members' peaks)."""
        cc, m = core.cfg.capacity, core.members
        margin = 1.0 + cc.reserve_margin
        members = margin * float(np.sum(m.peak_load_mw))
        requirement = margin * float(core.cfg.background.peak_load_mw) + members
        fleet = float(np.sum(core.fleet.capacity_mw * core.fleet.derating))
        static = float(vrr_price(np.array(fleet), np.array(requirement), curve=VrrCurve.of(cc)))
        return cls(
            floor_eur_per_mw_day=cc.mopr_floor_eur_per_mw_day,
            cap_eur_per_mw_day=cc.price_cap_eur_per_mw_day,
            static_price_eur_per_mw_day=static,
            net_short=members > core.coalition.firm_mw,
            scarcity_prior=cc.performance_assessment_hours / HOURS_PER_YEAR,
            stop_loss_eur_per_mw_h=cc.stop_loss_eur_per_mw_year / HOURS_PER_YEAR,
        )

    def price(self, last_cleared_eur_per_mw_day: float) -> float:
        """The price an awarded MW is expected to be paid, EUR/MW-day (module docstring):
        the last cleared price (> 0 once an auction has cleared) or the static VRR price,
        at least the MOPR floor while net short."""
        p = last_cleared_eur_per_mw_day
        if p <= 0.0:
            p = self.static_price_eur_per_mw_day
        return max(p, self.floor_eur_per_mw_day) if self.net_short else p

    def value(self, price_eur_per_mw_day: float, consumer_share: float, horizon_h: int) -> float:
        """Capacity cash per committed MW over ``horizon_h`` hours, EUR/MW: the price less
        the coalition's consumption share of it (what it pays back as a consumer)."""
        share = min(max(consumer_share, 0.0), 1.0)
        return price_eur_per_mw_day * (1.0 - share) * horizon_h / 24.0


def choose_commitment(
    lp: CoalitionLP,
    solve: Callable[[MarketInputs], dict[str, np.ndarray]],
    market: MarketInputs,
    value_eur_per_mw: float,
    stop_loss_eur_per_mw: float,
    firm_mw: float,
) -> dict[str, np.ndarray]:
    """The plan whose commitment K (``plan["K"]``, MW) is worth most over the horizon.

    Plan A performs: K earns ``value_eur_per_mw`` and each MW short in an hour h costs
    ``rate * w_h`` (``market``'s ``penalty_eur_per_mwh`` and ``scarcity``). Plan B pays
    the stop-loss instead: K earns ``value - stop_loss`` and its delivery is not planned.
    The charges are the lesser of the two, so the better plan is the optimum; B can only
    win where the value exceeds the stop-loss (otherwise its K is 0 and A does at least as
    well), so it is solved only then.

    Args:
        lp: the LP ``solve`` runs (its objective is read after each solve).
        solve: solves ``lp`` on the given market inputs, returns the plan.
        market: the market inputs, with the expected scarcity and the charge rate.
        value_eur_per_mw, stop_loss_eur_per_mw: cash and stop-loss per committed MW over
            the horizon, EUR/MW.
        firm_mw: the largest commitment.
    """
    perform = replace(market, capacity_value=value_eur_per_mw, firm_mw=firm_mw)
    plan = solve(perform)
    if value_eur_per_mw <= stop_loss_eur_per_mw:
        return plan
    cost = lp.h.getInfo().objective_function_value
    capped = replace(perform, capacity_value=value_eur_per_mw - stop_loss_eur_per_mw,
                     penalty_eur_per_mwh=0.0)  # fmt: skip
    other = solve(capped)
    return other if lp.h.getInfo().objective_function_value < cost else plan
