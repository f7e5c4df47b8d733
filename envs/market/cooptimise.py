"""Co-optimised energy and upward-reserve clearing at one node (PJM/ERCOT style).

Energy and reserve are dispatched together, sharing each unit's capacity: the least-cost
dispatch maximises welfare over both products, and the prices are the LP's shadow prices,
so the reserve price carries the opportunity cost of energy a unit does not sell (PJM
Manual 11, *Energy & Ancillary Services Market Operations*, §4 "co-optimisation"; ERCOT
Real-Time Co-optimization, NPRR 1008; Hogan 2013, "Electricity scarcity pricing through
operating reserves", *Economics of Energy & Environmental Policy* 2(2)). Reserve is
deployed to energy before load is shed whenever energy is worth more than reserve.

The rule is stated once, as the compiled :func:`clear_joint_row` (one env, the form the
simulator's step calls); :func:`clear_joint` is its batched public wrapper.

Dims: E envs, S energy offers, R reserve offers, U units, B energy bids, K reserve
demand blocks. MW for one delivery hour; energy prices EUR/MWh, reserve EUR/MW-h.

The LP (one env): maximise sum dp*d + sum rdp*rd - sum ep*e - sum rp*r subject to
sum e = sum d (energy), sum r = sum rd (reserve), 0 <= e <= eq, 0 <= r <= rq,
0 <= d <= dq, 0 <= rd <= rdq, and for every unit u: energy + reserve of u <= ulim[u].
Energy prices are read as clipped to [floor, cap] and reserve prices to [0, reserve cap].

Method: the LP is a min-cost flow on source -> unit -> {energy, reserve} -> sink
(unit-less blocks hang off one pseudo-unit without a limit), solved exactly by
successive shortest paths. A unit's blocks of one product are parallel arcs, used in
price order, so each is a convex curve with a pointer; a simple source-sink path visits
each product node at most once, so the shortest path is one of four shapes (into energy
or reserve, directly or by moving a unit's MW from one product to the other) and costs
O(U) to find. Paths of cost <= 0 are augmented, so volume at a price equal on both sides
is traded (as :func:`envs.market.spot.clear_spot_row` does).

Prices (shadow prices): with node potentials measured as minus the shortest residual
distance to the source, each price is the lowest optimal dual, the joint form of the
spot rule's "lowest market-clearing price" (the dearest accepted offer or unfilled bid
at the margin; on generic books the duals are unique). With no accepted offer and no
unfilled bid at all, the energy price is the cheapest energy offer (the floor if none)
and the reserve price is 0, as in spot.py and reserve.py. Prices are clipped to
[floor, cap] and [0, reserve cap].

Rationing: blocks tied at a price share that price level's MW pro rata
(:mod:`envs.market.rationing`), water-filled under the units' limits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

from envs.market.rationing import price_order_row, ration_row, ration_units_row

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
_EPS = 1e-9  # MW: residuals below this are spent
_COST_TOL = 1e-9  # EUR: a path this close to free still trades (ties trade)

__all__ = ["JointResult", "clear_joint", "clear_joint_row"]


@dataclass(frozen=True, slots=True)
class JointResult:
    """Outcome of one co-optimised energy + reserve clearing.

    Attributes:
        energy_price_eur_per_mwh: (E,) energy shadow price.
        reserve_price_eur_per_mw: (E,) reserve shadow price, EUR/MW for the hour.
        energy_mw: (E, S) accepted energy of each offer.
        reserve_mw: (E, R) accepted reserve of each offer.
        demand_mw: (E, B) served energy of each bid.
        reserve_demand_mw: (E, K) reserve bought on each demand block.
        reserve_shortfall_mw: (E,) reserve demand left unfilled.
        unserved_mw: (E,) energy demand bid at (or above) the cap left unserved.
        welfare_eur: (E,) the LP's objective.
    """

    energy_price_eur_per_mwh: F64
    reserve_price_eur_per_mw: F64
    energy_mw: F64
    reserve_mw: F64
    demand_mw: F64
    reserve_demand_mw: F64
    reserve_shortfall_mw: F64
    unserved_mw: F64
    welfare_eur: F64


@njit(cache=True)
def _bucket(q, p, owner, n_units, off, idx, order):
    """Blocks with MW > 0, grouped by unit (pseudo-unit n_units last) in price order.

    order (n,) is written with all blocks in price order (ties in index order);
    off (n_units + 3,) ends with off[u]:off[u + 1] the slice of idx holding unit u.
    """
    price_order_row(p, False, order)
    for u in range(off.shape[0]):
        off[u] = 0
    for j in range(q.shape[0]):
        if q[j] > 0.0:
            u = owner[j] if owner[j] >= 0 else n_units
            off[u + 2] += 1
    for u in range(n_units + 1):
        off[u + 2] += off[u + 1]
    # off[u + 1] is used as the fill cursor of unit u and ends as its end = start of u + 1.
    for jj in range(order.shape[0]):
        j = order[jj]
        if q[j] > 0.0:
            u = owner[j] if owner[j] >= 0 else n_units
            idx[off[u + 1]] = j
            off[u + 1] += 1


@njit(cache=True)
def _zero(x):
    """x[:] = 0 without the view a slice makes."""
    for i in range(x.shape[0]):
        x[i] = 0.0


@njit(cache=True)
def _clip(x, lo, hi, out):
    """out = min(max(x, lo), hi) elementwise (np.minimum(np.maximum(...)) without a copy)."""
    for i in range(x.shape[0]):
        v = x[i]
        if v < lo:
            v = lo
        if v > hi:
            v = hi
        out[i] = v


@njit(cache=True, inline="always")
def _fill(q, x, f):
    """(new flow, block now full) after forwarding f MW on a block of q MW holding x."""
    if f >= q - x - _EPS:
        return q, True
    return x + f, False


@njit(cache=True, inline="always")
def _take(x, f):
    """New flow after taking f MW back from a block holding x."""
    return 0.0 if f >= x - _EPS else x - f


@njit(cache=True, inline="always")
def _piece(fe, fr, room, je_price, jr_price):
    """A unit's path pieces (a_e, a_r, b_er, b_re) from its next offers' prices fe, fr
    (inf: none left), its room, and its dearest accepted prices (nan: none)."""
    a_e = fe if room > _EPS else np.inf
    a_r = fr if room > _EPS else np.inf
    b_er = fr - je_price if not np.isnan(je_price) and fr < np.inf else np.inf
    b_re = fe - jr_price if not np.isnan(jr_price) and fe < np.inf else np.inf
    return a_e, a_r, b_er, b_re


# _dist and the flow's loop in clear_joint_row are flat on purpose: numba increfs and
# decrefs (an atomic op each) every array handed to a helper that is inlined or that calls
# others, and on the step's books that cost more than the flow itself. Their helpers take
# scalars only; the loop is written out in clear_joint_row rather than in a helper of ~30
# arrays.


@njit(cache=True)
def _dist(n1, ke, eoff, eidx, e_acc, pe, kr, roff, ridx, r_acc, pr, t_e, t_r):
    """Shortest residual distances from the energy and the reserve node to the source."""
    a_e, a_r, b_er, b_re = t_e, t_r, np.inf, np.inf
    for u in range(n1):
        k, end = ke[u], eoff[u + 1]
        # The curve's dearest flow: the open block if it holds some, else the one before.
        je = eidx[k] if k < end and e_acc[eidx[k]] > 0.0 else (eidx[k - 1] if k > eoff[u] else -1)
        fe = pe[eidx[k]] if k < end else np.inf
        k, end = kr[u], roff[u + 1]
        jr = ridx[k] if k < end and r_acc[ridx[k]] > 0.0 else (ridx[k - 1] if k > roff[u] else -1)
        fr = pr[ridx[k]] if k < end else np.inf
        if je >= 0:
            a_e = min(a_e, -pe[je])
            b_er = min(b_er, fr - pe[je])
        if jr >= 0:
            a_r = min(a_r, -pr[jr])
            b_re = min(b_re, fe - pr[jr])
    return min(a_e, b_er + a_r), min(a_r, b_re + a_e)


@njit(cache=True)
def _totals(eq, rq, dq, dp, rdq, pe, pr, pd, prd, cap, e_acc, r_acc, d_acc, rd_acc):
    """(reserve shortfall MW, unserved MW, welfare EUR) of an accepted dispatch."""
    n_s, n_r, n_b, n_k = eq.shape[0], rq.shape[0], dq.shape[0], rdq.shape[0]
    welfare = 0.0
    unserved = 0.0
    for b in range(n_b):
        welfare += pd[b] * d_acc[b]
        if dp[b] >= cap:
            unserved += dq[b] - d_acc[b]
    shortfall = 0.0
    for k in range(n_k):
        welfare += prd[k] * rd_acc[k]
        shortfall += rdq[k] - rd_acc[k]
    for s in range(n_s):
        welfare -= pe[s] * e_acc[s]
    for r in range(n_r):
        welfare -= pr[r] * r_acc[r]
    return shortfall, unserved, welfare


@njit(cache=True)
def clear_joint_row(eq, ep, eu, rq, rp, ru, ulim, dq, dp, rdq, rdp, floor, cap, rcap,  # noqa: C901
                    e_acc, r_acc, d_acc, rd_acc):  # fmt: skip
    """Clear one env's energy and reserve together (the rules in the module docstring).

    Args:
        eq, ep: (S,) energy offers' MW and prices, EUR/MWh.
        eu: (S,) int64 unit of each energy offer, -1 for none.
        rq, rp: (R,) reserve offers' MW and prices, EUR/MW-h.
        ru: (R,) int64 unit of each reserve offer, -1 for none.
        ulim: (U,) each unit's shared limit on energy + reserve, MW.
        dq, dp: (B,) energy bids' MW and prices, EUR/MWh (>= cap: inelastic load).
        rdq, rdp: (K,) reserve demand blocks' MW and values, EUR/MW-h (an ORDC).
        floor, cap: energy price floor and cap, EUR/MWh.
        rcap: reserve price cap, EUR/MW-h.
        e_acc, r_acc, d_acc, rd_acc: outputs, (S,), (R,), (B,), (K,) accepted MW.

    Returns:
        (energy price EUR/MWh, reserve price EUR/MW-h, reserve shortfall MW,
        unserved MW, welfare EUR).
    """
    n_s, n_r, n_b, n_k = eq.shape[0], rq.shape[0], dq.shape[0], rdq.shape[0]
    n_u = ulim.shape[0]
    n1 = n_u + 1  # the pseudo-unit n_u holds unit-less blocks and has no limit
    n_ent = n_u + max(n_s, n_r)
    # Two scratch buffers per call, cut into views (a slice allocates nothing): the step
    # calls this for every env every hour, and ~20 small allocations cost more than the
    # flow itself on its books.
    fw = np.empty(n_s + n_r + n_b + n_k + 5 * n1 + 2 * n_ent)
    iw = np.empty(4 * n1 + 6 + 2 * (n_s + n_r) + n_b + n_k + n_ent, np.int64)
    pe, o = fw[:n_s], n_s
    pr, o = fw[o : o + n_r], o + n_r
    pd, o = fw[o : o + n_b], o + n_b
    prd, o = fw[o : o + n_k], o + n_k
    used, o = fw[o : o + n1], o + n1
    a_e, o = fw[o : o + n1], o + n1
    a_r, o = fw[o : o + n1], o + n1
    b_er, o = fw[o : o + n1], o + n1
    b_re, o = fw[o : o + n1], o + n1
    ent_q, o = fw[o : o + n_ent], o + n_ent
    ent_cap = fw[o : o + n_ent]
    eoff, o = iw[: n1 + 2], n1 + 2
    roff, o = iw[o : o + n1 + 2], o + n1 + 2
    ke, o = iw[o : o + n1 + 1], o + n1 + 1
    kr, o = iw[o : o + n1 + 1], o + n1 + 1
    eidx, o = iw[o : o + n_s], o + n_s
    ridx, o = iw[o : o + n_r], o + n_r
    e_order, o = iw[o : o + n_s], o + n_s
    r_order, o = iw[o : o + n_r], o + n_r
    d_order, o = iw[o : o + n_b], o + n_b
    k_order, o = iw[o : o + n_k], o + n_k
    ent_state = iw[o : o + n_ent]
    _clip(ep, floor, cap, pe)
    _clip(rp, 0.0, rcap, pr)
    _clip(dp, floor, cap, pd)
    _clip(rdp, 0.0, rcap, prd)
    # Element loops, not e_acc[:] = 0.0: a slice is a new array (and a refcount op).
    _zero(e_acc)
    _zero(r_acc)
    _zero(d_acc)
    _zero(rd_acc)
    _zero(used)
    _bucket(eq, pe, eu, n_u, eoff, eidx, e_order)
    _bucket(rq, pr, ru, n_u, roff, ridx, r_order)
    price_order_row(pd, True, d_order)
    price_order_row(prd, True, k_order)
    for u in range(n1 + 1):
        ke[u] = eoff[u]
        kr[u] = roff[u]
    kd = 0
    kk = 0
    while kd < n_b and dq[d_order[kd]] <= 0.0:
        kd += 1
    while kk < n_k and rdq[k_order[kk]] <= 0.0:
        kk += 1
    # Successive shortest paths, augmented while they cost <= 0 (written out here, not
    # in a helper: see the note above _dist). Per unit u, a_e[u], a_r[u] hold the cheapest
    # MW into each product from its room and b_er[u], b_re[u] the cheapest move of its MW
    # from one product to the other; they are recomputed only for the units a path
    # touched (all of them before the first path). Shapes of a path: 0 into energy, 1 into
    # reserve, 2 into energy with a unit moving MW from energy to reserve, 3 the reverse;
    # a direct path wins ties, then the lowest unit.
    src, mv, n_touched = 0, 0, n1
    for it in range(4 * (n_s + n_r + n_b + n_k + n1) + 8):
        for w in range(n_touched):
            u = w if it == 0 else (src if w == 0 else mv)
            room = np.inf if u == n_u else ulim[u] - used[u]
            k, end = ke[u], eoff[u + 1]
            fe = pe[eidx[k]] if k < end else np.inf
            jp_e = np.nan
            if k < end and e_acc[eidx[k]] > 0.0:
                jp_e = pe[eidx[k]]
            elif k > eoff[u]:
                jp_e = pe[eidx[k - 1]]
            k, end = kr[u], roff[u + 1]
            fr = pr[ridx[k]] if k < end else np.inf
            jp_r = np.nan
            if k < end and r_acc[ridx[k]] > 0.0:
                jp_r = pr[ridx[k]]
            elif k > roff[u]:
                jp_r = pr[ridx[k - 1]]
            a_e[u], a_r[u], b_er[u], b_re[u] = _piece(fe, fr, room, jp_e, jp_r)
        t_e = -pd[d_order[kd]] if kd < n_b else np.inf
        t_r = -prd[k_order[kk]] if kk < n_k else np.inf
        # The shortest path: the first smallest of each piece (ties: the lowest unit).
        ua_e, ua_r, ub_er, ub_re = 0, 0, 0, 0
        for i in range(1, n1):
            if a_e[i] < a_e[ua_e]:
                ua_e = i
            if a_r[i] < a_r[ua_r]:
                ua_r = i
            if b_er[i] < b_er[ub_er]:
                ub_er = i
            if b_re[i] < b_re[ub_re]:
                ub_re = i
        c_e, c_r = a_e[ua_e] + t_e, a_r[ua_r] + t_r
        # A move through the unit that also supplies it is never shorter than that unit
        # supplying the other product directly (its curves are in price order).
        c_er = a_e[ua_e] + b_er[ub_er] + t_r if ub_er != ua_e else np.inf
        c_re = a_r[ua_r] + b_re[ub_re] + t_e if ub_re != ua_r else np.inf
        best = min(c_e, c_r)
        shape = 0 if c_e <= c_r else 1
        if c_er < best:
            best, shape = c_er, 2
        if c_re < best:
            best, shape = c_re, 3
        if not best <= _COST_TOL:
            break
        into_e = shape == 0 or shape == 2
        to_e = shape == 0 or shape == 3
        src = ua_e if into_e else ua_r
        mv = ub_er if shape == 2 else ub_re
        n_touched = 2 if shape >= 2 else 1
        # The path's capacity: the supplier's room and open block, the mover's dearest
        # flow and open block in the other product, the open demand block.
        f = np.inf if src == n_u else ulim[src] - used[src]
        if into_e:
            f = min(f, eq[eidx[ke[src]]] - e_acc[eidx[ke[src]]])
        else:
            f = min(f, rq[ridx[kr[src]]] - r_acc[ridx[kr[src]]])
        # The mover's pointer onto its dearest flow in the product it gives up.
        kp = 0
        if shape == 2:
            kp = ke[mv]
            if not (kp < eoff[mv + 1] and e_acc[eidx[kp]] > 0.0):
                kp -= 1
            f = min(f, e_acc[eidx[kp]])
            f = min(f, rq[ridx[kr[mv]]] - r_acc[ridx[kr[mv]]])
        elif shape == 3:
            kp = kr[mv]
            if not (kp < roff[mv + 1] and r_acc[ridx[kp]] > 0.0):
                kp -= 1
            f = min(f, r_acc[ridx[kp]])
            f = min(f, eq[eidx[ke[mv]]] - e_acc[eidx[ke[mv]]])
        if to_e:
            f = min(f, dq[d_order[kd]] - d_acc[d_order[kd]])
        else:
            f = min(f, rdq[k_order[kk]] - rd_acc[k_order[kk]])
        if src != n_u:
            used[src] = ulim[src] if f >= ulim[src] - used[src] - _EPS else used[src] + f
        if into_e:
            j = eidx[ke[src]]
            e_acc[j], full = _fill(eq[j], e_acc[j], f)
            ke[src] += full
        else:
            j = ridx[kr[src]]
            r_acc[j], full = _fill(rq[j], r_acc[j], f)
            kr[src] += full
        if shape == 2:
            ke[mv] = kp
            e_acc[eidx[kp]] = _take(e_acc[eidx[kp]], f)
            j = ridx[kr[mv]]
            r_acc[j], full = _fill(rq[j], r_acc[j], f)
            kr[mv] += full
        elif shape == 3:
            kr[mv] = kp
            r_acc[ridx[kp]] = _take(r_acc[ridx[kp]], f)
            j = eidx[ke[mv]]
            e_acc[j], full = _fill(eq[j], e_acc[j], f)
            ke[mv] += full
        if to_e:
            j = d_order[kd]
            d_acc[j], full = _fill(dq[j], d_acc[j], f)
            kd += full
            while kd < n_b and dq[d_order[kd]] <= 0.0:
                kd += 1
        else:
            j = k_order[kk]
            rd_acc[j], full = _fill(rdq[j], rd_acc[j], f)
            kk += full
            while kk < n_k and rdq[k_order[kk]] <= 0.0:
                kk += 1
    t_e = -pd[d_order[kd]] if kd < n_b else np.inf
    t_r = -prd[k_order[kk]] if kk < n_k else np.inf
    dist_e, dist_r = _dist(n1, ke, eoff, eidx, e_acc, pe, kr, roff, ridx, r_acc, pr,
                           t_e, t_r)  # fmt: skip
    if np.isfinite(dist_e):
        price_e = -dist_e
    else:
        price_e = pe[e_order[0]] if n_s > 0 else floor
    price_r = -dist_r if np.isfinite(dist_r) else 0.0
    price_e = min(max(price_e, floor), cap)
    price_r = min(max(price_r, 0.0), rcap)

    # Pro-rata among blocks tied at a price (EUPHEMIA); totals and objective unchanged.
    ration_row(dq, pd, d_order, d_acc)
    ration_row(rdq, prd, k_order, rd_acc)
    ration_units_row(eq, pe, eu, e_order, ulim, used, e_acc, ent_q, ent_cap, ent_state)
    ration_units_row(rq, pr, ru, r_order, ulim, used, r_acc, ent_q, ent_cap, ent_state)

    shortfall, unserved, welfare = _totals(eq, rq, dq, dp, rdq, pe, pr, pd, prd, cap, e_acc,
                                           r_acc, d_acc, rd_acc)  # fmt: skip
    return price_e, price_r, max(shortfall, 0.0), max(unserved, 0.0), welfare


@njit(cache=True)
def _clear_batch(eq, ep, eu, rq, rp, ru, ulim, dq, dp, rdq, rdp, floor, cap, rcap,
                 e_acc, r_acc, d_acc, rd_acc, out):  # fmt: skip
    for e in range(eq.shape[0]):
        out[e] = clear_joint_row(eq[e], ep[e], eu[e], rq[e], rp[e], ru[e], ulim[e], dq[e],
                                 dp[e], rdq[e], rdp[e], floor, cap, rcap, e_acc[e], r_acc[e],
                                 d_acc[e], rd_acc[e])  # fmt: skip


def _as_2d(name: str, a, dtype, e: int | None = None) -> NDArray:
    arr = np.asarray(a)
    if arr.ndim == 1:
        arr = arr[None] if e is None else np.broadcast_to(arr, (e, arr.shape[0]))
    if arr.ndim != 2 or (e is not None and arr.shape[0] != e):
        expected = "(E, n)" if e is None else f"(E, n) with E = {e}"
        raise ValueError(f"clear_joint: {name} has shape {np.shape(a)}; expected {expected}")
    if dtype is np.float64 and not np.all(np.isfinite(arr)):
        raise ValueError(f"clear_joint: {name} holds NaN or inf; expected finite numbers")
    return np.ascontiguousarray(arr, dtype=dtype)


def _checked_books(
    energy_q_mw, energy_p_eur_per_mwh, energy_unit, reserve_q_mw, reserve_p_eur_per_mw,
    reserve_unit, unit_limit_mw, demand_q_mw, demand_p_eur_per_mwh, reserve_demand_q_mw,
    reserve_demand_p_eur_per_mw,
) -> list[NDArray]:  # fmt: skip
    """:func:`clear_joint`'s books as (E, .) arrays in argument order, checked: each
    quantity shaped like its price, MW >= 0, units -1 or 0..U-1."""
    eq = _as_2d("energy_q_mw", energy_q_mw, np.float64)
    n_e = eq.shape[0]
    arrays = {
        "energy_q_mw": eq,
        "energy_p_eur_per_mwh": _as_2d(
            "energy_p_eur_per_mwh", energy_p_eur_per_mwh, np.float64, n_e
        ),
        "energy_unit": _as_2d("energy_unit", energy_unit, np.int64, n_e),
        "reserve_q_mw": _as_2d("reserve_q_mw", reserve_q_mw, np.float64, n_e),
        "reserve_p_eur_per_mw": _as_2d(
            "reserve_p_eur_per_mw", reserve_p_eur_per_mw, np.float64, n_e
        ),
        "reserve_unit": _as_2d("reserve_unit", reserve_unit, np.int64, n_e),
        "unit_limit_mw": _as_2d("unit_limit_mw", unit_limit_mw, np.float64, n_e),
        "demand_q_mw": _as_2d("demand_q_mw", demand_q_mw, np.float64, n_e),
        "demand_p_eur_per_mwh": _as_2d(
            "demand_p_eur_per_mwh", demand_p_eur_per_mwh, np.float64, n_e
        ),
        "reserve_demand_q_mw": _as_2d("reserve_demand_q_mw", reserve_demand_q_mw, np.float64, n_e),
        "reserve_demand_p_eur_per_mw": _as_2d(
            "reserve_demand_p_eur_per_mw", reserve_demand_p_eur_per_mw, np.float64, n_e
        ),
    }
    for qty, price in (("energy_q_mw", "energy_p_eur_per_mwh"), ("energy_unit", "energy_q_mw"),
                       ("reserve_q_mw", "reserve_p_eur_per_mw"),
                       ("reserve_unit", "reserve_q_mw"), ("demand_q_mw", "demand_p_eur_per_mwh"),
                       ("reserve_demand_q_mw", "reserve_demand_p_eur_per_mw")):  # fmt: skip
        if arrays[qty].shape != arrays[price].shape:
            raise ValueError(f"clear_joint: {qty} has shape {arrays[qty].shape}; expected "
                             f"{arrays[price].shape}, the shape of {price}")  # fmt: skip
    for name in ("energy_q_mw", "reserve_q_mw", "unit_limit_mw", "demand_q_mw",
                 "reserve_demand_q_mw"):  # fmt: skip
        if np.any(arrays[name] < 0.0):
            raise ValueError(f"clear_joint: {name} has a negative value "
                             f"{arrays[name].min()}; expected MW >= 0")  # fmt: skip
    n_u = arrays["unit_limit_mw"].shape[1]
    for name in ("energy_unit", "reserve_unit"):
        bad = (arrays[name] < -1) | (arrays[name] >= n_u)
        if np.any(bad):
            raise ValueError(
                f"clear_joint: {name} holds unit {arrays[name][bad][0]}; "
                f"expected -1 (none) or 0..{n_u - 1} (U = {n_u} unit limits)"
            )
    return list(arrays.values())


def clear_joint(
    energy_q_mw: F64,
    energy_p_eur_per_mwh: F64,
    energy_unit: I64,
    reserve_q_mw: F64,
    reserve_p_eur_per_mw: F64,
    reserve_unit: I64,
    unit_limit_mw: F64,
    demand_q_mw: F64,
    demand_p_eur_per_mwh: F64,
    reserve_demand_q_mw: F64,
    reserve_demand_p_eur_per_mw: F64,
    *,
    price_floor_eur_per_mwh: float,
    price_cap_eur_per_mwh: float,
    reserve_price_cap_eur_per_mw: float,
) -> JointResult:
    """Clear a batch of energy and reserve books together (rules: module docstring).

    Args:
        energy_q_mw: (E, S) energy offers, MW >= 0.
        energy_p_eur_per_mwh: (E, S) offer prices, read as clipped to [floor, cap].
        energy_unit: (E, S) or (S,) int unit of each energy offer, -1 for none.
        reserve_q_mw: (E, R) upward-reserve offers, MW >= 0.
        reserve_p_eur_per_mw: (E, R) offer prices, read as clipped to [0, reserve cap].
        reserve_unit: (E, R) or (R,) int unit of each reserve offer, -1 for none.
        unit_limit_mw: (E, U) each unit's limit on its energy + reserve (capacity after
            withholding, and the ramp-up limit), MW >= 0.
        demand_q_mw: (E, B) energy bids, MW >= 0.
        demand_p_eur_per_mwh: (E, B) bid prices (inelastic load: the cap or above).
        reserve_demand_q_mw: (E, K) reserve demand blocks, MW >= 0 (one block for a flat
            requirement; several for a stepped ORDC).
        reserve_demand_p_eur_per_mw: (E, K) their values, read as clipped to [0, reserve cap].
        price_floor_eur_per_mwh, price_cap_eur_per_mwh: energy price bounds.
        reserve_price_cap_eur_per_mw: reserve price cap (the scarcity price).

    Returns:
        The frozen :class:`JointResult`. Inputs are not modified.

    Raises:
        ValueError: a wrong shape, NaN/inf, a negative quantity or an unknown unit.

    Example (worked by hand): unit A (100 MW) offers 100 MW of energy at 10 and 100 MW
    of reserve at 0; unit B (100 MW) offers energy at 50. 150 MW of load bid at the cap
    and 50 MW of reserve required at 1000. The cheapest dispatch holds A's 50 MW for
    reserve, so B's energy at 50 sets the energy price, and the reserve price is A's
    opportunity cost: 50 - 10 + 0 = 40 EUR/MW-h (a sequential reserve auction would
    price it at A's offer, 0).

    >>> import numpy as np
    >>> r = clear_joint([[100.0, 100.0]], [[10.0, 50.0]], [0, 1], [[100.0]], [[0.0]], [0],
    ...                 [[100.0, 100.0]], [[150.0]], [[3000.0]], [[50.0]], [[1000.0]],
    ...                 price_floor_eur_per_mwh=-500.0, price_cap_eur_per_mwh=3000.0,
    ...                 reserve_price_cap_eur_per_mw=1000.0)
    >>> float(r.energy_price_eur_per_mwh[0]), float(r.reserve_price_eur_per_mw[0])
    (50.0, 40.0)
    >>> r.energy_mw.tolist(), r.reserve_mw.tolist(), float(r.welfare_eur[0])
    ([[50.0, 100.0]], [[50.0]], 494500.0)
    """
    # The 11 checked books, by name (mypy cannot match *list to _clear_batch's parameters).
    eq, ep, eu, rq, rp, ru, ulim, dq, dp, rdq, rdp = _checked_books(
        energy_q_mw, energy_p_eur_per_mwh, energy_unit, reserve_q_mw, reserve_p_eur_per_mw,
        reserve_unit, unit_limit_mw, demand_q_mw, demand_p_eur_per_mwh, reserve_demand_q_mw,
        reserve_demand_p_eur_per_mw,
    )  # fmt: skip
    n_e = eq.shape[0]
    e_acc, r_acc = np.empty_like(eq), np.empty_like(rq)
    d_acc, rd_acc = np.empty_like(dq), np.empty_like(rdq)
    out = np.empty((n_e, 5))
    _clear_batch(eq, ep, eu, rq, rp, ru, ulim, dq, dp, rdq, rdp, float(price_floor_eur_per_mwh),
                 float(price_cap_eur_per_mwh), float(reserve_price_cap_eur_per_mw), e_acc, r_acc,
                 d_acc, rd_acc, out)  # fmt: skip
    return JointResult(
        energy_price_eur_per_mwh=out[:, 0],
        reserve_price_eur_per_mw=out[:, 1],
        energy_mw=e_acc,
        reserve_mw=r_acc,
        demand_mw=d_acc,
        reserve_demand_mw=rd_acc,
        reserve_shortfall_mw=out[:, 2],
        unserved_mw=out[:, 3],
        welfare_eur=out[:, 4],
    )
