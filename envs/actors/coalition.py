"""The coalition's action codec: its action vector in [-1, 1] and the bids it stands for.

Dims: E envs, A action entries. MW, EUR/MWh (spot), EUR/MW per hour (reserve),
EUR/MW-day (capacity).

The layout (documented for users in ``envs.multimarket_v1``), by slot name:

- ``q``, ``p``: spot bid of ``q * q_max`` MW (+ buy, - sell) at a limit price
  ``p**3 * cap`` (``p >= 0``) or ``p**3 * |floor|`` (``p < 0``): the cube gives fine
  control near zero and reaches the cap and floor; a price-taker buys at the cap
  (``p = 1``) and sells at the floor (``p = -1``);
- ``r``, ``rp`` (reserve market open): ``(r + 1) / 2`` of the members' battery power
  offered as reserve at ``((rp + 1) / 2)**3`` times the scarcity price;
- ``c``, ``cp`` (capacity market open): ``(c + 1) / 2`` of the coalition's firm
  capacity offered at ``(cp + 1) / 2`` times the capacity price cap (a net-short
  coalition's offer is raised to the MOPR floor ``capacity_floor_eur_per_mw_day`` by the
  auction, :func:`envs.market.capacity.mopr_row`);
- ``b``, ``f`` (members not agents): every member's battery and load-shift action.

Stated once here: :func:`decode_row` (compiled, called by the simulator's step) and
its inverse, the encoders used by the scripted, planning and learned policies.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

F64 = NDArray[np.float64]

__all__ = [
    "CoalitionCodec",
    "capacity_entry",
    "decode",
    "decode_row",
    "price_entry",
    "reserve_entry",
    "slots",
    "spot_entries",
]


def slots(reserve: bool, capacity: bool, drives_members: bool) -> list[str]:
    """Names of the coalition's action entries, in order, for a market layout."""
    names = ["q", "p"]
    names += ["r", "rp"] if reserve else []
    names += ["c", "cp"] if capacity else []
    names += ["b", "f"] if drives_members else []
    return names


class CoalitionCodec(NamedTuple):
    """The scales that map the coalition's actions to bids (one scenario's)."""

    q_max_mw: float  # largest spot position
    price_floor_eur_per_mwh: float
    price_cap_eur_per_mwh: float
    reserve_max_mw: float  # members' total battery power
    reserve_price_max_eur_per_mw: float  # the reserve scarcity price
    firm_mw: float  # the coalition's accredited capacity (its batteries), MW
    capacity_price_max_eur_per_mw_day: float  # the capacity price cap
    reserve: bool
    capacity: bool
    # Its capacity offers' floor while net short, EUR/MW-day (buyer-side mitigation, PJM
    # OATT Attachment DD §5.14(h); applied by the step: envs.market.capacity.mopr_row).
    capacity_floor_eur_per_mw_day: float = 0.0


@njit(cache=True)
def decode_row(a, c):
    """One env's action ``a`` (A,) as bids under codec ``c``.

    Returns:
        (spot MW (+ buy), spot limit price EUR/MWh, reserve MW, reserve price EUR/MW,
        capacity MW, capacity price EUR/MW-day); absent markets give zeros.
    """
    q_spot = a[0] * c.q_max_mw
    a1 = a[1]
    p_spot = (
        a1 * a1 * a1 * (c.price_cap_eur_per_mwh if a1 >= 0.0 else abs(c.price_floor_eur_per_mwh))
    )
    j = 2
    res_q = 0.0
    res_p = 0.0
    if c.reserve:
        res_q = (a[j] + 1.0) * 0.5 * c.reserve_max_mw
        u = (a[j + 1] + 1.0) * 0.5
        res_p = u * u * u * c.reserve_price_max_eur_per_mw
        j += 2
    cap_q = 0.0
    cap_p = 0.0
    if c.capacity:
        cap_q = (a[j] + 1.0) * 0.5 * c.firm_mw
        cap_p = (a[j + 1] + 1.0) * 0.5 * c.capacity_price_max_eur_per_mw_day
    return q_spot, p_spot, res_q, res_p, cap_q, cap_p


@njit(cache=True)
def _decode_batch(actions, c, out):
    for e in range(actions.shape[0]):
        out[e] = decode_row(actions[e], c)


def decode(actions: F64, codec: CoalitionCodec) -> dict[str, F64]:
    """Batched :func:`decode_row`: (E, A) actions to bids, (E,) each, by name."""
    a = np.ascontiguousarray(np.atleast_2d(actions), dtype=np.float64)
    out = np.empty((a.shape[0], 6))
    _decode_batch(a, codec, out)
    names = ("spot_mw", "spot_price_eur_per_mwh", "reserve_mw", "reserve_price_eur_per_mw",
             "capacity_mw", "capacity_price_eur_per_mw_day")  # fmt: skip
    return {k: out[:, i] for i, k in enumerate(names)}


# ---------------------------------------------------------------- inverse (encoders)
def spot_entries(net_mw: F64 | float, q_max_mw: float) -> tuple[F64, F64]:
    """``(q, p)`` of a price-taking spot bid for a net position ``net_mw`` (+ = buy):
    buy at the cap, sell at the floor."""
    net = np.asarray(net_mw, dtype=np.float64)
    return np.clip(net / q_max_mw, -1.0, 1.0), np.where(net >= 0.0, 1.0, -1.0)


def price_entry(price_eur_per_mwh: float, floor: float, cap: float) -> float:
    """The ``p`` entry whose decoded limit price is ``price_eur_per_mwh`` (inverse cube)."""
    p = float(np.clip(price_eur_per_mwh, floor, cap))
    return float(np.cbrt(p / cap)) if p >= 0 else -float(np.cbrt(-p / abs(floor)))


def reserve_entry(reserve_mw: F64 | float, battery_mw: F64) -> F64:
    """The ``r`` entry offering ``reserve_mw`` of the members' battery power ``battery_mw``
    (N,) (its price entry ``rp = -1`` offers at 0 EUR/MW)."""
    total = max(float(np.sum(battery_mw)), 1e-9)
    return np.clip(2.0 * np.asarray(reserve_mw, dtype=np.float64) / total - 1.0, -1.0, 1.0)


def capacity_entry(share: float) -> float:
    """The ``c`` entry offering ``share`` of the coalition's firm capacity."""
    return 2.0 * share - 1.0
