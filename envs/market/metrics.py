"""Market-power indices of one cleared spot hour (DESIGN §3 step 7).

The rule is stated once, as the compiled :func:`market_power_row` (one env, the form the
simulator's step calls); :func:`market_power` is its batched public wrapper.

Dims: E envs, S supply blocks of the hour, G incumbent units. Quantities in MW for one
delivery hour (MW = MWh per step), prices and costs in EUR/MWh.

Indices (``out`` / the fields of :class:`MarketPowerResult`, in this order):

0. **Lerner index at the price-setting offer** (Lerner 1934, "The concept of monopoly and
   the measurement of monopoly power", *Rev. Econ. Stud.* 1(3)):
   ``L = (p - c_s) / p`` where ``c_s`` is the marginal cost (carbon included) of the unit
   that owns the *marginal accepted block*: the dearest accepted block, and among those
   tied at that offer price the one with the highest marginal cost (the unit whose cost
   would have to be covered at the margin). ``L = 0`` when no incumbent sets the price
   (the marginal block belongs to the renewables or the coalition, or a bid on the demand
   side sets it above every accepted offer, or nothing was accepted): the index measures
   the incumbents' market power, and a price set by a non-incumbent says nothing of it.
   ``L = 0`` also when ``p <= 0``: the index is undefined at a zero price and its sign
   inverts below it (at negative prices every incumbent sells below cost: no market
   power to measure).
1. **Markup at the price-setting offer**: ``(b_s - c_s) / max(c_s, 1)`` with ``b_s`` the
   setter's offer price; 0 when no incumbent sets the price. The divisor is floored at
   1 EUR/MWh so a zero-cost unit's markup is finite (the convention of the kernel's
   per-unit markup).
2. **Energy-weighted markup of the fleet** (the "price-cost markup" of market monitors,
   e.g. Borenstein, Bushnell & Wolak 2002, *AER* 92(5)):
   ``M = sum_k a_k (b_k - c_k) / sum_k a_k c_k`` over the accepted incumbent blocks ``k``
   (``a`` accepted MW, ``b`` offer price, ``c`` the owner's marginal cost). An offer
   *below* marginal cost (a must-run unit offered at the floor to stay on at minimum
   output) counts at marginal cost, i.e. zero markup: it is a commitment constraint, not
   a withheld rent, and counting it negatively would hide the markup of the strategic
   units. 0 when the fleet's accepted energy or its cost is zero.
3. **Residual supply index of the largest supplier** (Sheffrin 2002, "Predicting market
   power using the residual supply index", CAISO DMA, FERC market monitoring workshop):
   ``RSI = (sum_g K_g - max_g K_g + R) / D`` with ``K_g`` each unit's available capacity,
   ``R`` the other supply (renewables, the coalition's sales) and ``D`` the demand. RSI
   < 1 means the largest supplier is pivotal; CAISO flags hours with RSI < 1.1.
   ``inf`` when ``D <= 0``.
4. **Pivotal suppliers**: the number of units with ``RSI_g = (sum K - K_g + R) / D < 1``,
   i.e. whose removal leaves supply below demand (the per-supplier test behind PJM's
   three-pivotal-supplier test, PJM Manual 11 §2.3 / OATT Attachment M: mitigation
   applies when the three largest suppliers *jointly* are pivotal; this counts single
   pivotal suppliers). Range [0, G].
5. **HHI** of the incumbents' accepted energy shares, in [0, 10,000]
   (US DOJ & FTC, *Horizontal Merger Guidelines* 2010 §5.3, which FERC uses for market
   power screens, 18 CFR 33 Appendix A): ``HHI = sum_g (100 q_g / sum q)^2``; 0 when the
   fleet sells nothing. Units are counted as separate owners.

**Markup over a competitive benchmark** (:func:`rerun_price_row`,
:func:`markup_over_competitive`; the competitive benchmark of Borenstein, Bushnell &
Wolak 2002, *AER* 92(5), and of market monitors' price-cost markup, which rerun the
market with every offer replaced by its cost-based offer). The indices above read the
offers at the margin: a unit that *withholds* capacity and offers the rest at cost moves
the price up the merit order while its own markup, and the Lerner index of the unit then
at the margin, stay 0. So each hour the day-ahead energy market is cleared again
(:func:`envs.market.spot.clear_spot_row`, uniform price) on the same demand bids, the
same other sellers' offers (system renewables, the coalition's sale) and the same reserve
awards, with every unit offering *all* its capacity: its must-run part at the floor as in
the real book, the rest of ``min(capacity, previous dispatch + ramp)`` less the reserve
it holds at its marginal cost; that is the competitive price ``p_c``. The index is
``(p - p_c) / max(|p_c|, 1)``: the price's excess over ``p_c`` as a share of it, the
divisor floored at 1 EUR/MWh like the markups above (in absolute value, so a negative
``p_c`` keeps the sign of the excess).

``p`` is the cleared price when energy and reserve clear in sequence (the energy auction
is then exactly this energy-only clearing of the units' real offers). Under
co-optimisation the cleared energy price also carries the reserve's opportunity cost and
scarcity price, which a competitive market pays too: ``p`` is then the same energy-only
rerun of the units' *real* offers (their withholding and markups) with the reserve awards
held fixed, so that only the offers differ between ``p`` and ``p_c`` and the index is 0
whenever every unit offers all it has at cost. (Re-running the co-optimisation instead
would also move the reserve awards and price, which this index does not measure.)

Example (a competitive book: the must-run unit A at the floor, B marginal and offered at
cost, so the price is B's cost and both Lerner and markups are 0):

>>> import numpy as np
>>> r = market_power(np.array([40.0]), np.array([[-500.0, 40.0]]), np.array([[50.0, 60.0]]),
...                  np.array([[0, 1]]), np.array([[80.0, 40.0]]),
...                  np.array([[100.0, 200.0]]), np.array([110.0]), np.array([0.0]))
>>> float(r.lerner[0]), float(r.markup_setter[0]), float(r.markup_energy_weighted[0])
(0.0, 0.0, 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

from envs.market.spot import clear_spot_row

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
_EPS = 1e-9

#: Indices of ``out`` in :func:`market_power_row`.
I_LERNER, I_MARKUP_SETTER, I_MARKUP_EW, I_RSI, I_PIVOTAL, I_HHI = range(6)
N_OUT = 6

__all__ = [
    "I_HHI",
    "I_LERNER",
    "I_MARKUP_EW",
    "I_MARKUP_SETTER",
    "I_PIVOTAL",
    "I_RSI",
    "N_OUT",
    "MarketPowerResult",
    "market_power",
    "market_power_row",
    "markup_over_competitive",
    "rerun_price_row",
]


@dataclass(frozen=True, slots=True)
class MarketPowerResult:
    """Market-power indices of a batch of cleared hours (definitions in the module doc).

    Attributes:
        lerner: (E,) Lerner index at the price-setting offer, dimensionless (<= 1).
        markup_setter: (E,) the setter's (offer - mc) / mc.
        markup_energy_weighted: (E,) the fleet's energy-weighted markup over mc.
        rsi: (E,) residual supply index of the largest supplier.
        n_pivotal: (E,) number of single pivotal suppliers, int64 in [0, G].
        hhi: (E,) Herfindahl-Hirschman index of accepted fleet energy, 0..10,000.
    """

    lerner: F64
    markup_setter: F64
    markup_energy_weighted: F64
    rsi: F64
    n_pivotal: I64
    hhi: F64


@njit(cache=True)
def market_power_row(price, blk_p, blk_acc, blk_unit, mc, cap_avail, demand, other_supply,
                     out):  # fmt: skip
    """Market-power indices of one cleared hour (the rules in the module docstring).

    Args:
        price: clearing price, EUR/MWh.
        blk_p: (S,) offer prices as cleared (clipped to [floor, cap]), EUR/MWh.
        blk_acc: (S,) accepted MW.
        blk_unit: (S,) int64 owner unit in [0, G), or -1 for a block of no incumbent
            (renewables, the coalition).
        mc: (G,) marginal cost incl. carbon, EUR/MWh.
        cap_avail: (G,) each unit's available capacity, MW.
        demand: demand D, MW.
        other_supply: non-incumbent supply R (renewables, coalition sales), MW.
        out: (N_OUT,) output: Lerner, setter markup, energy-weighted markup, RSI,
            pivotal count, HHI.
    """
    n_s, n_g = blk_p.shape[0], mc.shape[0]
    # --- the marginal accepted block: dearest accepted offer; ties -> the costliest owner
    best_p, setter = -np.inf, -1
    best_is_inc = False
    for k in range(n_s):
        if blk_acc[k] <= _EPS:
            continue
        u = blk_unit[k]
        if blk_p[k] > best_p + _EPS:
            best_p, setter, best_is_inc = blk_p[k], u, u >= 0
        elif blk_p[k] >= best_p - _EPS and u >= 0:
            # Tied offers: an incumbent's block is the setter over a non-incumbent's,
            # and among incumbents the costliest one.
            if not best_is_inc or mc[u] > mc[setter]:
                setter, best_is_inc = u, True
    # A bid on a vertical step of supply sets a price above every accepted offer: then
    # no offer sets it.
    sets = setter >= 0 and price <= best_p + _EPS
    if sets:
        c_s = mc[setter]
        out[0] = (price - c_s) / price if price > 0.0 else 0.0
        # An offer above the cap clears at the cap: the setter's effective offer.
        out[1] = (min(best_p, price) - c_s) / max(c_s, 1.0)
    else:
        out[0] = 0.0
        out[1] = 0.0
    # --- energy-weighted markup and HHI over the fleet's accepted blocks
    q_unit = np.zeros(n_g)
    rent, cost = 0.0, 0.0
    for k in range(n_s):
        u = blk_unit[k]
        if u < 0 or blk_acc[k] <= _EPS:
            continue
        q_unit[u] += blk_acc[k]
        # An offer below cost (must-run at the floor) counts at cost: zero markup.
        rent += blk_acc[k] * max(blk_p[k] - mc[u], 0.0)
        cost += blk_acc[k] * mc[u]
    out[2] = rent / cost if cost > _EPS else 0.0
    total = q_unit.sum()
    hhi = 0.0
    if total > _EPS:
        for g in range(n_g):
            share = 100.0 * q_unit[g] / total
            hhi += share * share
    out[5] = hhi
    # --- residual supply: the largest unit, then each unit alone
    cap_sum, cap_max = 0.0, 0.0
    for g in range(n_g):
        cap_sum += cap_avail[g]
        cap_max = max(cap_max, cap_avail[g])
    if demand > _EPS:
        out[3] = (cap_sum - cap_max + other_supply) / demand
        n_piv = 0
        for g in range(n_g):
            if cap_sum - cap_avail[g] + other_supply < demand - _EPS:
                n_piv += 1
        out[4] = n_piv
    else:
        out[3] = np.inf
        out[4] = 0.0


@njit(cache=True)
def _batch(price, blk_p, blk_acc, blk_unit, mc, cap_avail, demand, other, out):
    for e in range(price.shape[0]):
        market_power_row(price[e], blk_p[e], blk_acc[e], blk_unit[e], mc[e], cap_avail[e],
                         demand[e], other[e], out[e])  # fmt: skip


def _f64(name: str, a: object, shape: tuple[int, ...]) -> F64:
    arr = np.ascontiguousarray(a, dtype=np.float64)
    if arr.shape != shape:
        raise ValueError(f"market_power: {name} has shape {arr.shape}; expected {shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"market_power: {name} holds NaN or inf; expected finite values")
    return arr


def market_power(
    price_eur_per_mwh: F64,
    blk_p_eur_per_mwh: F64,
    blk_acc_mw: F64,
    blk_unit: I64,
    mc_eur_per_mwh: F64,
    cap_avail_mw: F64,
    demand_mw: F64,
    other_supply_mw: F64,
) -> MarketPowerResult:
    """Market-power indices of a batch of cleared hours (see the module docstring).

    Args:
        price_eur_per_mwh: (E,) clearing prices.
        blk_p_eur_per_mwh: (E, S) offer prices.
        blk_acc_mw: (E, S) accepted MW.
        blk_unit: (E, S) owner unit in [0, G), or -1 for non-incumbent blocks.
        mc_eur_per_mwh: (E, G) marginal cost incl. carbon.
        cap_avail_mw: (E, G) available capacity.
        demand_mw: (E,) demand.
        other_supply_mw: (E,) non-incumbent supply (renewables, coalition sales).

    Returns:
        The frozen :class:`MarketPowerResult`. Inputs are not modified.

    Raises:
        ValueError: a shape that does not match, non-finite values, or a ``blk_unit``
            outside [-1, G).
    """
    price = np.ascontiguousarray(price_eur_per_mwh, dtype=np.float64)
    if price.ndim != 1:
        raise ValueError(f"market_power: price_eur_per_mwh has shape {price.shape}; expected (E,)")
    n_e = price.shape[0]
    blk_p = np.ascontiguousarray(blk_p_eur_per_mwh, dtype=np.float64)
    if not np.all(np.isfinite(blk_p)):
        raise ValueError("market_power: blk_p_eur_per_mwh holds NaN or inf; expected finite")
    if blk_p.ndim != 2 or blk_p.shape[0] != n_e:
        raise ValueError(
            f"market_power: blk_p_eur_per_mwh has shape {blk_p.shape}; expected (E, S) with E={n_e}"
        )
    es = blk_p.shape
    mc = np.ascontiguousarray(mc_eur_per_mwh, dtype=np.float64)
    if mc.ndim != 2 or mc.shape[0] != n_e:
        raise ValueError(
            f"market_power: mc_eur_per_mwh has shape {mc.shape}; expected (E, G) with E={n_e}"
        )
    eg = mc.shape
    blk_acc = _f64("blk_acc_mw", blk_acc_mw, es)
    cap = _f64("cap_avail_mw", cap_avail_mw, eg)
    demand = _f64("demand_mw", demand_mw, (n_e,))
    other = _f64("other_supply_mw", other_supply_mw, (n_e,))
    unit = np.ascontiguousarray(blk_unit)
    if unit.shape != es or not np.issubdtype(unit.dtype, np.integer):
        raise ValueError(
            f"market_power: blk_unit has shape {unit.shape} and dtype {unit.dtype}; expected "
            f"integers of shape {es}"
        )
    unit = unit.astype(np.int64)
    if unit.size and (unit.min() < -1 or unit.max() >= eg[1]):
        raise ValueError(
            f"market_power: blk_unit holds {int(unit.min())}..{int(unit.max())}; expected "
            f"-1 (no incumbent) or a unit index in [0, {eg[1]})"
        )
    if not (np.all(np.isfinite(price)) and np.all(np.isfinite(mc))):
        raise ValueError("market_power: price_eur_per_mwh or mc_eur_per_mwh holds NaN or inf")
    out = np.empty((n_e, N_OUT))
    _batch(price, blk_p, blk_acc, unit, mc, cap, demand, other, out)
    return MarketPowerResult(
        lerner=out[:, I_LERNER],
        markup_setter=out[:, I_MARKUP_SETTER],
        markup_energy_weighted=out[:, I_MARKUP_EW],
        rsi=out[:, I_RSI],
        n_pivotal=out[:, I_PIVOTAL].astype(np.int64),
        hhi=out[:, I_HHI],
    )


@njit(cache=True)
def rerun_price_row(sq, sp, k_n, must, avail, mc, at_cost, dq, dp, floor, cap):
    """The hour's day-ahead energy price on a rebuilt fleet book, EUR/MWh (energy only,
    uniform price; the benchmark of the module docstring).

    Each unit offers its must-run part ``min(must, avail)`` at the floor and the rest of
    ``avail`` split evenly into ``k_n`` tranches, priced as offered in ``sp`` or, with
    ``at_cost``, at its marginal cost: the units' offers as
    :func:`envs.actors.fleet.energy_offers_row` builds them from a given availability.

    Args:
        sq, sp: (S,) the hour's energy offers, MW and EUR/MWh, in the step's layout (unit
            g's tranche k at ``g * (k_n + 1) + k``, tranche 0 must-run; the blocks after
            the units, the other sellers', are kept as offered). Not modified.
        k_n: priced tranches per unit (>= 1).
        must: (G,) each unit's must-run output, MW.
        avail: (G,) MW each unit offers for energy (the competitive benchmark: its
            capacity within its ramp, less the reserve it holds; no withholding).
        mc: (G,) marginal cost (carbon included), EUR/MWh.
        at_cost: price the tranches at ``mc`` (else as offered in ``sp``).
        dq, dp: (B,) the demand bids, MW and EUR/MWh.
        floor, cap: the price floor and cap, EUR/MWh.
    """
    n_s, n_b = sq.shape[0], dq.shape[0]
    cq, cp = sq.copy(), sp.copy()
    for g in range(mc.shape[0]):
        base = g * (k_n + 1)
        m = min(must[g], avail[g])
        cq[base], cp[base] = m, floor
        for k in range(1, k_n + 1):
            cq[base + k] = max(avail[g] - m, 0.0) / k_n
            if at_cost:
                cp[base + k] = mc[g]
    s_acc, s_paid, d_acc = np.empty(n_s), np.empty(n_s), np.empty(n_b)
    price, _, _ = clear_spot_row(cq, cp, dq, dp, floor, cap, False, s_acc, d_acc, s_paid)
    return price


@njit(cache=True)
def markup_over_competitive(price, competitive):
    """``(price - competitive) / max(|competitive|, 1)``: the price's excess over the
    competitive benchmark, a share of it (EUR/MWh in, dimensionless out)."""
    return (price - competitive) / max(abs(competitive), 1.0)
