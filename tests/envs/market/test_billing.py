"""Individual rationality over the billing period (envs/market/billing.py): the true-up on
hand-worked periods, its invariants (hypothesis), and its one-hour case, the hourly floor
of :func:`envs.market.allocation.allocate`."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from envs.market import billing
from envs.market.allocation import ALLOCATION_RULES, allocate
from envs.market.billing import WORSE_OFF_TOL_EUR, is_worse_off, true_up


def test_the_worked_example_lifts_the_loser_from_the_savers_pro_rata():
    # So far (-30, 10, 50) EUR; this hour bill 10 each, allocation (-10, -10, -10): the
    # period's savings stay (-30, 10, 50), total 30 >= 0; D = 30, P = 60: payers give half.
    r = true_up(np.array([[-30.0, 10.0, 50.0]]), np.full((1, 3), 10.0), np.full((1, 3), -10.0),
                np.array([True]))  # fmt: skip
    np.testing.assert_allclose(r.alloc_eur, [[20.0, -15.0, -35.0]])
    np.testing.assert_allclose(r.period_saving_eur, [[0.0, 5.0, 25.0]])
    assert (r.worse_off[0], r.lifted[0]) == (0.0, 1.0)
    assert doctest.testmod(billing).failed == 0


def test_no_true_up_before_the_period_ends_or_when_the_coalition_lost():
    cum, bill, alloc = np.array([[-30.0, 10.0]]), np.zeros((1, 2)), np.zeros((1, 2))
    r = true_up(cum, bill, alloc, np.array([False]))  # mid-period: only accumulate
    np.testing.assert_array_equal(r.alloc_eur, alloc)
    assert (r.worse_off[0], r.lifted[0]) == (1.0, 0.0)
    r = true_up(cum, bill, alloc, np.array([True]))  # total -20 < 0: no split can do it
    np.testing.assert_array_equal(r.alloc_eur, alloc)
    assert (r.worse_off[0], r.lifted[0]) == (1.0, 0.0)
    r = true_up(cum, bill, alloc, np.array([True]), floor=False)  # individually_rational off
    assert r.lifted[0] == 0.0


def test_the_carried_saving_resets_at_the_end_of_a_period():
    cum, carry = np.array([-5.0, 8.0]), np.empty(2)
    bill, alloc = np.array([3.0, 1.0]), np.array([-1.0, 2.0])
    assert billing.settle_period_row(cum, bill, alloc.copy(), False, True, carry) == (1.0, 0.0)
    np.testing.assert_allclose(carry, [-3.0, 11.0])
    a = alloc.copy()
    assert billing.settle_period_row(cum, bill, a, True, True, carry) == (0.0, 1.0)
    np.testing.assert_array_equal(carry, [0.0, 0.0])
    np.testing.assert_allclose(a, [-1.0 + 3.0, 2.0 - 3.0])  # 3 EUR from member 1 to 0


def test_worse_off_is_one_definition_with_a_tolerance():
    assert WORSE_OFF_TOL_EUR == 1e-6
    assert not is_worse_off(-0.5e-6) and is_worse_off(-2e-6) and not is_worse_off(0.0)
    np.testing.assert_array_equal(is_worse_off(np.array([-1.0, -1e-7, 0.0, 3.0])),
                                  [True, False, False, False])  # fmt: skip


money = hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 9)),
                   elements=st.floats(-1e4, 1e4, allow_subnormal=False))  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(money, st.data())
def test_the_true_up_conserves_money_and_leaves_nobody_worse_off_when_the_total_allows(cum, data):
    e, n = cum.shape
    bill = data.draw(hnp.arrays(np.float64, (e, n), elements=st.floats(-1e3, 1e3)))
    alloc = data.draw(hnp.arrays(np.float64, (e, n), elements=st.floats(-1e3, 1e3)))
    r = true_up(cum, bill, alloc, np.ones(e, bool))
    scale = 1e-9 * (1.0 + np.abs(cum).sum() + np.abs(bill).sum() + np.abs(alloc).sum())
    # A transfer among members: the allocation still sums to the coalition's result.
    np.testing.assert_allclose(r.alloc_eur.sum(-1), alloc.sum(-1), rtol=0, atol=scale)
    before = cum + bill + alloc
    ok = before.sum(-1) >= 0.0
    assert (r.period_saving_eur[ok] >= -scale).all()
    # Savers pay pro rata: each keeps the same share of its saving, never below 0.
    pos = (before > 0.0) & ok[:, None]
    assert (r.period_saving_eur[pos] >= -scale).all()
    assert (r.period_saving_eur[pos] <= before[pos] + scale).all()
    # The coalition lost over the period: nothing moves.
    np.testing.assert_array_equal(r.alloc_eur[~ok], alloc[~ok])


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 8), st.sampled_from(ALLOCATION_RULES), st.integers(0, 2**32 - 1))
def test_a_one_hour_period_is_the_hourly_floor(n, rule, seed):
    rng = np.random.default_rng(seed)
    net = rng.normal(0.0, 2.0, (3, n))
    bill = rng.normal(50.0, 80.0, (3, n))
    result = rng.normal(0.0, 100.0, 3) - bill.sum(-1) * rng.uniform(0.0, 1.0, 3)
    args = (result, net, bill, rng.uniform(0.0, 2.0, (3, n)), rng.uniform(20, 90, 3))
    kw = dict(network_eur_per_mwh=60.0, taxes_eur_per_mwh=10.0, discount=0.5, rule=rule)
    hourly = allocate(*args, **kw, ir_floor=True)
    raw = allocate(*args, **kw, ir_floor=False)
    r = true_up(np.zeros((3, n)), bill, raw.alloc_eur, np.ones(3, bool))
    np.testing.assert_allclose(r.alloc_eur, hourly.alloc_eur, rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(r.lifted, hourly.lifted)


def test_true_up_checks_its_shapes():
    with pytest.raises(ValueError, match="expected one"):
        true_up(np.zeros((1, 2)), np.zeros((1, 3)), np.zeros((1, 2)), np.array([True]))
