"""Strategic withholding a pivotal supplier would find profitable, and its mitigation.

Dims: E envs, G generators (each its own firm), W candidate withholding shares.
MW, EUR/MWh.

**Profitable withholding** (the scripted ``withholding`` strategy). Each hour, only the
*most* pivotal unit (lowest residual supply index below the threshold, Sheffrin 2002) may
withhold, and only as much as pays: it evaluates each candidate pair of a withheld share w
(0 to ``withhold_fraction`` in :data:`CANDIDATES` steps) and a markup m on what it keeps
(0 to ``pivotal_markup`` in as many steps) against the hour's forecast, with every other
unit offering its capacity at marginal cost and demand inelastic, and picks the pair that
maximises its own
operating profit (price - mc) * output (the unilateral best response of a capacity
withholder, e.g. Joskow & Kahn 2002 on California 2000; Twomey et al. 2005, §3).
Withholding that would lower its profit is not chosen, and units that are not the most
pivotal stay competitive. A unit with capacity committed in the capacity market cannot
withhold it (must-offer, PJM RAA Schedule / OATT Attachment DD §6.6;
:func:`envs.actors.fleet.must_offer_row`): its candidates keep at least its must-offer MW,
so it evaluates what the market will let it do.

**Mitigation** (``fleet.mitigation: three_pivotal``, a policy option). PJM's three
pivotal supplier test (PJM Manual 11 §2.3.4; PJM OATT Attachment K-Appendix §6.4): when the
three largest suppliers are jointly pivotal (supply without them falls short of demand),
they fail the test and their offers are capped at cost-based offers, marginal cost plus
10% (PJM's cost-based offer adder); they cannot withhold.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from envs.actors.fleet import BidParams, FleetArrays

F64 = NDArray[np.float64]

#: Candidate withheld shares, and markups, evaluated per hour (each including 0).
CANDIDATES = 7
#: PJM's adder on cost-based offers of units that fail the three pivotal supplier test.
COST_ADDER = 0.10


def merit_price(cap_mw: F64, offer: F64, residual_demand: F64, price_cap: float) -> F64:
    """Uniform price of inelastic demand against units' offers, EUR/MWh.

    Args:
        cap_mw, offer: (..., G) capacity offered and its price; residual_demand: (...)
            demand less renewables, MW; price_cap: the price when supply runs out.
    """
    order = np.argsort(offer, axis=-1, kind="stable")
    cum = np.cumsum(np.take_along_axis(cap_mw, order, -1), axis=-1)
    idx = (cum < residual_demand[..., None] - 1e-9).sum(-1, keepdims=True)  # first to cover
    sorted_offer = np.take_along_axis(offer, order, -1)
    padded = np.concatenate([sorted_offer, np.full(idx.shape, price_cap)], axis=-1)
    price = np.take_along_axis(padded, idx, -1)[..., 0]
    return np.where(residual_demand <= 0.0, 0.0, price)


def profitable_withholding(
    fleet: FleetArrays, rsi: F64, demand_mw: F64, renewables_mw: F64, *, threshold: float,
    max_share: float, max_markup: float, price_cap: float, must_offer_mw: F64 | None = None,
) -> tuple[F64, F64]:  # fmt: skip
    """Withheld share and offer markup of each unit, (E, G) each (the module's rule).

    Args:
        rsi: (E, G) residual supply index of each unit; demand_mw, renewables_mw: (E,)
            forecast demand and renewables; threshold: RSI below which a unit is pivotal;
            max_share: the largest share it may withhold; max_markup: the markup it may
            put on what it keeps (candidates from 0 to this); price_cap: EUR/MWh.
        must_offer_mw: (E, G) installed MW each unit must offer for its capacity
            commitments (:func:`envs.actors.fleet.must_offer_mw`); None: none committed.
            A candidate share is realised as at most what it leaves withheld.
    """
    e_n, g_n = rsi.shape
    cap, mc = fleet.capacity_mw, fleet.marginal_cost_eur_per_mwh
    withhold, markup = np.zeros((e_n, g_n)), np.zeros((e_n, g_n))
    g_star = np.argmin(rsi, axis=1)  # the most pivotal unit
    rows = np.flatnonzero(rsi[np.arange(e_n), g_star] < threshold)
    if rows.size == 0:
        return withhold, markup
    # Candidates: every (withheld share, markup) pair; (0, 0) is competitive.
    shares = np.repeat(np.linspace(0.0, max_share, CANDIDATES), CANDIDATES)
    marks = np.tile(np.linspace(0.0, max_markup, CANDIDATES), CANDIDATES)
    n_c, r_n, gs = shares.size, rows.size, g_star[rows]
    ar = np.arange(r_n)
    offered = np.broadcast_to(cap, (r_n, n_c, g_n)).copy()
    offer = np.broadcast_to(mc, (r_n, n_c, g_n)).copy()
    # The shares it can realise: committed MW cannot be withheld.
    must = np.zeros(r_n) if must_offer_mw is None else must_offer_mw[rows, gs]
    room = 1.0 - must / np.maximum(cap[gs], 1e-12)
    real = np.minimum(shares[None, :], room[:, None])  # (R, C)
    own_cap = cap[gs][:, None] * (1.0 - real)
    own_offer = mc[gs][:, None] * (1.0 + marks[None, :])
    offered[ar, :, gs], offer[ar, :, gs] = own_cap, own_offer
    resid = np.maximum(demand_mw[rows] - renewables_mw[rows], 0.0)[:, None] * np.ones(n_c)
    price = merit_price(offered, offer, resid, price_cap)  # (R, C)
    # Its output: what demand leaves after cheaper offers; tied offers share pro rata.
    cheaper = ((offer < own_offer[..., None]) * offered).sum(-1)
    tied = ((offer == own_offer[..., None]) * offered).sum(-1)
    left = np.maximum(resid - cheaper, 0.0)
    out = np.minimum(own_cap, left * own_cap / np.maximum(tied, 1e-12))
    profit = (price - mc[gs][:, None]) * out
    best = np.argmax(profit, axis=1)  # ties go to the first: the least withholding
    withhold[rows, gs], markup[rows, gs] = real[ar, best], marks[best]
    return withhold, markup


def three_pivotal_fail(fleet: FleetArrays, demand_mw: F64, renewables_mw: F64) -> F64:
    """Units that fail PJM's three pivotal supplier test this hour, (E, G) booleans:
    the three largest are jointly pivotal when the rest cannot cover demand."""
    cap = fleet.capacity_mw
    top3 = np.argsort(-cap, kind="stable")[:3]
    rest = cap.sum() - cap[top3].sum() + renewables_mw  # (E,)
    fail = rest < demand_mw
    out = np.zeros((demand_mw.shape[0], cap.shape[0]), dtype=bool)
    out[:, top3] = fail[:, None]
    return out


def mitigate(bids: BidParams, fail: F64) -> BidParams:
    """Cap the offers of failing units at cost + :data:`COST_ADDER` and stop their
    withholding; other units' bids are unchanged."""
    markup = np.where(fail[..., None], np.minimum(bids.markup, COST_ADDER), bids.markup)
    return bids._replace(
        markup=markup,
        withhold=np.where(fail, 0.0, bids.withhold),
        reserve_markup=np.where(
            fail, np.minimum(bids.reserve_markup, COST_ADDER), bids.reserve_markup
        ),
    )
