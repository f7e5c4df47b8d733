"""Real-time balancing: the system's deviation is covered by activated balancing energy.

Dims: E envs, S balancing blocks, U units. MW for one delivery hour (= MWh), EUR/MWh.

After the day-ahead clearing, the hour is delivered: the background load and the
system renewables deviate from their forecasts and the coalition deviates from its
position. The transmission system operator (TSO) covers the sum of those deviations,
the *system imbalance* (+ = the system is short), by activating balancing energy:

- **Upward** (system short): the blocks left unaccepted in the day-ahead (each unit's
  remaining tranches, the headroom held as reserve included) are activated in ascending
  order of their energy offer, each within its own room and its unit's room (capacity after
  withholding and ramp, less what it already delivers). Blocks tied at the marginal price
  share the activated volume pro rata (the EUPHEMIA rule, as in :mod:`envs.market.spot`).
  Load is shed only when every upward block is exhausted.
- **Downward** (system long): accepted blocks are decremented in descending order of
  their offer (the dearest first; must-run last), the same pro-rata rule at the margin.
  Renewables producing beyond what they sold are a long deviation, not upward energy:
  the simulator's step offers all they produce for curtailment at their offer
  (:func:`envs.sim.clearing.real_time_phase`).

The **imbalance price** is the offer price of the marginal activated block (single
marginal pricing, as the European balancing platforms PICASSO and MARI price
activated energy and as single imbalance pricing passes it to every balance-responsible
party: ENTSO-E Imbalance Settlement Harmonisation Methodology, ACER Decision 18/2020,
Art. 9). It is the cap when load is shed and the floor when nothing can be decremented;
with no imbalance it is the day-ahead price. The simulator's step adds the real-time value
of reserve to it when the headroom left after balancing falls short of the requirement
(:func:`envs.sim.clearing.ordc_adder`) and may settle deviations at dual prices
(:func:`envs.market.settlement.imbalance_prices`). Every activated MWh is paid, and every
deviation charged, at that one price, so with no load shed the TSO's cash nets to zero.

Stated once, as the compiled :func:`balance_row` (one env, called by the simulator's
step); :func:`balance` is its batched public wrapper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from envs.market import reserve as rs

F64 = NDArray[np.float64]
_EPS = 1e-9

__all__ = ["BalancingResult", "BalancingRules", "balance", "balance_row", "ordc_adder",
           "spot_coupled"]  # fmt: skip


class BalancingRules(NamedTuple):
    """Real-time balancing's constants as the step reads them (its own argument of the
    step: numba's parallel lowering cannot pass a record nested in another)."""

    scarcity_adder_on: bool  # the ORDC adder on the imbalance price (scarcity_adder: ordc)
    min_reserve_share: float  # share of the requirement at which the adder reaches the cap
    dual_pricing: bool  # deviations that aggravate the system pay at least day-ahead
    spot_coupling: bool  # imbalance price >= day-ahead when short, <= when long (reBAP)

    @classmethod
    def of(cls, cfg: Any) -> BalancingRules:
        """The rules of a :class:`envs.config.scenario.BalancingConfig`."""
        return cls(scarcity_adder_on=cfg.scarcity_adder == "ordc",
                   min_reserve_share=float(cfg.ordc_min_reserve_share),
                   dual_pricing=cfg.imbalance_pricing == "dual",
                   spot_coupling=bool(cfg.spot_coupling))  # fmt: skip


@dataclass(frozen=True, slots=True)
class BalancingResult:
    """Outcome of one hour's balancing.

    Attributes:
        price_eur_per_mwh: (E,) imbalance price.
        activated_mw: (E, S) signed activation of each block (+ up, - down).
        shed_mw: (E,) load shed because upward energy ran out.
        excess_mw: (E,) surplus that no block could absorb (recorded, never hidden).
    """

    price_eur_per_mwh: F64
    activated_mw: F64
    shed_mw: F64
    excess_mw: F64


