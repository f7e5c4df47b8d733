"""Co-optimised energy and upward-reserve clearing at one node (PJM/ERCOT style).

Energy and reserve are dispatched together, sharing each unit's capacity: the least-cost
dispatch maximises welfare over both products, and the prices are the LP's shadow prices,
so the reserve price carries the opportunity cost of energy a unit does not sell (PJM
Manual 11, *Energy & Ancillary Services Market Operations*, §4 "co-optimisation"; ERCOT
Real-Time Co-optimization, NPRR 1008; Hogan 2013, "Electricity scarcity pricing through
operating reserves", *Economics of Energy & Environmental Policy* 2(2)). Reserve is
deployed to energy before load is shed whenever energy is worth more than reserve.

The rule is stated once, as the compiled :func:`clear_joint_row` (one env, the form the
simulator's step calls; its books travel as a :class:`JointBook`, its outputs as a
:class:`JointAccepted`); :func:`clear_joint` is its batched public wrapper. Its steps, the
min-cost flow's, are in :mod:`envs.market.joint_flow`.

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
from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from envs.market.joint_flow import (
    build_graph,
    lowest_duals,
    new_graph,
    njit_borrowing,
    ration_tied,
    ssp_flow,
)  # fmt: skip
from envs.market.spot import unserved_row

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

__all__ = ["JointAccepted", "JointBook", "JointResult", "clear_joint", "clear_joint_row"]


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


class JointBook(NamedTuple):
    """One env's books for :func:`clear_joint_row`: the LP's data (module docstring)."""

    eq: F64  # (S,) energy offers, MW
    ep: F64  # (S,) their prices, EUR/MWh
    eu: I64  # (S,) unit of each energy offer, -1 for none
    rq: F64  # (R,) upward-reserve offers, MW
    rp: F64  # (R,) their prices, EUR/MW-h
    ru: I64  # (R,) unit of each reserve offer, -1 for none
    ulim: F64  # (U,) each unit's shared limit on energy + reserve, MW
    dq: F64  # (B,) energy bids, MW
    dp: F64  # (B,) their prices, EUR/MWh (>= cap: inelastic load)
    rdq: F64  # (K,) reserve demand blocks, MW (an ORDC)
    rdp: F64  # (K,) their values, EUR/MW-h
    floor: float  # energy price floor, EUR/MWh
    cap: float  # energy price cap, EUR/MWh
    rcap: float  # reserve price cap (the scarcity price), EUR/MW-h


class JointAccepted(NamedTuple):
    """:func:`clear_joint_row`'s outputs, accepted MW, written in place."""

    e: F64  # (S,) energy of each offer
    r: F64  # (R,) reserve of each offer
    d: F64  # (B,) energy served on each bid
    rd: F64  # (K,) reserve bought on each demand block


@njit_borrowing
def _totals(b, g, acc):
    """(reserve shortfall MW, unserved MW, welfare EUR) of the accepted dispatch."""
    welfare = 0.0
    for i in range(b.dq.shape[0]):
        welfare += g.pd[i] * acc.d[i]
    shortfall = 0.0
    for k in range(b.rdq.shape[0]):
        welfare += g.prd[k] * acc.rd[k]
        shortfall += b.rdq[k] - acc.rd[k]
    for s in range(b.eq.shape[0]):
        welfare -= g.pe[s] * acc.e[s]
    for r in range(b.rq.shape[0]):
        welfare -= g.pr[r] * acc.r[r]
    return max(shortfall, 0.0), unserved_row(b.dq, b.dp, acc.d, b.cap, b.dq.shape[0]), welfare


@njit(cache=True)
def clear_joint_row(b, acc):
    """Clear one env's energy and reserve together (the rules in the module docstring).

    Args:
        b: the books, a :class:`JointBook`.
        acc: the outputs, a :class:`JointAccepted` of (S,), (R,), (B,), (K,) accepted MW.

    Returns:
        (energy price EUR/MWh, reserve price EUR/MW-h, reserve shortfall MW,
        unserved MW, welfare EUR).
    """
    g = new_graph(b.eq.shape[0], b.rq.shape[0], b.dq.shape[0], b.rdq.shape[0],
                   b.ulim.shape[0])  # fmt: skip
    build_graph(b, g, acc)
    ssp_flow(b, g, acc)
    price_e, price_r = lowest_duals(b, g, acc)
    ration_tied(b, g, acc)
    shortfall, unserved, welfare = _totals(b, g, acc)
    return price_e, price_r, shortfall, unserved, welfare


@njit(cache=True)
def _clear_batch(book, acc, out):
    """Clear the books of E envs one by one: ``book`` a :class:`JointBook` and ``acc`` a
    :class:`JointAccepted` of (E, .) arrays, ``out`` (E, 5) :func:`clear_joint_row`'s
    returns."""
    b = book
    for e in range(b.eq.shape[0]):
        row = JointBook(b.eq[e], b.ep[e], b.eu[e], b.rq[e], b.rp[e], b.ru[e], b.ulim[e], b.dq[e],
                        b.dp[e], b.rdq[e], b.rdp[e], b.floor, b.cap, b.rcap)  # fmt: skip
        out[e] = clear_joint_row(row, JointAccepted(acc.e[e], acc.r[e], acc.d[e], acc.rd[e]))


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
    books = _checked_books(
        energy_q_mw, energy_p_eur_per_mwh, energy_unit, reserve_q_mw, reserve_p_eur_per_mw,
        reserve_unit, unit_limit_mw, demand_q_mw, demand_p_eur_per_mwh, reserve_demand_q_mw,
        reserve_demand_p_eur_per_mw,
    )  # fmt: skip
    book = JointBook._make([*books, float(price_floor_eur_per_mwh), float(price_cap_eur_per_mwh),
                            float(reserve_price_cap_eur_per_mw)])  # fmt: skip
    acc = JointAccepted(*(np.empty_like(book[i]) for i in (0, 3, 7, 9)))  # eq, rq, dq, rdq
    out = np.empty((book.eq.shape[0], 5))
    _clear_batch(book, acc, out)
    return JointResult(out[:, 0], out[:, 1], acc.e, acc.r, acc.d, acc.rd, out[:, 2], out[:, 3],
                       out[:, 4])  # fmt: skip
