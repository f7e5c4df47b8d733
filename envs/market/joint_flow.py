"""The co-optimiser's min-cost flow (:func:`envs.market.cooptimise.clear_joint_row`'s steps).

The one-node LP of :mod:`envs.market.cooptimise` is a min-cost flow on source -> unit ->
{energy, reserve} -> sink, solved exactly by successive shortest paths. Its steps, each a
function here: :func:`build_graph` (the residual graph of the empty dispatch: each unit's
offers of one product as a curve in price order with a pointer on its open block),
:func:`ssp_flow` (find the shortest path, :func:`_shortest_path`, its capacity
:func:`_path_capacity`, and augment, :func:`_augment`, while paths cost <= 0),
:func:`lowest_duals` (the prices) and :func:`ration_tied` (pro-rata among tied blocks).
The books travel as a :class:`envs.market.cooptimise.JointBook`, the outputs as a
:class:`envs.market.cooptimise.JointAccepted` and the scratch as one :class:`FlowGraph`.

Dims: S energy offers, R reserve offers, U units (unit U: the pseudo-unit of the unit-less
blocks, without a limit), B energy bids, K reserve demand blocks. MW, EUR/MWh, EUR/MW-h.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from envs.market.rationing import price_order_row, ration_row, ration_units_row

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
_EPS = 1e-9  # MW: residuals below this are spent
_COST_TOL = 1e-9  # EUR: a path this close to free still trades (ties trade)

__all__ = [
    "FlowGraph", "build_graph", "lowest_duals", "new_graph", "njit_borrowing", "ration_tied",
    "ssp_flow",
]  # fmt: skip

#: The decorator of the flow's steps: compiled without numba's reference counting (NRT).
#: They only read and write elements of arrays their caller owns for the whole call, and
#: never allocate, return or keep an array, so counting references buys nothing; with it,
#: numba (0.68) increfs and decrefs (an atomic op each) every array of every record handed
#: to a call, and its pruning leaves most of them in: 12-17x slower per clearing than the
#: one flat function this replaced, on 4,000 of the tests' random books. inline="always"
#: does not help (the inlined record is copied, and counted, the same).
# (_nrt is numba's own option, used by its test suite; numba's type stubs do not list it.)
njit_borrowing = njit(cache=True, _nrt=False)  # type: ignore[call-overload]


class FlowGraph(NamedTuple):
    """The residual graph of one call (:func:`new_graph` allocates it once).

    Unit n_u is the pseudo-unit of the unit-less blocks (no limit). Each unit's offers of
    one product are a curve: a slice of ``eidx`` (``ridx``) in price order, used from its
    cheapest block on; the curve's pointer is its open block, the first not yet full.
    """

    pe: F64  # (S,) energy offer prices clipped to [floor, cap]
    pr: F64  # (R,) reserve offer prices clipped to [0, rcap]
    pd: F64  # (B,) bid prices clipped to [floor, cap]
    prd: F64  # (K,) reserve demand values clipped to [0, rcap]
    eoff: I64  # (U + 3,) eoff[u]:eoff[u + 1] the slice of eidx holding unit u's curve
    eidx: I64  # (S,) energy offers with MW > 0, grouped by unit, each group in price order
    roff: I64  # (U + 3,) and ridx (R,): the same for reserve
    ridx: I64
    e_order: I64  # (S,) all energy offers in price order (ties: index order)
    r_order: I64  # (R,) ... reserve offers
    d_order: I64  # (B,) bids, dearest first
    k_order: I64  # (K,) reserve demand blocks, dearest first
    ke: I64  # (U + 2,) each unit's energy pointer, an index into eidx
    kr: I64  # (U + 2,) ... reserve pointer, into ridx
    kdem: I64  # (2,) the open bid and reserve demand block, indices into d_order, k_order
    used: F64  # (U + 1,) MW each unit holds in energy and reserve
    a_e: F64  # (U + 1,) per unit, the cheapest MW into energy from its room, EUR
    a_r: F64  # (U + 1,) ... into reserve
    b_er: F64  # (U + 1,) ... the cheapest move of its MW from energy to reserve
    b_re: F64  # (U + 1,) ... from reserve to energy
    ent_q: F64  # (U + max(S, R),) rationing's scratch
    ent_cap: F64
    ent_state: I64


@njit(cache=True)
def new_graph(n_s, n_r, n_b, n_k, n_u):
    """A :class:`FlowGraph` for S, R, B, K, U = ``n_s, n_r, n_b, n_k, n_u``, uninitialised.

    Two buffers cut into views (a slice allocates nothing): the step clears every env
    every hour, and ~20 small allocations cost more than the flow itself on its books.
    """
    n1, n_ent = n_u + 1, n_u + max(n_s, n_r)
    # Each view's start in its buffer, in FlowGraph's order of the buffer's fields (scalars:
    # an offsets array would be two more allocations per call).
    f1 = n_s
    f2 = f1 + n_r
    f3 = f2 + n_b
    f4 = f3 + n_k
    f5 = f4 + n1
    f6 = f5 + n1
    f7 = f6 + n1
    f8 = f7 + n1
    f9 = f8 + n1
    f10 = f9 + n_ent
    f11 = f10 + n_ent
    i1 = n1 + 2
    i2 = i1 + n_s
    i3 = i2 + n1 + 2
    i4 = i3 + n_r
    i5 = i4 + n_s
    i6 = i5 + n_r
    i7 = i6 + n_b
    i8 = i7 + n_k
    i9 = i8 + n1 + 1
    i10 = i9 + n1 + 1
    i11 = i10 + 2
    i12 = i11 + n_ent
    fw, iw = np.empty(f11), np.empty(i12, np.int64)
    return FlowGraph(
        fw[0:f1], fw[f1:f2], fw[f2:f3], fw[f3:f4],  # pe, pr, pd, prd
        iw[0:i1], iw[i1:i2], iw[i2:i3], iw[i3:i4],  # eoff, eidx, roff, ridx
        iw[i4:i5], iw[i5:i6], iw[i6:i7], iw[i7:i8],  # the four orders
        iw[i8:i9], iw[i9:i10], iw[i10:i11],  # ke, kr, kdem
        fw[f4:f5], fw[f5:f6], fw[f6:f7], fw[f7:f8], fw[f8:f9],  # used..b_re
        fw[f9:f10], fw[f10:f11], iw[i11:i12],  # ent_q, ent_cap, ent_state
    )  # fmt: skip


@njit_borrowing
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


@njit_borrowing
def _zero(x):
    """x[:] = 0 without the view a slice makes."""
    for i in range(x.shape[0]):
        x[i] = 0.0


@njit_borrowing
def _clip(x, lo, hi, out):
    """out = min(max(x, lo), hi) elementwise (np.minimum(np.maximum(...)) without a copy)."""
    for i in range(x.shape[0]):
        v = x[i]
        if v < lo:
            v = lo
        if v > hi:
            v = hi
        out[i] = v


@njit_borrowing
def _next_open(q, order, k):
    """The first position from ``k`` on in ``order`` whose block has MW > 0 (or its end)."""
    while k < order.shape[0] and q[order[k]] <= 0.0:
        k += 1
    return k


@njit_borrowing
def build_graph(b, g, acc):
    """The residual graph of the empty dispatch, into ``g``: prices clipped, ``acc`` and
    the units' use zeroed, each unit's offers of each product a curve with its pointer on
    the cheapest block, bids and reserve demand dearest first from the first with MW."""
    _clip(b.ep, b.floor, b.cap, g.pe)
    _clip(b.rp, 0.0, b.rcap, g.pr)
    _clip(b.dp, b.floor, b.cap, g.pd)
    _clip(b.rdp, 0.0, b.rcap, g.prd)
    # Element loops, not acc.e[:] = 0.0: a slice is a new array (and a refcount op).
    _zero(acc.e)
    _zero(acc.r)
    _zero(acc.d)
    _zero(acc.rd)
    _zero(g.used)
    n_u = b.ulim.shape[0]
    _bucket(b.eq, g.pe, b.eu, n_u, g.eoff, g.eidx, g.e_order)
    _bucket(b.rq, g.pr, b.ru, n_u, g.roff, g.ridx, g.r_order)
    price_order_row(g.pd, True, g.d_order)
    price_order_row(g.prd, True, g.k_order)
    for u in range(n_u + 2):
        g.ke[u] = g.eoff[u]
        g.kr[u] = g.roff[u]
    g.kdem[0] = _next_open(b.dq, g.d_order, 0)
    g.kdem[1] = _next_open(b.rdq, g.k_order, 0)


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


@njit_borrowing
def _dearest(k, start, end, idx, acc):
    """Position in ``idx`` of a curve's dearest flow (below ``start``: none): its open
    block ``k`` if that holds some, else the block before (curve ``idx[start:end]``)."""
    return k if k < end and acc[idx[k]] > 0.0 else k - 1


@njit_borrowing
def _curve_head(k, start, end, idx, acc, price):
    """(price of the curve's open block (inf: none left), price of its dearest flow (nan:
    none)) for the curve ``idx[start:end]`` with pointer ``k``."""
    nxt = price[idx[k]] if k < end else np.inf
    kp = _dearest(k, start, end, idx, acc)
    return nxt, (price[idx[kp]] if kp >= start else np.nan)


@njit_borrowing
def _sink_costs(b, g):
    """Cost of the arc from each product node to the sink, EUR: minus the open demand
    block's value (inf when all demand is met): (energy, reserve)."""
    kd, kk = g.kdem[0], g.kdem[1]
    t_e = -g.pd[g.d_order[kd]] if kd < b.dq.shape[0] else np.inf
    t_r = -g.prd[g.k_order[kk]] if kk < b.rdq.shape[0] else np.inf
    return t_e, t_r