@njit(cache=True)
def _merit_fill(need, q, p, unit, room, ascending, out, grp):  # noqa: C901
    """Fill ``need`` MW from blocks (q, p) in price order, each within its unit's
    ``room`` (U,) (unit -1 = no unit limit); ties share pro rata by water-filling.
    Writes ``out`` (S,) (>= 0), updates ``room``; returns (filled MW, marginal price).

    Price levels are found one at a time (the next cheapest, or dearest, after the last
    one used) instead of sorting the book: a usual hour's imbalance is covered by the
    first level or two. ``grp`` (S,) int64 scratch holds a level's blocks in index order
    (the order a stable sort leaves them in).
    """
    n = q.shape[0]
    filled = 0.0
    marginal = np.nan
    for j in range(n):
        out[j] = 0.0
    last = 0.0
    first = True
    while need - filled > _EPS:
        # The next price level (the best key after the last level used) and its blocks
        # in index order; blocks of no MW are skipped, as the fill below never uses them.
        m = 0
        best = 0.0
        for j in range(n):
            key = p[j] if ascending else -p[j]
            if q[j] > _EPS and (first or key > last) and (m == 0 or key <= best):
                if m > 0 and key < best:
                    m = 0
                best = key
                grp[m] = j
                m += 1
        if m == 0:
            break
        last, first = best, False
        left = need - filled
        # Water-fill the group: offered share for each, within its and its unit's room.
        for _ in range(m + 1):
            total = 0.0
            for jj in range(m):
                j = grp[jj]
                cap_j = q[j] - out[j]
                if unit[j] >= 0:
                    cap_j = min(cap_j, room[unit[j]])
                if cap_j > _EPS:
                    total += q[j]
            if total <= 0.0 or left <= _EPS:
                break
            given = 0.0
            for jj in range(m):
                j = grp[jj]
                cap_j = q[j] - out[j]
                if unit[j] >= 0:
                    cap_j = min(cap_j, room[unit[j]])
                if cap_j > _EPS:
                    x = min(left * q[j] / total, cap_j)
                    out[j] += x
                    if unit[j] >= 0:
                        room[unit[j]] -= x
                    given += x
            left -= given
            filled += given
            if given > 0.0:
                marginal = p[grp[0]]
            if given <= _EPS:
                break
    return filled, marginal


@njit(cache=True)
def balance_row(imbalance, up_q, up_p, dn_q, dn_p, unit, room, floor, cap, da_price, act):
    """Activate balancing energy for one env's system imbalance (the module's rules).

    Args:
        imbalance: system imbalance, MW (+ = short: upward energy needed).
        up_q, up_p: (S,) upward energy available from each block, MW, and its offer, EUR/MWh.
        dn_q, dn_p: (S,) downward energy each block can give back (its accepted MW) and
            its offer, EUR/MWh.
        unit: (S,) int64 unit of each block (-1: none); room: (U,) each unit's upward
            room, MW (read only; a copy is used).
        floor, cap: price floor and cap, EUR/MWh; da_price: the day-ahead price.
        act: output, (S,) signed activation of each block, MW.

    Returns:
        (imbalance price EUR/MWh, load shed MW, surplus not absorbed MW).
    """
    n = up_q.shape[0]
    n_u = room.shape[0]
    # One scratch buffer (the units' room, read only for the caller, then the fill).
    buf = np.empty(n_u + n)
    r, tmp = buf[:n_u], buf[n_u:]
    grp = np.empty(n, np.int64)
    shed = 0.0
    excess = 0.0
    price = da_price
    if imbalance > _EPS:
        r[:] = room
        filled, marginal = _merit_fill(imbalance, up_q, up_p, unit, r, True, tmp, grp)
        for j in range(n):
            act[j] = tmp[j]
        if np.isfinite(marginal):
            price = marginal
        shed = max(imbalance - filled, 0.0)
        if shed > _EPS:
            price = cap
    elif imbalance < -_EPS:
        r[:] = np.inf  # decrements are limited by the blocks alone
        filled, marginal = _merit_fill(-imbalance, dn_q, dn_p, unit, r, False, tmp, grp)
        for j in range(n):
            act[j] = -tmp[j]
        if np.isfinite(marginal):
            price = marginal
        excess = max(-imbalance - filled, 0.0)
        if excess > _EPS:
            price = floor
    else:
        for j in range(n):
            act[j] = 0.0
    return min(max(price, floor), cap), shed, excess


@njit(cache=True)
def _balance_batch(imb, up_q, up_p, dn_q, dn_p, unit, room, floor, cap, da, act, out):
    for e in range(imb.shape[0]):
        out[e] = balance_row(imb[e], up_q[e], up_p[e], dn_q[e], dn_p[e], unit, room[e], floor,
                             cap, da[e], act[e])  # fmt: skip


