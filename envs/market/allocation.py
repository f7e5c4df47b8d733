"""Sharing the coalition's result among its members: a cooperative game over what
trading together is worth (DESIGN §3 step 5).

Dims: E envs, N members, M sampled permutations. Money in EUR per hour, energy in
MWh per hour (MW for a one-hour step).

**The game.** For one hour, a subset S of members settled together by the coalition pays

    C(S) = price * X_S + (network + taxes) * In_S - discount * network * min(In_S, Out_S)

with ``x_i`` member i's metered net import (MW, + import, - export), ``X_S = sum x_i``,
``In_S = sum max(x_i, 0)`` and ``Out_S = sum max(-x_i, 0)``: energy at the cleared spot
price, network charges and taxes on gross imports, and the community discount on the
network charge of the energy its exports cover (the settlement of
:func:`envs.market.settlement.settle_network_ppa`). The worth of S is what its members
save against each acting alone on the retail counterfactual (bill ``bill_i``, EUR,
+ = pays): ``v(S) = sum_{i in S} bill_i - C(S)``. Since ``min(In, Out)`` is 0 for one
member, ``v(S) = sum_{i in S} v({i}) + k * min(In_S, Out_S)`` with
``k = discount * network``: the only synergy is the netting discount, and the game is
additive when the discount is 0.

**The remainder.** The coalition's ``result`` also holds what its members' energy at the
settlement does not: reserve and capacity payments, penalties, imbalance, trading
spread and the PPA. That remainder ``R = result + C(N)`` goes to the members whose
assets back those products (DESIGN §3 step 5), in two parts:

- ``B``, the cash of the reserve the coalition provides this hour (``backed``: its award
  times the reserve price, less non-delivery penalties, plus its activated energy's
  balancing price over the spot price; the spot value of that energy is already in the
  members' metered ``x_i``), by ``backing`` (MW): each battery's upward headroom this
  hour, the key the simulator also draws activations by, so the member whose battery
  holds the reserve is paid for it, as an aggregator passes a unit's ancillary revenue
  through to the unit (a member that emptied its battery backs nothing this hour);
- ``R - B`` by ``assets`` (MW; the simulator passes battery plus flexible MW);

either part, where its key sums to 0, by ``assets``; if no member has assets, by
``|x_i|``; if all positions are 0 too, equally.

**Allocation.** ``alloc_i = -bill_i + phi_i + B * h_i / sum(h) + (R - B) * a_i / sum(a)``,
where ``phi`` splits ``v(N)`` by the rule; since ``sum(phi) = v(N)``, the allocations sum
to ``result`` exactly (money is conserved). Rules:

- ``shapley``: the Shapley value (Shapley 1953): efficient, symmetric, zero for a null
  player, additive. The additive part of ``v`` is each member's own ``v({i})``; only
  ``k * min(In, Out)`` is enumerated, exactly over the 2^N subsets in Gray-code order for
  N <= :data:`EXACT_MAX_MEMBERS` (members with ``x_i = 0`` are null players and left out),
  and beyond that estimated from the M given permutations (Castro, Gomez & Tejada 2009,
  "Polynomial calculation of the Shapley value based on sampling", Comput. Oper. Res.
  36(5)), with the standard error of each member's estimate reported (0 when exact).
- ``marginal``: ``phi_i = v({i}) + (v(N) - sum_j v({j})) * m_i / sum(m)`` with
  ``m_i = max(v(N) - v(N minus i) - v({i}), 0)`` (equal shares of the synergy if all
  are 0): efficient, symmetric, O(N).
- ``proportional``: the synergy by ``|x_i|`` instead of ``m_i`` (DESIGN §3.5,
  "proportional to energy"): efficient, symmetric, O(N).

**Individual rationality.** With ``ir_floor`` and when the hour's total saving
``V = result + sum(bill) >= 0``, members whose saving ``alloc_i + bill_i`` is below 0 are
lifted to 0, funded pro rata from the members with a positive saving (efficiency is
kept): DESIGN §3 step 5, "leave no member worse off than alone whenever the coalition's
result allows it". When ``V < 0`` no split can do it and none is attempted. This is the
one-hour case of the billing period's true-up (:mod:`envs.market.billing`), which the
simulator applies instead: what a member compares is its bill over the period.

**Worked example** (the doctest of :func:`allocate`). Spot price 50, network 60, taxes
10 EUR/MWh, discount 0.5 (so ``k = 30``). Member 1 imports 2 MW (alone it would pay
340 EUR), member 2 exports 1 MW (alone -40 EUR), member 3 exports 3 MW (alone -120 EUR):

==========  ====  ===  ==========  ============
S           In    Out  C(S) EUR    v(S) EUR
==========  ====  ===  ==========  ============
{1}         2     0    240         100
{2}         0     1    -50         10
{3}         0     3    -150        30
{1,2}       2     1    160         140
{1,3}       2     3    30          190
{2,3}       0     4    -200        40
{1,2,3}     2     4    -20         200
==========  ====  ===  ==========  ============

The synergy ``30 * min(In, Out)`` is 30 for {1,2}, 60 for {1,3} and N. Its Shapley value
over the 6 orders is (7/6, 1/6, 4/6) * 30 = (35, 5, 20), so ``phi = (135, 15, 50)``
(``marginal``: m = (60, 0, 30), phi = (140, 10, 50); ``proportional``: |x| = (2, 1, 3),
phi = (120, 20, 60)). Members 2 and 3 hold 1 and 3 MW of batteries, which earned the
coalition 40 EUR of reserve payments: ``result = -C(N) + 40 = 60``, ``R = B = 40`` goes
(0, 10, 30) with both batteries full (headroom 1 and 3 MW), and the Shapley allocation is
``-bill + phi + R share = (-205, 65, 200)`` (sum 60; savings 135, 25, 80); had member 2's
battery been empty that hour, member 3 alone would back the reserve and get all 40 EUR
(allocations (-205, 55, 210)). Had the batteries instead cost a 100 EUR imbalance
penalty (``result = -80``, ``R = -100`` shared (0, -25, -75)), members 2 and 3 would save
-10 and -25; ``V = 100 >= 0``, so the floor lifts both to 0 from member 1's 135, which
keeps 100: allocations (-240, 40, 120).

Stated once, as the compiled :func:`allocate_row` (one env, called by the simulator's
step); :func:`allocate` is its batched public wrapper.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from envs.market.billing import ir_transfers_row, is_worse_off

F64 = NDArray[np.float64]
AllocationRule = Literal["proportional", "marginal", "shapley"]
#: Allocation rules in the order of their integer codes in the compiled step.
ALLOCATION_RULES: tuple[str, ...] = ("proportional", "marginal", "shapley")
#: Up to this many members the Shapley value is exact (2^N subsets); beyond it, sampled.
EXACT_MAX_MEMBERS = 12

__all__ = ["ALLOCATION_RULES", "EXACT_MAX_MEMBERS", "Allocation", "AllocationRule", "allocate",
           "allocate_row", "coalition_cost"]  # fmt: skip


@njit(cache=True)
def coalition_cost(x_sum, in_sum, out_sum, price, network, taxes, discount):
    """``C(S)``, EUR: what members with net ``x_sum``, gross imports ``in_sum`` and gross
    exports ``out_sum`` (MW) pay settled together for one hour (module docstring)."""
    netted = min(in_sum, out_sum)
    return price * x_sum + (network + taxes) * in_sum - discount * network * netted


@njit(cache=True)
def _shapley_exact(net, phi):
    """Shapley value of ``w(S) = min(In_S, Out_S)`` (MW) into ``phi`` (N,), enumerating
    the subsets of the members with a nonzero position in Gray-code order (one member
    enters or leaves per step, so In and Out update in O(1)); the others are null players."""
    n = net.shape[0]
    active = np.empty(n, np.int64)
    na = 0
    for i in range(n):
        phi[i] = 0.0
        if net[i] != 0.0:
            active[na] = i
            na += 1
    if na < 2:
        return
    # Weights of a subset of size s: (s-1)!(na-s)!/na! to its members, -s!(na-s-1)!/na!
    # to the others (the Shapley formula, each member's marginal w(S+i) - w(S)).
    w_in = np.zeros(na + 1)
    w_out = np.zeros(na + 1)
    fact_n = math.gamma(na + 1.0)
    for s in range(1, na + 1):
        w_in[s] = math.gamma(s) * math.gamma(na - s + 1.0) / fact_n
    for s in range(na):
        w_out[s] = math.gamma(s + 1.0) * math.gamma(na - s) / fact_n
    inside = np.zeros(na, np.bool_)
    acc = np.zeros(na)
    outside_sum = 0.0
    gross_in = 0.0
    gross_out = 0.0
    size = 0
    for t in range(1, 1 << na):
        j = 0
        while not (t >> j) & 1:  # the bit that flips from code t-1 to code t
            j += 1
        x = net[active[j]]
        sign = -1.0 if inside[j] else 1.0
        inside[j] = not inside[j]
        size += 1 if inside[j] else -1
        if x > 0.0:
            gross_in += sign * x
        else:
            gross_out -= sign * x
        w = min(gross_in, gross_out)
        if w <= 0.0:
            continue
        # -w_out * w reaches every member (one common term); insiders get w_in + w_out on
        # top, so a subset adds only to its own members, without a branch per member.
        outside_sum += w_out[size] * w
        both = (w_in[size] + w_out[size]) * w
        for a in range(na):
            if inside[a]:
                acc[a] += both
    for a in range(na):
        phi[active[a]] = acc[a] - outside_sum


@njit(cache=True)
def _shapley_sampled(net, perms, phi, se):
    """Castro, Gomez & Tejada (2009) estimate of the Shapley value of ``min(In, Out)``
    from the orders ``perms`` (M, N): each member's mean marginal contribution into
    ``phi`` and its standard error into ``se`` (NaN when M = 1). Every order's marginals
    sum to ``w(N)``, so the estimate is efficient."""
    n = net.shape[0]
    m_count = perms.shape[0]
    sq = np.zeros(n)
    for i in range(n):
        phi[i] = 0.0
    for m in range(m_count):
        gross_in = 0.0
        gross_out = 0.0
        w_prev = 0.0
        for k in range(n):
            i = perms[m, k]
            if net[i] > 0.0:
                gross_in += net[i]
            else:
                gross_out -= net[i]
            w = min(gross_in, gross_out)
            phi[i] += w - w_prev
            sq[i] += (w - w_prev) ** 2
            w_prev = w
    for i in range(n):
        phi[i] /= m_count
        if m_count > 1:
            var = max(sq[i] / m_count - phi[i] ** 2, 0.0) * m_count / (m_count - 1)
            se[i] = math.sqrt(var / m_count)
        else:
            se[i] = np.nan


@njit(cache=True)
def _synergy_row(net, k, rule, perms, syn, se):
    """Each member's share ``syn`` (N,) of the synergy ``k * min(In_N, Out_N)``, EUR, by
    ``rule``; Shapley standard errors into ``se`` (N,)."""
    n = net.shape[0]
    gross_in = 0.0
    gross_out = 0.0
    for i in range(n):
        se[i] = 0.0
        gross_in += max(net[i], 0.0)
        gross_out += max(-net[i], 0.0)
    total = k * min(gross_in, gross_out)
    if rule == 2:
        if n <= EXACT_MAX_MEMBERS:
            _shapley_exact(net, syn)
        else:
            _shapley_sampled(net, perms, syn, se)
        for i in range(n):
            syn[i] *= k
            se[i] = se[i] * k if k != 0.0 else 0.0  # no synergy: known exactly
        return
    weight_sum = 0.0
    for i in range(n):
        if rule == 1:  # v(N) - v(N minus i) - v({i}) = k * (w(N) - w(N minus i))
            w_without = min(gross_in - max(net[i], 0.0), gross_out - max(-net[i], 0.0))
            syn[i] = max(k * (min(gross_in, gross_out) - w_without), 0.0)
        else:
            syn[i] = abs(net[i])
        weight_sum += syn[i]
    for i in range(n):
        syn[i] = total * (syn[i] / weight_sum if weight_sum > 1e-12 else 1.0 / n)


@njit(cache=True)
def _ir_floor_row(bill, out):
    """Lift members saving less than alone (``out_i + bill_i < 0``) to a zero saving,
    funded pro rata from the positive savings (:func:`envs.market.billing.ir_transfers_row`,
    the billing period's rule for one hour), when the hour's total saving is >= 0.
    Returns the number of members lifted."""
    n = bill.shape[0]
    saving, transfer = np.empty(n), np.empty(n)
    for i in range(n):
        saving[i] = out[i] + bill[i]
    lifted = ir_transfers_row(saving, transfer)
    for i in range(n):
        out[i] += transfer[i]
    return lifted


@njit(cache=True)
def allocate_row(result, net, bill, assets, backed, backing, price, network, taxes, discount,
                 rule, ir_floor, perms, out, se):  # fmt: skip
    """Split one env's result among its members (the game and rules of the module docstring).

    Args:
        result: coalition's net cash for the hour before allocation, EUR (+ = received).
        net: (N,) members' metered net import (+) or export (-), MW.
        bill: (N,) each member's bill acting alone (retail counterfactual), EUR (+ = pays).
        assets: (N,) MW backing the coalition's other products (battery + flexible MW).
        backed: the part of the remainder shared by ``backing`` (the reserve's cash), EUR.
        backing: (N,) MW backing it this hour (upward battery headroom), >= 0.
        price: spot price; network, taxes: charges on imports, EUR/MWh.
        discount: community discount on the netted network charge, share in [0, 1].
        rule: index into :data:`ALLOCATION_RULES`; ir_floor: apply the IR floor.
        perms: (M, N) member orders for the sampled Shapley value (N > 12).
        out: output, (N,) cash allocated to each member, EUR; sums to ``result``.
        se: output, (N,) standard error of each member's Shapley estimate, EUR.

    Returns:
        (members worse off than alone after allocation, members lifted by the floor).
    """
    n = net.shape[0]
    x_sum = 0.0
    gross_in = 0.0
    gross_out = 0.0
    asset_sum = 0.0
    backing_sum = 0.0
    abs_sum = 0.0
    bill_sum = 0.0
    for i in range(n):
        x_sum += net[i]
        gross_in += max(net[i], 0.0)
        gross_out += max(-net[i], 0.0)
        asset_sum += assets[i]
        backing_sum += backing[i]
        abs_sum += abs(net[i])
        bill_sum += bill[i]
    remainder = result + coalition_cost(x_sum, gross_in, gross_out, price, network, taxes,
                                        discount)  # fmt: skip
    _synergy_row(net, discount * network, rule, perms, out, se)
    for i in range(n):
        # v({i}) = bill_i - C({i}), so -bill_i + v({i}) is minus the member's own cost.
        own = coalition_cost(net[i], max(net[i], 0.0), max(-net[i], 0.0), price, network,
                             taxes, discount)  # fmt: skip
        if asset_sum > 1e-12:
            share = assets[i] / asset_sum
        elif abs_sum > 1e-12:
            share = abs(net[i]) / abs_sum
        else:
            share = 1.0 / n
        if backing_sum > 1e-12:
            out[i] += -own + (remainder - backed) * share + backed * backing[i] / backing_sum
        else:
            out[i] += -own + remainder * share
    lifted = 0
    if ir_floor and result + bill_sum >= 0.0:
        lifted = _ir_floor_row(bill, out)
    worse = 0
    for i in range(n):
        if is_worse_off(out[i] + bill[i]):
            worse += 1
    return float(worse), float(lifted)


@njit(cache=True)
def _allocate_batch(result, net, bill, assets, backed, backing, price, network, taxes,
                    discount, rule, ir_floor, perms, out, se, counts):  # fmt: skip
    for e in range(net.shape[0]):
        counts[e, 0], counts[e, 1] = allocate_row(
            result[e], net[e], bill[e], assets[e], backed[e], backing[e], price[e], network[e],
            taxes[e], discount[e], rule, ir_floor, perms, out[e], se[e])  # fmt: skip


class Allocation(NamedTuple):
    """What :func:`allocate` returns."""

    alloc_eur: F64  # (E, N) cash allocated to each member (+ = received); sums to result
    se_eur: F64  # (E, N) standard error of the sampled Shapley value (0 when exact)
    worse_off: F64  # (E,) members worse off than alone this hour (billing.is_worse_off)
    lifted: F64  # (E,) members lifted to a zero saving by the IR floor


def _per_env(name: str, value: object, e: int) -> F64:
    arr = np.asarray(value, dtype=np.float64)
    try:
        return np.broadcast_to(arr, (e,)).copy()
    except ValueError:
        raise ValueError(f"{name} has shape {arr.shape}; expected () or ({e},)") from None


def _member_arrays(
    net_mw: F64, bill_eur: F64, assets_mw: F64, backing_mw: F64 | None
) -> tuple[F64, F64, F64, F64]:
    """:func:`allocate`'s (E, N) inputs as contiguous float64, checked: one shape, MW >= 0;
    ``backing_mw`` defaults to ``assets_mw``."""
    net = np.ascontiguousarray(net_mw, dtype=np.float64)
    if net.ndim != 2:
        raise ValueError(f"net_mw has shape {net.shape}; expected (E, N)")
    bill = np.ascontiguousarray(bill_eur, dtype=np.float64)
    assets = np.ascontiguousarray(assets_mw, dtype=np.float64)
    backing = assets if backing_mw is None else np.ascontiguousarray(backing_mw, np.float64)
    for name, arr in (("bill_eur", bill), ("assets_mw", assets), ("backing_mw", backing)):
        if arr.shape != net.shape:
            raise ValueError(f"{name} has shape {arr.shape}; expected {net.shape} like net_mw")
    for name, arr in (("assets_mw", assets), ("backing_mw", backing)):
        if (arr < 0.0).any():
            raise ValueError(f"{name} has {arr.min()} MW; expected >= 0")
    return net, bill, assets, backing


def _member_orders(rule: str, permutations: NDArray[np.intp] | None, n: int) -> NDArray:
    """(M, N) int64 member orders for :func:`allocate` (a dummy row where the rule needs
    none); ``shapley`` above :data:`EXACT_MAX_MEMBERS` members must be given them."""
    if rule == "shapley" and n > EXACT_MAX_MEMBERS and permutations is None:
        raise ValueError(
            f"allocation rule 'shapley' with N={n} > {EXACT_MAX_MEMBERS} members needs "
            "permutations of shape (M, N)"
        )
    perms = np.zeros((1, n), np.int64) if permutations is None else permutations
    perms = np.ascontiguousarray(perms, dtype=np.int64)
    if perms.ndim != 2 or perms.shape[1] != n:
        raise ValueError(f"permutations has shape {perms.shape}; expected (M, {n})")
    return perms


def allocate(
    result_eur: F64,
    net_mw: F64,
    bill_eur: F64,
    assets_mw: F64,
    price_eur_per_mwh: F64,
    *,
    network_eur_per_mwh: F64 | float,
    taxes_eur_per_mwh: F64 | float,
    discount: F64 | float = 0.0,
    rule: AllocationRule = "proportional",
    ir_floor: bool = True,
    permutations: NDArray[np.intp] | None = None,
    backed_eur: F64 | float = 0.0,
    backing_mw: F64 | None = None,
) -> Allocation:
    """Split the coalition's result among members (the game of the module docstring).

    Args:
        result_eur: (E,) coalition's net cash for the hour before allocation (+ = received).
        net_mw: (E, N) each member's metered net import (+) or export (-).
        bill_eur: (E, N) each member's bill acting alone (+ = pays).
        assets_mw: (E, N) MW backing the coalition's other products, >= 0.
        price_eur_per_mwh: (E,) spot price.
        network_eur_per_mwh, taxes_eur_per_mwh: () or (E,) charges on gross imports.
        discount: () or (E,) community discount on the netted network charge, in [0, 1].
        rule: ``proportional``, ``marginal`` or ``shapley``.
        ir_floor: lift members below their saving alone when the total saving allows it.
        permutations: (M, N) member orders; needed by ``shapley`` for N > 12.
        backed_eur: () or (E,) the part of the remainder shared by ``backing_mw`` (the
            reserve's cash), EUR.
        backing_mw: (E, N) MW backing it this hour, >= 0 (default: ``assets_mw``).

    Returns:
        :class:`Allocation`.

    Raises:
        ValueError: an unknown rule, mismatched shapes, negative assets or missing permutations.

    The worked example of the module docstring:

    >>> import numpy as np
    >>> args = (np.array([60.0]), np.array([[2.0, -1.0, -3.0]]),
    ...         np.array([[340.0, -40.0, -120.0]]), np.array([[0.0, 1.0, 3.0]]), np.array([50.0]))
    >>> kw = dict(network_eur_per_mwh=60.0, taxes_eur_per_mwh=10.0, discount=0.5)
    >>> [allocate(*args, **kw, rule=r).alloc_eur.round(9).tolist() for r in ALLOCATION_RULES]
    [[[-220.0, 70.0, 210.0]], [[-200.0, 60.0, 200.0]], [[-205.0, 65.0, 200.0]]]
    >>> a = allocate(np.array([-80.0]), *args[1:], **kw, rule="shapley")
    >>> a.alloc_eur.round(9).tolist(), a.worse_off.tolist(), a.lifted.tolist()
    ([[-240.0, 40.0, 120.0]], [0.0], [2.0])
    >>> allocate(np.array([-80.0]), *args[1:], **kw, rule="shapley", ir_floor=False).worse_off
    array([2.])
    """
    if rule not in ALLOCATION_RULES:
        raise ValueError(
            f"coalition.allocation={rule!r}; expected proportional, marginal or shapley"
        )
    net, bill, assets, backing = _member_arrays(net_mw, bill_eur, assets_mw, backing_mw)
    e, n = net.shape
    perms = _member_orders(rule, permutations, n)
    out, se, counts = np.empty_like(net), np.empty_like(net), np.empty((e, 2))
    _allocate_batch(
        _per_env("result_eur", result_eur, e), net, bill, assets,
        _per_env("backed_eur", backed_eur, e), backing,
        _per_env("price_eur_per_mwh", price_eur_per_mwh, e),
        _per_env("network_eur_per_mwh", network_eur_per_mwh, e),
        _per_env("taxes_eur_per_mwh", taxes_eur_per_mwh, e),
        _per_env("discount", discount, e),
        ALLOCATION_RULES.index(rule), bool(ir_floor), perms, out, se, counts,
    )  # fmt: skip
    return Allocation(out, se, counts[:, 0], counts[:, 1])