@njit_borrowing
def _refresh_pieces(b, g, acc, u):
    """Unit ``u``'s path pieces (:func:`_piece`) from its room and its curves' heads."""
    room = np.inf if u == b.ulim.shape[0] else b.ulim[u] - g.used[u]
    fe, jp_e = _curve_head(g.ke[u], g.eoff[u], g.eoff[u + 1], g.eidx, acc.e, g.pe)
    fr, jp_r = _curve_head(g.kr[u], g.roff[u], g.roff[u + 1], g.ridx, acc.r, g.pr)
    g.a_e[u], g.a_r[u], g.b_er[u], g.b_re[u] = _piece(fe, fr, room, jp_e, jp_r)


@njit_borrowing
def _shortest_path(g, t_e, t_r):
    """The cheapest source-sink path from the units' pieces and the sink costs ``t_e, t_r``.

    Shapes: 0 into energy, 1 into reserve, 2 into energy with a unit moving MW from energy
    to reserve, 3 the reverse; a direct path wins ties, then the lowest unit.

    Returns:
        (cost EUR, shape, supplying unit, moving unit (shapes 2, 3)).
    """
    ua_e, ua_r, ub_er, ub_re = 0, 0, 0, 0
    for i in range(1, g.a_e.shape[0]):
        if g.a_e[i] < g.a_e[ua_e]:
            ua_e = i
        if g.a_r[i] < g.a_r[ua_r]:
            ua_r = i
        if g.b_er[i] < g.b_er[ub_er]:
            ub_er = i
        if g.b_re[i] < g.b_re[ub_re]:
            ub_re = i
    c_e, c_r = g.a_e[ua_e] + t_e, g.a_r[ua_r] + t_r
    # A move through the unit that also supplies it is never shorter than that unit
    # supplying the other product directly (its curves are in price order).
    c_er = g.a_e[ua_e] + g.b_er[ub_er] + t_r if ub_er != ua_e else np.inf
    c_re = g.a_r[ua_r] + g.b_re[ub_re] + t_e if ub_re != ua_r else np.inf
    best = min(c_e, c_r)
    shape = 0 if c_e <= c_r else 1
    if c_er < best:
        best, shape = c_er, 2
    if c_re < best:
        best, shape = c_re, 3
    src = ua_e if shape == 0 or shape == 2 else ua_r
    return best, shape, src, (ub_er if shape == 2 else ub_re)