def balance(
    imbalance_mw: F64,
    up_q_mw: F64,
    up_p_eur_per_mwh: F64,
    down_q_mw: F64,
    down_p_eur_per_mwh: F64,
    *,
    unit: NDArray[np.int64],
    unit_room_mw: F64,
    day_ahead_price_eur_per_mwh: F64,
    price_floor_eur_per_mwh: float,
    price_cap_eur_per_mwh: float,
) -> BalancingResult:
    """Balance a batch of hours (the rules in the module docstring).

    Args:
        imbalance_mw: (E,) system imbalance (+ short).
        up_q_mw, up_p_eur_per_mwh, down_q_mw, down_p_eur_per_mwh: (E, S) blocks.
        unit: (S,) unit index of each block (-1 none); unit_room_mw: (E, U) upward room.
        day_ahead_price_eur_per_mwh: (E,) the price when the system is balanced.

    Example (30 MW short; a unit with 20 MW left at 60 and 40 MW at 80 EUR/MWh: the
    80 EUR block is marginal):

    >>> import numpy as np
    >>> r = balance(np.array([30.0]), np.array([[20.0, 40.0]]), np.array([[60.0, 80.0]]),
    ...             np.zeros((1, 2)), np.array([[60.0, 80.0]]), unit=np.array([0, 0]),
    ...             unit_room_mw=np.array([[100.0]]), day_ahead_price_eur_per_mwh=np.array([50.0]),
    ...             price_floor_eur_per_mwh=-500.0, price_cap_eur_per_mwh=3000.0)
    >>> float(r.price_eur_per_mwh[0]), r.activated_mw.tolist(), float(r.shed_mw[0])
    (80.0, [[20.0, 10.0]], 0.0)
    """
    c = np.ascontiguousarray
    up_q = c(up_q_mw, dtype=np.float64)
    e = up_q.shape[0]
    act, out = np.empty_like(up_q), np.empty((e, 3))
    _balance_batch(c(imbalance_mw, dtype=np.float64), up_q, c(up_p_eur_per_mwh, dtype=np.float64),
                   c(down_q_mw, dtype=np.float64), c(down_p_eur_per_mwh, dtype=np.float64),
                   c(unit, dtype=np.int64), c(unit_room_mw, dtype=np.float64),
                   float(price_floor_eur_per_mwh), float(price_cap_eur_per_mwh),
                   c(day_ahead_price_eur_per_mwh, dtype=np.float64), act, out)  # fmt: skip
    return BalancingResult(price_eur_per_mwh=out[:, 0], activated_mw=act, shed_mw=out[:, 1],
                           excess_mw=out[:, 2])  # fmt: skip


@njit(cache=True)
def ordc_adder(br, rr, sr, req, headroom, energy_price):
    """The real-time value of reserve added to the imbalance price, EUR/MWh.

    Real time prices energy and reserve together, as the day-ahead does: when the upward
    headroom left online after balancing (``headroom`` MW) falls short of the reserve
    requirement ``req`` MW, the reserve's value at that headroom is added to the energy
    price ``energy_price`` (ERCOT's real-time on-line reserve price adder, PUCT Rule
    25.505(g); PJM's shortage pricing, FERC EL19-58). The value is the larger of the
    day-ahead's reserve demand curve (:func:`envs.market.reserve.ordc_value`, ``rr`` the
    reserve market's rules) and ERCOT's shape near depletion (``br`` this market's rules,
    ``sr`` the spot market's): the adder reaches the value of lost load (the spot cap)
    less the energy price at the minimum contingency level
    (``balancing.ordc_min_reserve_share`` of the requirement) and falls linearly to 0 at
    the requirement. So a coalition that leaves
    its purchase to real time in an hour the day-ahead priced at the cap pays about the
    cap there too, instead of the deployed reserve's energy offer."""
    if not br.scarcity_adder_on or req <= 1e-9 or headroom >= req - 1e-9:
        return 0.0
    x_min = br.min_reserve_share * req
    room_to_voll = max(sr.price_cap_eur_per_mwh - energy_price, 0.0)
    if headroom <= x_min:
        near = room_to_voll
    else:
        near = room_to_voll * (req - headroom) / (req - x_min)
    return max(near, rs.ordc_value(rr, req, headroom))


@njit(cache=True)
def spot_coupled(br, system, imb_price, da_price):
    """The imbalance price coupled to the day-ahead price, EUR/MWh: at least the day-ahead
    price when the system is short, at most when it is long (``balancing.spot_coupling``).

    Germany's reBAP has this bound (BNetzA BK6-19-552, 2020): a balance-responsible party
    that leaves its position open in real time never buys cheaper, nor sells dearer,
    than the spot market would have let it, so under-buying day-ahead to buy the deployed
    reserve at its energy offer does not pay, while helping a system short or long of
    what was forecast still earns the imbalance price."""
    if not br.spot_coupling:
        return imb_price
    if system > 1e-9:
        return max(imb_price, da_price)
    if system < -1e-9:
        return min(imb_price, da_price)
    return imb_price
