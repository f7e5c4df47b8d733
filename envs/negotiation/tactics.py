"""Time-dependent concession tactics (paper §4.2, after Lopes et al. [21] and Faratin et al. [76]).

A party's ``k``-th proposal (``k`` = 0 is its opening) closes a fraction of the gap
between its previous proposal and its limit::

    gap_k = gap_{k-1} * (1 - f_k),   f_k = clip(factor * m(k / deadline), 0, 1)

with ``m(tau) = 1`` (``linear``: a constant concession rate, the paper's "conceding
moderately" with a 10% factor), ``m(tau) = 2 (1 - tau)`` (``conceder``: concedes early)
and ``m(tau) = 2 tau`` (``boulware``: holds out until the deadline). All three spend the
same concession rate on average over the deadline. Functions work elementwise on arrays.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["TACTICS", "concession_price", "concession_rate"]

TACTICS: tuple[str, ...] = ("conceder", "linear", "boulware")


def concession_rate(kind: str, factor: float, step: int, deadline: int) -> float:
    """Fraction of the remaining gap conceded at proposal ``step`` (>= 1).

    >>> round(concession_rate("linear", 0.1, 3, 20), 3)
    0.1
    >>> concession_rate("boulware", 0.1, 20, 20)
    0.2
    """
    tau = min(step / deadline, 1.0)
    if kind == "linear":
        shape = 1.0
    elif kind == "conceder":
        shape = 2.0 * (1.0 - tau)
    elif kind == "boulware":
        shape = 2.0 * tau
    else:
        raise ValueError(f"tactic={kind!r} is not known; expected one of {list(TACTICS)}")
    return float(np.clip(factor * shape, 0.0, 1.0))


def concession_price(
    initial: ArrayLike,
    limit: ArrayLike,
    step: int,
    *,
    kind: str = "linear",
    factor: float = 0.1,
    deadline: int = 20,
) -> NDArray[np.float64]:
    """Offer of a party's ``step``-th proposal (0-based), elementwise.

    Args:
        initial: opening offer(s), EUR/MWh or MW; any shape.
        limit: the party's limit(s) (reservation), same shape as ``initial``.
        step: proposals already made by the party (0 gives ``initial``).
        kind: ``conceder``, ``linear`` or ``boulware``.
        factor: the concession factor (0.1 in the paper's §4.2).
        deadline: the party's deadline, in proposals.

    Returns:
        The offer(s), float64, between ``initial`` and ``limit``.

    The paper's aggregator (60 -> 36, 10%) makes its sixth proposal at 50.17 EUR/MWh:

    >>> round(float(concession_price(60.0, 36.0, 5)), 2)
    50.17
    """
    if step < 0:
        raise ValueError(f"step={step!r}: expected the number of proposals made, >= 0")
    keep = 1.0
    # Loop over this party's few proposals (k <= deadline), not over agents.
    for k in range(1, step + 1):
        keep *= 1.0 - concession_rate(kind, factor, k, deadline)
    start = np.asarray(initial, dtype=np.float64)
    end = np.asarray(limit, dtype=np.float64)
    return end + (start - end) * keep