@njit_borrowing
def _path_capacity(b, g, acc, shape, src, mv):
    """MW the path can carry: the supplier's room and open block, the mover's dearest
    flow and open block in the other product, the open demand block."""
    f = np.inf if src == b.ulim.shape[0] else b.ulim[src] - g.used[src]
    if shape == 0 or shape == 2:
        f = min(f, b.eq[g.eidx[g.ke[src]]] - acc.e[g.eidx[g.ke[src]]])
    else:
        f = min(f, b.rq[g.ridx[g.kr[src]]] - acc.r[g.ridx[g.kr[src]]])
    if shape == 2:
        f = min(f, acc.e[g.eidx[_dearest(g.ke[mv], g.eoff[mv], g.eoff[mv + 1], g.eidx, acc.e)]])
        f = min(f, b.rq[g.ridx[g.kr[mv]]] - acc.r[g.ridx[g.kr[mv]]])
    elif shape == 3:
        f = min(f, acc.r[g.ridx[_dearest(g.kr[mv], g.roff[mv], g.roff[mv + 1], g.ridx, acc.r)]])
        f = min(f, b.eq[g.eidx[g.ke[mv]]] - acc.e[g.eidx[g.ke[mv]]])
    kd, kk = g.kdem[0], g.kdem[1]
    if shape == 0 or shape == 3:
        return min(f, b.dq[g.d_order[kd]] - acc.d[g.d_order[kd]])
    return min(f, b.rdq[g.k_order[kk]] - acc.rd[g.k_order[kk]])


