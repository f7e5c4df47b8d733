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
from envs.market.cooptimise import JointAccepted, JointBook, clear_joint_row
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
        if ties:
            return rng.integers(lo // 10, hi // 10 + 1, size) * 10.0
        return rng.uniform(lo, hi, size)

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
    books = JointBook(*(book[k] for k in JointBook._fields[:11]), FLOOR, CAP, RCAP)
    res = clear_joint_row(books, JointAccepted(out["e"], out["r"], out["d"], out["rd"]))
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


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_equals_highs_on_hypothesis_drawn_generic_books(seed):
    """Objective and both prices equal HiGHS's on books hypothesis draws (and shrinks)."""
    _check_against_highs(seed)


@pytest.mark.slow
def test_equals_highs_on_many_random_generic_books():
    for seed in range(1000, 5000):
        _check_against_highs(seed)


def _book(**kw) -> dict:
    base = dict(rq=np.zeros(0), rp=np.zeros(0), ru=np.zeros(0, np.int64), rdq=np.zeros(0),
                rdp=np.zeros(0))  # fmt: skip
    base.update(kw)
    for k in ("eu", "ru"):
        base[k] = np.asarray(base[k], np.int64)
    return {k: (v if k in ("eu", "ru") else np.asarray(v, float)) for k, v in base.items()}


def test_reserve_price_is_the_opportunity_cost():
    """A (100 MW, energy at 10, reserve at 0) and B (energy at 50): 150 MW of load, 50 MW
    of reserve. A holds the reserve, B sets energy at 50, reserve = 50 - 10 + 0 = 40."""
    book = _book(eq=[100.0, 100.0], ep=[10.0, 50.0], eu=[0, 1], rq=[100.0], rp=[0.0], ru=[0],
                 ulim=[100.0, 100.0], dq=[150.0], dp=[CAP], rdq=[50.0], rdp=[RCAP])  # fmt: skip
    (pe, pr, short, unserved, welfare), out = clear(book)
    assert (pe, pr, short, unserved) == (50.0, 40.0, 0.0, 0.0)
    assert out["e"].tolist() == [50.0, 100.0] and out["r"].tolist() == [50.0]
    assert welfare == 150 * CAP + 50 * RCAP - 50 * 10 - 100 * 50


def test_reserve_is_deployed_before_load_is_shed():
    """Reserve valued at 1000 < the cap 3000: with 180 MW of load on 200 MW of units, all
    of it is served and reserve gets the last 20 MW; with 230 MW, every unit's MW is in
    energy, 30 MW is shed at the cap and the whole reserve demand is short, priced at
    its value (the lowest dual: a sequential auction's scarcity price)."""

    def book(load):
        return _book(eq=[100.0, 100.0], ep=[10.0, 50.0], eu=[0, 1], rq=[100.0, 100.0],
                     rp=[0.0, 0.0], ru=[0, 1], ulim=[100.0, 100.0], dq=[load], dp=[CAP],
                     rdq=[40.0], rdp=[RCAP])  # fmt: skip

    (pe, pr, short, unserved, _), out = clear(book(180.0))
    assert out["d"].tolist() == [180.0] and unserved == 0.0
    assert out["r"].sum() == 20.0 and short == 20.0
    assert pe == 50.0 + RCAP and pr == RCAP  # a MW of load costs B's energy + lost reserve
    (pe, pr, short, unserved, _), out = clear(book(230.0))
    assert out["e"].tolist() == [100.0, 100.0] and out["r"].tolist() == [0.0, 0.0]
    assert (unserved, short, pe, pr) == (30.0, 40.0, CAP, RCAP)


def test_stepped_ordc_prices_at_the_unfilled_step():
    """Reserve demand 30 MW at 800 then 30 MW at 200; 45 MW of reserve offered at 5:
    the second step is partly filled and sets the price."""
    book = _book(eq=[50.0], ep=[20.0], eu=[-1], rq=[45.0], rp=[5.0], ru=[-1], ulim=[],
                 dq=[40.0], dp=[CAP], rdq=[30.0, 30.0], rdp=[800.0, 200.0])  # fmt: skip
    (pe, pr, short, _, _), out = clear(book)
    assert (pe, pr, short) == (20.0, 200.0, 15.0)
    assert out["rd"].tolist() == [30.0, 15.0]


@st.composite
def tied_books(draw):
    return random_book(np.random.default_rng(draw(st.integers(0, 2**32 - 1))), ties=True)


@settings(max_examples=200)
@given(tied_books())
def test_books_with_ties_ration_pro_rata_and_stay_optimal(book):
    (pe, pr, short, unserved, welfare), out = clear(book)
    w_ref = solve_highs(book)[0]
    assert _close(welfare, w_ref)
    _check_feasible(book, out, short, unserved)
    assert FLOOR <= pe <= CAP and 0.0 <= pr <= RCAP
    used = np.zeros(len(book["ulim"]))
    np.add.at(used, book["eu"][book["eu"] >= 0], out["e"][book["eu"] >= 0])
    np.add.at(used, book["ru"][book["ru"] >= 0], out["r"][book["ru"] >= 0])
    binds = np.concatenate([used >= book["ulim"] - TOL, [False]])  # last: unit-less
    for q, p, x, unit, lo, hi in (
        ("eq", "ep", "e", "eu", FLOOR, CAP), ("rq", "rp", "r", "ru", 0.0, RCAP),
        ("dq", "dp", "d", None, FLOOR, CAP), ("rdq", "rdp", "rd", None, 0.0, RCAP),
    ):  # fmt: skip
        price = np.clip(book[p], lo, hi)
        qty, acc = book[q], out[x]
        for level in np.unique(price):
            at = (price == level) & (qty > 0)
            if unit is not None:  # a unit at its limit may hold less than its share
                at &= ~binds[book[unit]]
            ratio = acc[at] / qty[at]
            # Pro rata: equal ratios among free tied blocks; a binding unit can only hold less.
            assert ratio.size == 0 or np.ptp(ratio) <= 1e-6, (x, level, ratio)


def test_batched_wrapper_clears_like_each_env_alone_and_rejects_bad_units():
    rng = np.random.default_rng(7)
    book = random_book(rng)
    keys = ("eq", "ep", "eu", "rq", "rp", "ru", "ulim", "dq", "dp", "rdq", "rdp")
    kw = dict(price_floor_eur_per_mwh=FLOOR, price_cap_eur_per_mwh=CAP,
              reserve_price_cap_eur_per_mw=RCAP)  # fmt: skip
    res = clear_joint(*(np.stack([book[k]] * 2) for k in keys), **kw)
    (pe, _, _, _, welfare), out = clear(book)
    np.testing.assert_array_equal(res.energy_price_eur_per_mwh, [pe, pe])
    np.testing.assert_array_equal(res.welfare_eur, [welfare, welfare])
    np.testing.assert_array_equal(res.energy_mw[1], out["e"])
    bad = dict(book, eu=np.full_like(book["eu"], len(book["ulim"])))
    with pytest.raises(ValueError, match="energy_unit holds unit"):
        clear_joint(*(bad[k] for k in keys), **kw)
