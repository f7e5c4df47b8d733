"""The compiled step's clearing helpers equal the pure numpy clearing functions.

``envs/kernel.py`` holds scalar forms of the rules in ``envs/market``; these
properties pin each pair together (STYLE §7: batched and scalar versions tested
against each other), and a whole episode is checked against hand-computable
invariants in ``test_envs.py``.
"""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from envs import kernel as kn
from envs import kernel_clearing as kc
from envs.market import allocate, clear_capacity, clear_reserve, clear_spot

FLOOR, CAP = -10.0, 100.0


def _blocks(draw, n, lo, hi, scale):
    return np.array(draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n)), float) * scale


@st.composite
def curves(draw):
    s, b = draw(st.integers(1, 8)), draw(st.integers(1, 5))
    return (
        _blocks(draw, s, 0, 5, 10.0),
        _blocks(draw, s, -2, 12, 10.0),
        _blocks(draw, b, 0, 5, 10.0),
        _blocks(draw, b, -2, 12, 10.0),
    )


@given(curves(), st.booleans())
def test_spot_kernel_equals_clear_spot(c, pay_as_bid):
    sq, sp, dq, dp = c
    ref = clear_spot(
        sq[None], sp[None], dq[None], dp[None], price_floor_eur_per_mwh=FLOOR,
        price_cap_eur_per_mwh=CAP, pricing="pay_as_bid" if pay_as_bid else "uniform",
    )  # fmt: skip
    s_acc, d_acc, s_paid = np.zeros(sq.size), np.zeros(dq.size), np.zeros(sq.size)
    price, buyer, unserved = kc._spot(sq, sp, dq, dp, FLOOR, CAP, pay_as_bid, s_acc, d_acc, s_paid)
    np.testing.assert_allclose(s_acc, ref.supply_mw[0], atol=1e-9)
    np.testing.assert_allclose(d_acc, ref.demand_mw[0], atol=1e-9)
    np.testing.assert_allclose(s_paid, ref.supply_price_eur_per_mwh[0], atol=1e-9)
    assert np.isclose(price, ref.price_eur_per_mwh[0])
    assert np.isclose(buyer, ref.demand_price_eur_per_mwh[0])
    assert np.isclose(unserved, ref.unserved_mw[0])


@given(st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_reserve_and_capacity_kernels_equal_numpy(n, seed):
    rng = np.random.default_rng(seed)
    q, p = rng.uniform(0, 50, n), rng.integers(0, 6, n) * 4.0  # ties on purpose
    req, target = rng.uniform(0, 200), rng.uniform(1, 200)
    ref = clear_reserve(q[None], p[None], np.array([req]), scarcity_price_eur_per_mw=15.0)
    award = np.zeros(n)
    price, short = kc._reserve(q, p, req, 15.0, award)
    np.testing.assert_allclose(award, ref.award_mw[0], atol=1e-9)
    assert np.isclose(price, ref.price_eur_per_mw[0]) and np.isclose(short, ref.shortfall_mw[0])
    ref_c = clear_capacity(
        q[None], p[None] * 20, np.array([target]), cap_eur_per_mw_day=300.0, lower=0.05, upper=0.1
    )
    award_c = np.zeros(n)
    price_c, cleared = kc._capacity(q, p * 20, target, 300.0, 0.05, 0.1, award_c)
    np.testing.assert_allclose(award_c, ref_c.award_mw[0], atol=1e-9)
    assert np.isclose(price_c, ref_c.price_eur_per_mw_day[0])
    assert np.isclose(cleared, ref_c.cleared_mw[0])


@given(st.integers(1, 7), st.sampled_from(kn.ALLOCATION_RULES), st.integers(0, 2**32 - 1))
def test_allocation_kernel_equals_allocate(n, rule, seed):
    rng = np.random.default_rng(seed)
    net = rng.normal(size=n)
    perms = np.array([rng.permutation(n) for _ in range(5)])
    ref = allocate(np.array([-7.0]), net[None], np.array([40.0]), np.array([25.0]), rule=rule,
                   permutations=perms)  # fmt: skip
    out = np.zeros(n)
    kc._allocate(-7.0, net, 40.0, 25.0, kn.ALLOCATION_RULES.index(rule), perms, out)
    np.testing.assert_allclose(out, ref[0], atol=1e-9)
    assert np.isclose(out.sum(), -7.0)
