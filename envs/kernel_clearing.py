"""Scalar forms of the market-clearing rules, compiled for :mod:`envs.kernel` (numba).

Each helper clears one env: ``_spot`` is :func:`envs.market.clear_spot`, ``_reserve``
:func:`envs.market.clear_reserve`, ``_capacity`` :func:`envs.market.clear_capacity`
and ``_allocate`` :func:`envs.market.allocate`, written as loops over a handful of
blocks; ``tests/test_kernel.py`` pins each pair together on random inputs. Units and
rules are documented on the numpy functions.
"""

from __future__ import annotations

import numpy as np
from numba import njit

EPS = 1e-9


@njit(cache=True)
def _spot(sq, sp, dq, dp, floor, cap, pay_as_bid, s_acc, d_acc, s_price):
    """One env's :func:`envs.market.clear_spot`; fills s_acc, d_acc, s_price.

    Returns (price, buyer price, unserved MW).
    """
    n_s, n_b = sq.shape[0], dq.shape[0]
    ps = np.minimum(np.maximum(sp, floor), cap)
    pd = np.minimum(np.maximum(dp, floor), cap)
    s_order = np.argsort(ps, kind="mergesort")
    d_order = np.argsort(-pd, kind="mergesort")
    start = 0.0
    traded = 0.0
    best_acc = -np.inf
    for jj in range(n_s):
        j = s_order[jj]
        demand_at = 0.0
        for i in range(n_b):
            if pd[i] >= ps[j]:
                demand_at += dq[i]
        acc = min(max(demand_at - start, 0.0), sq[j])
        s_acc[j] = acc
        start += sq[j]
        traded += acc
        if acc > EPS and ps[j] > best_acc:
            best_acc = ps[j]
    d_start = 0.0
    best_unfilled = -np.inf
    unserved = 0.0
    for ii in range(n_b):
        i = d_order[ii]
        acc = min(max(traded - d_start, 0.0), dq[i])
        d_acc[i] = acc
        d_start += dq[i]
        if dq[i] - acc > EPS and pd[i] > best_unfilled:
            best_unfilled = pd[i]
        if pd[i] >= cap:
            unserved += dq[i] - acc
    price = max(best_acc, best_unfilled)
    if not np.isfinite(price):
        price = ps[s_order[0]] if n_s > 0 else floor
    price = min(max(price, floor), cap)
    paid = 0.0
    for j in range(n_s):
        s_price[j] = ps[j] if (pay_as_bid and s_acc[j] > 0.0) else price
        paid += s_acc[j] * s_price[j]
    buyer = price
    if pay_as_bid and traded > EPS:
        buyer = paid / traded
    return price, buyer, unserved


@njit(cache=True)
def _reserve(q, p, requirement, scarcity, award):
    """One env's :func:`envs.market.clear_reserve`; fills award. Returns (price, shortfall)."""
    pc = np.minimum(np.maximum(p, 0.0), scarcity)
    order = np.argsort(pc, kind="mergesort")
    start = 0.0
    total = 0.0
    marginal = 0.0
    for kk in range(q.shape[0]):
        k = order[kk]
        acc = min(max(requirement - start, 0.0), q[k])
        award[k] = acc
        start += q[k]
        total += acc
        if acc > EPS and pc[k] > marginal:
            marginal = pc[k]
    short = max(requirement - total, 0.0)
    return (scarcity if short > EPS else marginal), short


@njit(cache=True)
def _vrr(quantity, target, cap, lower, upper):
    a = target * (1.0 - lower)
    c = target * (1.0 + upper)
    frac = min(max((quantity - a) / max(c - a, 1e-12), 0.0), 1.0)
    return cap * (1.0 - frac)


@njit(cache=True)
def _capacity(q, p, target, cap, lower, upper, award):
    """One env's :func:`envs.market.clear_capacity`; fills award. Returns (price, cleared)."""
    pc = np.minimum(np.maximum(p, 0.0), cap)
    order = np.argsort(pc, kind="mergesort")
    a = target * (1.0 - lower)
    c = target * (1.0 + upper)
    start = 0.0
    cleared = 0.0
    for kk in range(q.shape[0]):
        k = order[kk]
        q_at_p = a + (1.0 - pc[k] / max(cap, 1e-12)) * (c - a)
        acc = min(max(q_at_p - start, 0.0), q[k])
        award[k] = acc
        start += q[k]
        cleared += acc
    price = _vrr(cleared, target, cap, lower, upper) if target > 0.0 else 0.0
    return price, cleared


@njit(cache=True)
def _cost(x, price, charge):
    return price * x + charge * max(x, 0.0)


@njit(cache=True)
def _allocate(result, net, price, charge, rule, perms, out):
    """One env's :func:`envs.market.allocate`; fills out (N,)."""
    n = net.shape[0]
    weight = np.zeros(n)
    residual = result
    total = 0.0
    for i in range(n):
        residual += _cost(net[i], price, charge)
        total += net[i]
    if rule == 0:
        for i in range(n):
            weight[i] = abs(net[i])
    elif rule == 1:
        c_total = _cost(total, price, charge)
        for i in range(n):
            weight[i] = _cost(net[i], price, charge) - (
                c_total - _cost(total - net[i], price, charge)
            )
    else:
        m_count = perms.shape[0]
        for m in range(m_count):
            prefix = 0.0
            c_prev = 0.0
            for k in range(n):
                i = perms[m, k]
                prefix += net[i]
                c_now = _cost(prefix, price, charge)
                weight[i] += _cost(net[i], price, charge) - (c_now - c_prev)
                c_prev = c_now
        for i in range(n):
            weight[i] /= m_count
    w_sum = 0.0
    for i in range(n):
        weight[i] = max(weight[i], 0.0)
        w_sum += weight[i]
    for i in range(n):
        share = weight[i] / w_sum if w_sum > 1e-12 else 1.0 / n
        out[i] = -_cost(net[i], price, charge) + residual * share