@njit_borrowing
def _push(q, acc, idx, ptr, u, f):
    """Forward f MW on curve ``u``'s open block ``idx[ptr[u]]``; past it once full."""
    j = idx[ptr[u]]
    acc[j], full = _fill(q[j], acc[j], f)
    ptr[u] += full


@njit_borrowing
def _pull(acc, idx, ptr, u, start, end, f):
    """Take f MW back from curve ``u``'s dearest flow (curve ``idx[start:end]``); its
    pointer moves onto it."""
    kp = _dearest(ptr[u], start, end, idx, acc)
    ptr[u] = kp
    acc[idx[kp]] = _take(acc[idx[kp]], f)


@njit_borrowing
def _serve(q, acc, order, kdem, i, f):
    """Forward f MW to the open demand block ``order[kdem[i]]``; past it once full."""
    j = order[kdem[i]]
    acc[j], full = _fill(q[j], acc[j], f)
    kdem[i] = _next_open(q, order, kdem[i] + full)


@njit_borrowing
def _augment(b, g, acc, shape, src, mv, f):
    """Send f MW along the path (:func:`_shortest_path`'s shape, supplier and mover)."""
    if src != b.ulim.shape[0]:
        used = g.used[src]
        g.used[src] = b.ulim[src] if f >= b.ulim[src] - used - _EPS else used + f
    if shape == 0 or shape == 2:
        _push(b.eq, acc.e, g.eidx, g.ke, src, f)
    else:
        _push(b.rq, acc.r, g.ridx, g.kr, src, f)
    if shape == 2:
        _pull(acc.e, g.eidx, g.ke, mv, g.eoff[mv], g.eoff[mv + 1], f)
        _push(b.rq, acc.r, g.ridx, g.kr, mv, f)
    elif shape == 3:
        _pull(acc.r, g.ridx, g.kr, mv, g.roff[mv], g.roff[mv + 1], f)
        _push(b.eq, acc.e, g.eidx, g.ke, mv, f)
    if shape == 0 or shape == 3:
        _serve(b.dq, acc.d, g.d_order, g.kdem, 0, f)
    else:
        _serve(b.rdq, acc.rd, g.k_order, g.kdem, 1, f)


