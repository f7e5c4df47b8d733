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
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
AllocationRule = Literal["proportional", "marginal", "shapley"]

__all__ = ["AllocationRule", "allocate", "position_cost"]


def position_cost(net_mw: F64, price_eur_per_mwh: F64, import_charge_eur_per_mwh: F64) -> F64:
    """Cost of a net position at the coalition's prices, EUR (negative = revenue).

    Args:
        net_mw: (...) net import (+) or export (-) for one hour.
        price_eur_per_mwh: spot price, broadcastable to ``net_mw``.
        import_charge_eur_per_mwh: network charge and taxes on imports, broadcastable.
    """
    return price_eur_per_mwh * net_mw + import_charge_eur_per_mwh * np.maximum(net_mw, 0.0)


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
    price = price_eur_per_mwh[:, None]
    charge = import_charge_eur_per_mwh[:, None]
    own = position_cost(net_mw, price, charge)
    residual = result_eur + own.sum(axis=-1)
    if rule == "proportional":
        weight = np.abs(net_mw)
    elif rule == "marginal":
        total = net_mw.sum(axis=-1, keepdims=True)
        weight = own - (
            position_cost(total, price, charge) - position_cost(total - net_mw, price, charge)
        )
    elif rule == "shapley":
        if permutations is None:
            raise ValueError("allocation rule 'shapley' needs permutations of shape (M, N)")
        x = net_mw[:, permutations]  # (E, M, N) in permuted order
        prefix = np.cumsum(x, axis=-1)
        c_prefix = position_cost(prefix, price[:, :, None], charge[:, :, None])
        c_before = np.concatenate([np.zeros_like(c_prefix[..., :1]), c_prefix[..., :-1]], axis=-1)
        marginal = np.take_along_axis(own, permutations.ravel()[None, :], axis=-1).reshape(
            x.shape
        ) - (c_prefix - c_before)
        weight = np.zeros_like(net_mw)
        # Scatter each permutation's marginal values back to member positions.
        np.add.at(weight, (slice(None), permutations), marginal)
        weight /= permutations.shape[0]
    else:
        raise ValueError(
            f"coalition.allocation={rule!r}; expected proportional, marginal or shapley"
        )
    weight = np.maximum(weight, 0.0)
    total_w = weight.sum(axis=-1, keepdims=True)
    n = net_mw.shape[-1]
    share = np.where(total_w > 1e-12, weight / np.maximum(total_w, 1e-12), 1.0 / n)
    return -own + residual[:, None] * share
