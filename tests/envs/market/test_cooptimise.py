"""The co-optimised energy + reserve clearing (envs/market/cooptimise.py).

Pinned to HiGHS on random generic books (objective and both shadow prices), checked on
hand-worked books, and, with ties on purpose, for pro-rata rationing, balances and
price bounds.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envs.market import clear_joint
from envs.market.cooptimise import clear_joint_row
from tests.envs.market.joint_reference import CAP, FLOOR, RCAP, lowest_duals, solve_highs

TOL = 1e-6


def random_book(rng: np.random.Generator, ties: bool = False) -> dict:
    """A book like the step's: units with tranches and reserve offers, unit-less blocks.

    Generic (continuous prices and MW) unless ``ties``: then prices and MW are whole
    multiples drawn from a few values, so that ties are common.
    """

    def price(lo, hi, size):
        if ties:
            return rng.integers(lo // 10, hi // 10 + 1, size) * 10.0
        return rng.uniform(lo, hi, size)

    def mw(lo, hi, size):
        return rng.integers(lo // 10, hi // 10 + 1, size) * 10.0 if ties else rng.uniform(lo, hi, size)

    n_u = int(rng.integers(1, 9))
    tranches = rng.integers(1, 5, n_u)
    eu = np.concatenate([np.repeat(np.arange(n_u), tranches), -np.ones(rng.integers(0, 3), int)])
    eq = mw(0, 100, eu.size)
    ep = price(-50, 300, eu.size)
    ru = np.concatenate([np.flatnonzero(rng.random(n_u) < 0.7), -np.ones(rng.integers(0, 3), int)])
    rq = mw(0, 60, ru.size)
    rp = price(0, 80, ru.size)
    cap_u = np.array([eq[eu == u].sum() for u in range(n_u)])
    ulim = cap_u * rng.uniform(0.4, 1.2, n_u)
    if ties:
        ulim = np.round(ulim / 10.0) * 10.0
    supply = ulim.sum() + eq[eu < 0].sum()
    n_in, n_el = int(rng.integers(1, 4)), int(rng.integers(0, 4))
    dq = np.concatenate([mw(0, 1, n_in) * 0 + rng.uniform(0.2, 1.4) * supply / n_in,
                         mw(0, 100, n_el)])  # fmt: skip
    if ties:
        dq = np.round(dq / 10.0) * 10.0
    dp = np.concatenate([np.full(n_in, CAP + 100.0 * rng.integers(0, 2)), price(-50, 400, n_el)])
    n_k = int(rng.integers(1, 5))
    rdq = mw(0, 80, n_k)
    rdp = np.sort(price(0, RCAP, n_k))[::-1]
    if rng.random() < 0.3:
        rdp[0] = RCAP  # a flat requirement at the scarcity price
    return dict(eq=eq, ep=ep, eu=eu.astype(np.int64), rq=rq, rp=rp, ru=ru.astype(np.int64),
                ulim=ulim, dq=dq, dp=dp, rdq=rdq, rdp=rdp)  # fmt: skip


def clear(book: dict):
    out = {k: np.zeros(len(book[q])) for k, q in
           (("e", "eq"), ("r", "rq"), ("d", "dq"), ("rd", "rdq"))}  # fmt: skip
    res = clear_joint_row(book["eq"], book["ep"], book["eu"], book["rq"], book["rp"],
                          book["ru"], book["ulim"], book["dq"], book["dp"], book["rdq"],
                          book["rdp"], FLOOR, CAP, RCAP, out["e"], out["r"], out["d"],
                          out["rd"])  # fmt: skip
    return res, out


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= TOL * max(1.0, abs(a), abs(b))


def _check_against_highs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    book = random_book(rng)
    (price_e, price_r, short, unserved, welfare), out = clear(book)
    w_ref = solve_highs(book)[0]
    d_ref, pe_ref, pr_ref = lowest_duals(book)
    assert _close(welfare, w_ref), (seed, welfare, w_ref)
    assert _close(d_ref, w_ref), (seed, d_ref, w_ref)  # strong duality: the reference agrees
    assert _close(price_e, pe_ref), (seed, price_e, pe_ref)
    assert _close(price_r, pr_ref), (seed, price_r, pr_ref)
    _check_feasible(book, out, short, unserved)


def _check_feasible(book, out, short, unserved) -> None:
    e, r, d, rd = out["e"], out["r"], out["d"], out["rd"]
    for x, q in ((e, "eq"), (r, "rq"), (d, "dq"), (rd, "rdq")):
        assert np.all(x >= -TOL) and np.all(x <= book[q] + TOL)
    assert abs(e.sum() - d.sum()) <= TOL * max(1.0, d.sum())
    assert abs(r.sum() - rd.sum()) <= TOL * max(1.0, rd.sum())
    for u, lim in enumerate(book["ulim"]):
        assert e[book["eu"] == u].sum() + r[book["ru"] == u].sum() <= lim + TOL
    assert _close(short, book["rdq"].sum() - rd.sum())
    at_cap = book["dp"] >= CAP
    assert _close(unserved, (book["dq"] - d)[at_cap].sum())


def test_equals_highs_on_random_generic_books():
    """Objective and both prices equal HiGHS's on 1,000 seeded random books (~3 s)."""
    for seed in range(1000):
        _check_against_highs(seed)


@pytest.mark.slow
def test_equals_highs_on_many_random_generic_books():
    for seed in range(1000, 5000):
        _check_against_highs(seed)