@njit_borrowing
def ssp_flow(b, g, acc):
    """The least-cost dispatch by successive shortest paths, augmented while they cost
    <= 0 (so volume at a price equal on both sides trades).

    Each unit's pieces are recomputed only for the units a path touched (all of them
    before the first path); the number of paths is bounded for safety.
    """
    n1 = b.ulim.shape[0] + 1
    n_paths = 4 * (b.eq.shape[0] + b.rq.shape[0] + b.dq.shape[0] + b.rdq.shape[0] + n1) + 8
    src, mv, n_touched = 0, 0, n1
    for it in range(n_paths):
        for w in range(n_touched):
            _refresh_pieces(b, g, acc, w if it == 0 else (src if w == 0 else mv))
        t_e, t_r = _sink_costs(b, g)
        best, shape, src, mv = _shortest_path(g, t_e, t_r)
        if not best <= _COST_TOL:
            break
        _augment(b, g, acc, shape, src, mv, _path_capacity(b, g, acc, shape, src, mv))
        n_touched = 2 if shape >= 2 else 1


@njit_borrowing
def lowest_duals(b, g, acc):
    """(energy price EUR/MWh, reserve price EUR/MW-h): the lowest optimal duals.

    With node potentials as minus the shortest residual distance from each product node
    to the source (through a unit's dearest flow, a move between its products, or the
    open demand block), clipped to [floor, cap] and [0, rcap]; with no path at all the
    cheapest energy offer (the floor if none) and 0 (module docstring).
    """
    a_e, a_r = _sink_costs(b, g)
    b_er, b_re = np.inf, np.inf
    for u in range(b.ulim.shape[0] + 1):
        je = _dearest(g.ke[u], g.eoff[u], g.eoff[u + 1], g.eidx, acc.e)
        fe = g.pe[g.eidx[g.ke[u]]] if g.ke[u] < g.eoff[u + 1] else np.inf
        jr = _dearest(g.kr[u], g.roff[u], g.roff[u + 1], g.ridx, acc.r)
        fr = g.pr[g.ridx[g.kr[u]]] if g.kr[u] < g.roff[u + 1] else np.inf
        if je >= g.eoff[u]:
            a_e = min(a_e, -g.pe[g.eidx[je]])
            b_er = min(b_er, fr - g.pe[g.eidx[je]])
        if jr >= g.roff[u]:
            a_r = min(a_r, -g.pr[g.ridx[jr]])
            b_re = min(b_re, fe - g.pr[g.ridx[jr]])
    dist_e, dist_r = min(a_e, b_er + a_r), min(a_r, b_re + a_e)
    if np.isfinite(dist_e):
        price_e = -dist_e
    else:
        price_e = g.pe[g.e_order[0]] if b.eq.shape[0] > 0 else b.floor
    price_r = -dist_r if np.isfinite(dist_r) else 0.0
    return min(max(price_e, b.floor), b.cap), min(max(price_r, 0.0), b.rcap)


@njit_borrowing
def ration_tied(b, g, acc):
    """Pro-rata among blocks tied at a price (EUPHEMIA), water-filled under the units'
    limits; each level's total, so the balances and the objective, are unchanged."""
    ration_row(b.dq, g.pd, g.d_order, acc.d)
    ration_row(b.rdq, g.prd, g.k_order, acc.rd)
    ration_units_row(b.eq, g.pe, b.eu, g.e_order, b.ulim, g.used, acc.e, g.ent_q, g.ent_cap,
                     g.ent_state)  # fmt: skip
    ration_units_row(b.rq, g.pr, b.ru, g.r_order, b.ulim, g.used, acc.r, g.ent_q, g.ent_cap,
                     g.ent_state)  # fmt: skip
