"""Sharing the coalition's result among its members.

Dims: E envs, N members, M sampled permutations. Money in EUR per hour, energy in
MWh per hour (MW for a one-hour step).

Every rule first charges each member its *own* position at the coalition's prices
(``c_i``: imports at spot price plus import charges, exports at spot price), then
shares the residual ``result - sum(-c_i)`` (netting gains, reserve and capacity
revenue, trading gains or losses) by weights:

- ``proportional``: weight = |net energy| (DESIGN §3.5, "proportional to energy");
- ``marginal``: weight = marginal contribution to the netting value,
  ``v(N) - v(N minus i)`` with ``v(S) = sum_{i in S} c_i - c(sum_{i in S} x_i)``;
- ``shapley``: weight = Shapley value of the same game estimated from M sampled
  permutations (Castro, Gomez & Tejada 2009), fixed per episode for reproducibility.

Negative weights are floored at zero; when all are zero the residual is split
equally. Allocations therefore always sum exactly to the coalition's result.

Stated once, as the compiled :func:`allocate_row` (one env, called by the simulator's
step); :func:`allocate` is its batched public wrapper.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numba import njit
from numpy.typing import NDArray

F64 = NDArray[np.float64]
AllocationRule = Literal["proportional", "marginal", "shapley"]
#: Allocation rules in the order of their integer codes in the compiled step.
ALLOCATION_RULES: tuple[str, ...] = ("proportional", "marginal", "shapley")

__all__ = ["ALLOCATION_RULES", "AllocationRule", "allocate", "allocate_row", "position_cost"]


@njit(cache=True)
def position_cost(x, price, charge):
    """Cost of a net position ``x`` MW for one hour at the coalition's prices, EUR
    (negative = revenue): spot price on the position, import charges on imports."""
    return price * x + charge * max(x, 0.0)


@njit(cache=True)
def allocate_row(result, net, price, charge, rule, perms, out):
    """Split one env's result among its members (the rules in the module docstring).

    Args:
        result: coalition's net cash for the hour, EUR (+ = received).
        net: (N,) members' metered net import (+) or export (-), MW.
        price: spot price, EUR/MWh; charge: network charge plus taxes on imports, EUR/MWh.
        rule: index into :data:`ALLOCATION_RULES`.
        perms: (M, N) member orders for ``shapley``.
        out: output, (N,) cash allocated to each member, EUR; sums to ``result``.
    """
    n = net.shape[0]
    weight = np.zeros(n)
    residual = result
    total = 0.0
    for i in range(n):
        residual += position_cost(net[i], price, charge)
        total += net[i]
    if rule == 0:
        for i in range(n):
            weight[i] = abs(net[i])
    elif rule == 1:
        c_total = position_cost(total, price, charge)
        for i in range(n):
            weight[i] = position_cost(net[i], price, charge) - (
                c_total - position_cost(total - net[i], price, charge)
            )
    else:
        m_count = perms.shape[0]
        for m in range(m_count):
            prefix = 0.0
            c_prev = 0.0
            for k in range(n):
                i = perms[m, k]
                prefix += net[i]
                c_now = position_cost(prefix, price, charge)
                weight[i] += position_cost(net[i], price, charge) - (c_now - c_prev)
                c_prev = c_now
        for i in range(n):
            weight[i] /= m_count
    w_sum = 0.0
    for i in range(n):
        weight[i] = max(weight[i], 0.0)
        w_sum += weight[i]
    for i in range(n):
        share = weight[i] / w_sum if w_sum > 1e-12 else 1.0 / n
        out[i] = -position_cost(net[i], price, charge) + residual * share


@njit(cache=True)
def _allocate_batch(result, net, price, charge, rule, perms, out):
    for e in range(net.shape[0]):
        allocate_row(result[e], net[e], price[e], charge[e], rule, perms, out[e])


def allocate(
    result_eur: F64,
    net_mw: F64,
    price_eur_per_mwh: F64,
    import_charge_eur_per_mwh: F64,
    *,
    rule: AllocationRule = "proportional",
    permutations: NDArray[np.intp] | None = None,
) -> F64:
    """Split the coalition's result among members.

    Args:
        result_eur: (E,) coalition's net cash for the hour (+ = received).
        net_mw: (E, N) each member's metered net import (+) or export (-).
        price_eur_per_mwh: (E,) spot price.
        import_charge_eur_per_mwh: (E,) network charge plus taxes on imports.
        rule: ``proportional``, ``marginal`` or ``shapley``.
        permutations: (M, N) member orders for ``shapley``.

    Returns:
        (E, N) cash allocated to each member (+ = received); sums to ``result_eur``.

    >>> import numpy as np
    >>> a = allocate(np.array([-30.0]), np.array([[2.0, -1.0]]), np.array([20.0]), np.array([10.0]))
    >>> a.round(2).tolist(), round(float(a.sum()), 6)
    ([[-53.33, 23.33]], -30.0)
    """
    if rule not in ALLOCATION_RULES:
        raise ValueError(
            f"coalition.allocation={rule!r}; expected proportional, marginal or shapley"
        )
    net = np.ascontiguousarray(net_mw, dtype=np.float64)
    if rule == "shapley" and permutations is None:
        raise ValueError("allocation rule 'shapley' needs permutations of shape (M, N)")
    perms = np.zeros((1, net.shape[1]), np.int64) if permutations is None else permutations
    e = net.shape[0]
    out = np.empty_like(net)
    _allocate_batch(
        np.broadcast_to(np.asarray(result_eur, float), (e,)).copy(), net,
        np.broadcast_to(np.asarray(price_eur_per_mwh, float), (e,)).copy(),
        np.broadcast_to(np.asarray(import_charge_eur_per_mwh, float), (e,)).copy(),
        ALLOCATION_RULES.index(rule), np.ascontiguousarray(perms, dtype=np.int64), out,
    )  # fmt: skip
    return out
