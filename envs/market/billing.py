"""Individual rationality over the billing period: the coalition's true-up (DESIGN §3 step 5).

Dims: E envs, N members. Money in EUR.

**Why a period.** What a member compares is its bill: what it paid the coalition over a
billing period against what it would have paid its retailer alone over the same period
(an energy community or aggregator settles its members monthly or weekly, never hour by
hour: e.g. the CEER/ACER billing guidance and the EU Electricity Directive 2019/944
Art. 18 and Annex I, which make the bill, not the hour, the unit a customer is charged
and compares offers on). An hourly floor (:func:`envs.market.allocation.allocate` with
``ir_floor``) guarantees nothing over the period: a member lifted in its bad hours can
still end the week below its bill alone through the hours where the whole coalition lost
(the hourly floor cannot act when the hour's total is negative), and it moves far more
money than needed, since a member's bad hours are netted against its good ones only at
the bill.

**The rule.** Each member's saving ``s_i = bill_i + alloc_i`` (its bill alone plus its
allocation cash, EUR) accumulates over the period. In the period's last hour (and the
episode's last hour, so an episode shorter than a period is billed at its end), when the
coalition's total saving over the period ``sum_i S_i >= 0``, every member with
``S_i < 0`` receives ``-S_i``, paid by the members with ``S_i > 0`` pro rata to ``S_i``:
``t_i = -S_i`` for the former, ``t_i = -S_i * D / P`` for the latter (``D`` the total
deficit, ``P`` the total positive saving, ``P >= D`` because the total is >= 0). The
transfers sum to 0, so the allocation still sums to the coalition's result (money is
conserved) and the member's reward in that hour includes its true-up. When the total is
negative no split can leave every member whole and none is attempted. With a period of
1 hour this is exactly the hourly floor.

**Worse off.** A member is worse off than alone when its saving over the period (or the
episode) is below ``-WORSE_OFF_TOL_EUR`` (:func:`is_worse_off`): the one definition the
simulator's ``members_worse_off`` info, the episode metrics and the calibration table use.

Example: savings so far (-30, 10, 50) EUR and this hour's (0, 0, 0): the total 30 >= 0,
so member 0 gets 30, paid 5 by member 1 and 25 by member 2 (keeping 5 and 25):

>>> import numpy as np
>>> r = true_up(np.array([[-30.0, 10.0, 50.0]]), np.zeros((1, 3)), np.zeros((1, 3)),
...             np.array([True]))
>>> r.alloc_eur.tolist(), r.period_saving_eur.tolist(), r.worse_off.tolist()
([[30.0, -5.0, -25.0]], [[0.0, 5.0, 25.0]], [0.0])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

F64 = NDArray[np.float64]
#: A saving below minus this, EUR, is worse off than alone (rounding over a period of
#: hourly sums is far smaller; a cent is far larger).
WORSE_OFF_TOL_EUR = 1e-6

__all__ = [
    "WORSE_OFF_TOL_EUR",
    "TrueUp",
    "ir_transfers_row",
    "is_worse_off",
    "settle_period_row",
    "true_up",
]  # fmt: skip


@njit(cache=True)
def is_worse_off(saving_eur):
    """Whether a saving against acting alone (EUR; a float or an array) is worse off:
    below ``-WORSE_OFF_TOL_EUR``. Compiled, so the step and the evaluation share it."""
    return saving_eur < -WORSE_OFF_TOL_EUR


@njit(cache=True)
def ir_transfers_row(saving, transfer):
    """Transfers ``transfer`` (N,), EUR, that lift every negative ``saving`` (N,) to 0,
    paid by the positive savings pro rata to them, when ``sum(saving) >= 0`` (else all 0).
    They sum to 0. Returns the number of members lifted."""
    n = saving.shape[0]
    deficit, surplus, total = 0.0, 0.0, 0.0
    for i in range(n):
        transfer[i] = 0.0
        total += saving[i]
        if saving[i] < 0.0:
            deficit -= saving[i]
        else:
            surplus += saving[i]
    if total < 0.0 or deficit <= 0.0 or surplus <= 0.0:
        return 0
    # total >= 0 means surplus >= deficit; min() keeps rounding from overdrawing a payer.
    share = min(deficit / surplus, 1.0)
    lifted = 0
    for i in range(n):
        if saving[i] < 0.0:
            transfer[i] = -saving[i]
            lifted += 1
        else:
            transfer[i] = -saving[i] * share
    return lifted


@njit(cache=True)
def settle_period_row(cum, bill, alloc, bill_end, floor, cum_out):
    """Accumulate one env's hour into its members' period savings and, in the period's
    last hour, true them up (the rule of the module docstring).

    Args:
        cum: (N,) each member's saving so far this period, before this hour, EUR (read).
        bill: (N,) this hour's bills alone, EUR (+ = pays).
        alloc: (N,) this hour's allocation cash, EUR; the true-up is added in place.
        bill_end: this hour closes a billing period (or the episode).
        floor: apply the true-up (``coalition.individually_rational``).
        cum_out: output, (N,) the savings carried into the next hour: 0 after a period's
            last hour, else ``cum + bill + alloc``.

    Returns:
        (members whose saving so far this period, this hour and its true-up included, is
        worse off; members lifted by the true-up).
    """
    n = cum.shape[0]
    for i in range(n):
        cum_out[i] = cum[i] + bill[i] + alloc[i]
    lifted = 0
    if bill_end and floor:
        transfer = np.empty(n)
        lifted = ir_transfers_row(cum_out, transfer)
        for i in range(n):
            alloc[i] += transfer[i]
            cum_out[i] += transfer[i]
    worse = 0
    for i in range(n):
        if is_worse_off(cum_out[i]):
            worse += 1
        if bill_end:
            cum_out[i] = 0.0  # a new period starts
    return float(worse), float(lifted)


class TrueUp(NamedTuple):
    """What :func:`true_up` returns."""

    alloc_eur: F64  # (E, N) allocation cash with the true-up, EUR
    period_saving_eur: F64  # (E, N) the period's saving per member after it, EUR
    worse_off: F64  # (E,) members worse off over the period
    lifted: F64  # (E,) members lifted by the true-up


@njit(cache=True)
def _batch(cum, bill, alloc, bill_end, floor, period, counts):
    for e in range(cum.shape[0]):
        n = cum.shape[1]
        carry = np.empty(n)
        counts[e, 0], counts[e, 1] = settle_period_row(cum[e], bill[e], alloc[e], bill_end[e],
                                                       floor, carry)  # fmt: skip
        for i in range(n):  # the period's saving, before the reset
            period[e, i] = cum[e, i] + bill[e, i] + alloc[e, i]


def true_up(
    saving_so_far_eur: F64, bill_eur: F64, alloc_eur: F64, bill_end: NDArray[np.bool_],
    *, floor: bool = True,
) -> TrueUp:  # fmt: skip
    """Batched :func:`settle_period_row` for one hour (tests and notebooks).

    Args:
        saving_so_far_eur: (E, N) each member's saving this period before this hour.
        bill_eur: (E, N) this hour's bills alone; alloc_eur: (E, N) its allocation cash.
        bill_end: (E,) the hour closes the billing period.
        floor: apply the true-up.

    Returns:
        :class:`TrueUp`; inputs are not modified.
    """
    cum = np.ascontiguousarray(saving_so_far_eur, dtype=np.float64)
    bill = np.ascontiguousarray(bill_eur, dtype=np.float64)
    alloc = np.array(alloc_eur, dtype=np.float64, order="C")
    if not (cum.ndim == 2 and cum.shape == bill.shape == alloc.shape):
        raise ValueError(f"shapes {cum.shape}, {bill.shape}, {alloc.shape}; expected one (E, N)")
    end = np.ascontiguousarray(np.broadcast_to(bill_end, cum.shape[:1]), dtype=np.bool_)
    period, counts = np.empty_like(cum), np.empty((cum.shape[0], 2))
    _batch(cum, bill, alloc, end, bool(floor), period, counts)
    return TrueUp(alloc, period, counts[:, 0], counts[:, 1])
