"""The coalition's allocation as a cooperative game (envs/market/allocation.py).

The reference here is a plain Python statement of the game straight from its definition,
``v(S) = sum_{i in S} bill_i - C(S)`` over explicit subsets or member orders, independent
of the compiled rule's decomposition (additive part + netting synergy, Gray-code
enumeration).
"""

from __future__ import annotations

import doctest
import itertools
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envs.market import allocation
from envs.market.allocation import ALLOCATION_RULES, _shapley_exact, _shapley_sampled, allocate

EXAMPLE = dict(
    net=[2.0, -1.0, -3.0], bill=[340.0, -40.0, -120.0], assets=[0.0, 1.0, 3.0],
    price=50.0, network=60.0, taxes=10.0, discount=0.5,
)  # fmt: skip


def _cost(xs, price, network, taxes, discount):
    """C(S) of the members with positions ``xs`` (MW), EUR."""
    gross_in = sum(max(x, 0.0) for x in xs)
    gross_out = sum(max(-x, 0.0) for x in xs)
    return (
        price * sum(xs)
        + (network + taxes) * gross_in
        - discount * network * min(gross_in, gross_out)
    )


def _value(subset, net, bill, price, network, taxes, discount):
    """v(S), EUR: what ``subset`` saves together against each member acting alone."""
    xs = [net[i] for i in subset]
    return sum(bill[i] for i in subset) - _cost(xs, price, network, taxes, discount)


def _reference(result, net, bill, assets, price, network, taxes, discount, rule, backed=0.0,
               backing=None):  # fmt: skip
    """The allocation without the IR floor, from the definitions (Shapley by orders)."""
    n = len(net)
    args = (net, bill, price, network, taxes, discount)
    v_all = _value(range(n), *args)
    single = [_value([i], *args) for i in range(n)]
    if rule == "shapley":
        phi = np.zeros(n)
        orders = list(itertools.permutations(range(n)))
        for order in orders:
            for k, i in enumerate(order):
                phi[i] += _value(order[: k + 1], *args) - _value(order[:k], *args)
        phi /= len(orders)
    else:
        if rule == "marginal":
            w = [max(v_all - _value([j for j in range(n) if j != i], *args) - single[i], 0.0)
                 for i in range(n)]  # fmt: skip
        else:
            w = [abs(x) for x in net]
        share = np.array(w) / sum(w) if sum(w) > 1e-12 else np.full(n, 1.0 / n)
        phi = np.array(single) + (v_all - sum(single)) * share
    remainder = result + _cost(list(net), price, network, taxes, discount)
    a = np.array(assets, float)
    if a.sum() <= 1e-12:
        a = np.abs(np.array(net, float))
    if a.sum() <= 1e-12:
        a = np.ones(n)
    h = np.zeros(n) if backing is None else np.array(backing, float)
    if h.sum() <= 1e-12:  # nothing backs the reserve this hour: all of it by assets
        return -np.array(bill) + phi + remainder * a / a.sum()
    return -np.array(bill) + phi + (remainder - backed) * a / a.sum() + backed * h / h.sum()


def _shapley_by_subsets(w):
    """Shapley value of the game ``w(mask)`` over N players, by the subset formula."""
    n = len(w).bit_length() - 1
    phi = np.zeros(n)
    for mask in range(1 << n):
        s = bin(mask).count("1")
        for i in range(n):
            if not mask >> i & 1:
                weight = math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n)
                phi[i] += weight * (w[mask | 1 << i] - w[mask])
    return phi


@st.composite
def hours(draw, n_min=1, n_max=16, e_max=3):
    """Random hours: positions (some 0), bills, assets (sometimes none), prices, charges."""
    e, n = draw(st.integers(1, e_max)), draw(st.integers(n_min, n_max))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    net = rng.normal(0.0, 2.0, (e, n)) * (rng.random((e, n)) > 0.2)
    bill = rng.normal(50.0, 150.0, (e, n))
    assets = rng.uniform(0.0, 3.0, (e, n)) * (rng.random((e, n)) > 0.5)
    if draw(st.booleans()):
        assets[:] = 0.0
    backing = rng.uniform(0.0, 3.0, (e, n)) * (rng.random((e, n)) > 0.3)
    if draw(st.booleans()):
        backing[:] = 0.0
    return dict(
        result=rng.normal(0.0, 500.0, e), net=net, bill=bill, assets=assets,
        backed=rng.normal(0.0, 200.0, e), backing=backing,
        price=rng.uniform(-100.0, 300.0, e), network=rng.uniform(0.0, 80.0, e),
        taxes=rng.uniform(0.0, 30.0, e), discount=rng.uniform(0.0, 1.0, e),
        perms=np.argsort(rng.random((16, n)), axis=-1),
    )  # fmt: skip


def _run(h, rule, ir_floor):
    return allocate(
        h["result"], h["net"], h["bill"], h["assets"], h["price"],
        network_eur_per_mwh=h["network"], taxes_eur_per_mwh=h["taxes"],
        discount=h["discount"], rule=rule, ir_floor=ir_floor, permutations=h["perms"],
        backed_eur=h["backed"], backing_mw=h["backing"],
    )  # fmt: skip


@given(hours(), st.sampled_from(ALLOCATION_RULES), st.booleans())
def test_allocations_sum_to_the_result(h, rule, ir_floor):
    inputs = {k: v.copy() for k, v in h.items()}
    a = _run(h, rule, ir_floor)
    tol = 1e-6 * np.maximum(1.0, np.abs(h["result"]))
    assert (np.abs(a.alloc_eur.sum(-1) - h["result"]) <= tol).all()
    exact = h["net"].shape[1] <= allocation.EXACT_MAX_MEMBERS or rule != "shapley"
    if exact:
        assert (a.se_eur == 0.0).all()
    for k, v in inputs.items():  # inputs untouched
        np.testing.assert_array_equal(h[k], v)


@given(hours(n_min=2, n_max=8), st.sampled_from(ALLOCATION_RULES), st.booleans())
def test_members_with_identical_data_get_equal_allocations(h, rule, ir_floor):
    for k in ("net", "bill", "assets", "backing"):
        h[k][:, 1] = h[k][:, 0]
    a = _run(h, rule, ir_floor).alloc_eur
    np.testing.assert_allclose(a[:, 0], a[:, 1], rtol=1e-9, atol=1e-7)


@given(hours(n_min=2, n_max=12), st.integers(0, 11))
def test_a_null_player_gets_nothing_under_shapley(h, j):
    j = j % h["net"].shape[1]
    h["assets"][:, (j + 1) % h["net"].shape[1]] += 1.0  # someone backs the remainder
    for k in ("net", "bill", "assets", "backing"):
        h[k][:, j] = 0.0
    a = _run(h, "shapley", ir_floor=False)
    np.testing.assert_allclose(a.alloc_eur[:, j], 0.0, atol=1e-9)


@settings(max_examples=60)
@given(hours(n_max=6, e_max=1), st.sampled_from(ALLOCATION_RULES))
def test_rules_equal_their_definition_by_brute_force(h, rule):
    got = _run(h, rule, ir_floor=False).alloc_eur[0]
    keys = ("result", "net", "bill", "assets", "price", "network", "taxes", "discount")
    args = [h[k][0] if np.ndim(h[k]) else h[k] for k in keys]
    ref = _reference(*[a.tolist() if np.ndim(a) else float(a) for a in args], rule,
                     float(h["backed"][0]), h["backing"][0].tolist())  # fmt: skip
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-7)


@pytest.mark.parametrize("seed", range(5))
def test_sampled_shapley_is_within_four_standard_errors_of_the_exact(seed):
    rng = np.random.default_rng(seed)
    n = 10
    net = rng.normal(0.0, 2.0, n) * (rng.random(n) > 0.1)

    def w(mask):
        xs = [net[i] for i in range(n) if mask >> i & 1]
        return min(sum(max(x, 0.0) for x in xs), sum(max(-x, 0.0) for x in xs))

    exact = _shapley_by_subsets([w(mask) for mask in range(1 << n)])
    compiled = np.empty(n)
    _shapley_exact(net, compiled)
    np.testing.assert_allclose(compiled, exact, atol=1e-9)
    est, se = np.empty(n), np.empty(n)
    _shapley_sampled(net, np.argsort(rng.random((400, n)), axis=-1), est, se)
    assert est.sum() == pytest.approx(exact.sum(), abs=1e-9)  # every order is efficient
    assert (np.abs(est - exact) <= 4.0 * se + 1e-12).all()
    assert (se[net != 0.0] > 0.0).any()


def test_beyond_twelve_members_shapley_is_sampled_with_standard_errors():
    rng = np.random.default_rng(3)
    n = 14
    net = rng.normal(0.0, 2.0, (1, n))
    perms = np.argsort(rng.random((64, n)), axis=-1)
    kw = dict(network_eur_per_mwh=60.0, taxes_eur_per_mwh=10.0, discount=0.5, rule="shapley")
    a = allocate(np.array([10.0]), net, np.zeros((1, n)), np.ones((1, n)), np.array([50.0]),
                 **kw, permutations=perms)  # fmt: skip
    assert (a.se_eur > 0.0).any() and a.alloc_eur.sum() == pytest.approx(10.0)
    with pytest.raises(ValueError, match="permutations"):
        allocate(np.array([10.0]), net, np.zeros((1, n)), np.ones((1, n)), np.array([50.0]), **kw)


@given(hours(), st.sampled_from(ALLOCATION_RULES))
def test_the_ir_floor_leaves_no_member_worse_off_when_the_result_allows_it(h, rule):
    a = _run(h, rule, ir_floor=True)
    saving = a.alloc_eur + h["bill"]
    total = h["result"] + h["bill"].sum(-1)
    ok = total >= 0.0
    tol = 1e-9 * np.maximum(1.0, np.abs(h["bill"]).sum(-1, keepdims=True))
    assert (saving[ok] >= -tol[ok]).all()
    assert (a.worse_off[ok] == 0.0).all()
    no_floor = _run(h, rule, ir_floor=False)
    assert (no_floor.lifted == 0.0).all()
    # The floor lifts exactly the members the unfloored rule leaves below 0.
    below = (no_floor.alloc_eur + h["bill"] < 0.0).sum(-1)
    np.testing.assert_array_equal(a.lifted, np.where(ok, below, 0))
    np.testing.assert_array_equal(a.worse_off[~ok], no_floor.worse_off[~ok])


def test_the_worked_example():
    ex = EXAMPLE
    args = (ex["net"], ex["bill"], ex["price"], ex["network"], ex["taxes"], ex["discount"])
    values = {s: _value(s, *args) for s in [(0,), (1,), (2,), (0, 1), (0, 2), (1, 2), (0, 1, 2)]}
    assert values == {(0,): 100, (1,): 10, (2,): 30, (0, 1): 140, (0, 2): 190, (1, 2): 40,
                      (0, 1, 2): 200}  # fmt: skip
    assert _cost(ex["net"], *args[2:]) == -20.0
    one = (np.array([ex["net"]]), np.array([ex["bill"]]), np.array([ex["assets"]]),
           np.array([ex["price"]]))  # fmt: skip
    kw = dict(network_eur_per_mwh=60.0, taxes_eur_per_mwh=10.0, discount=0.5)
    expected = {"proportional": [-220, 70, 210], "marginal": [-200, 60, 200],
                "shapley": [-205, 65, 200]}  # fmt: skip
    for rule, alloc in expected.items():
        a = allocate(np.array([60.0]), *one, **kw, rule=rule)
        np.testing.assert_allclose(a.alloc_eur[0], alloc, atol=1e-9)
        assert a.worse_off[0] == 0.0 and a.lifted[0] == 0.0
    a = allocate(np.array([-80.0]), *one, **kw, rule="shapley")
    np.testing.assert_allclose(a.alloc_eur[0], [-240, 40, 120], atol=1e-9)
    assert (a.worse_off[0], a.lifted[0]) == (0.0, 2.0)
    a = allocate(np.array([-80.0]), *one, **kw, rule="shapley", ir_floor=False)
    np.testing.assert_allclose(a.alloc_eur[0], [-205, 30, 95], atol=1e-9)
    assert (a.worse_off[0], a.lifted[0]) == (2.0, 0.0)
    assert doctest.testmod(allocation).failed == 0


def test_without_a_discount_each_member_pays_its_own_position():
    """No netting discount: the game is additive, so every rule charges each member its
    own position and shares only the remainder (here by assets)."""
    net = np.array([[2.0, -1.0, -3.0]])
    for rule in ALLOCATION_RULES:
        a = allocate(np.array([100.0]), net, np.array([[9.0, 1.0, 5.0]]),
                     np.array([[0.0, 1.0, 1.0]]), np.array([50.0]), network_eur_per_mwh=60.0,
                     taxes_eur_per_mwh=10.0, rule=rule, ir_floor=False)  # fmt: skip
        own = np.array([50.0 * 2 + 70.0 * 2, -50.0, -150.0])
        remainder = 100.0 + own.sum()
        np.testing.assert_allclose(a.alloc_eur[0], -own + remainder * np.array([0, 0.5, 0.5]))


def test_the_reserve_is_paid_to_the_batteries_that_back_it_this_hour():
    """The worked example's 40 EUR of reserve payments: with both batteries full they back
    it 1:3 like their assets; with member 2's battery empty this hour, member 3 alone backs
    it and gets all 40 EUR (DESIGN §3 step 5), under every rule; the rest of the remainder
    still goes by assets, and the allocations still sum to the result."""
    ex = EXAMPLE
    one = (np.array([ex["net"]]), np.array([ex["bill"]]), np.array([ex["assets"]]),
           np.array([ex["price"]]))  # fmt: skip
    kw = dict(network_eur_per_mwh=60.0, taxes_eur_per_mwh=10.0, discount=0.5, ir_floor=False)
    for rule in ALLOCATION_RULES:
        by_assets = allocate(np.array([60.0]), *one, **kw, rule=rule).alloc_eur[0]
        full = allocate(np.array([60.0]), *one, **kw, rule=rule, backed_eur=40.0,
                        backing_mw=np.array([[0.0, 1.0, 3.0]])).alloc_eur[0]  # fmt: skip
        np.testing.assert_allclose(full, by_assets, atol=1e-9)
        empty = allocate(np.array([60.0]), *one, **kw, rule=rule, backed_eur=40.0,
                         backing_mw=np.array([[0.0, 0.0, 2.0]])).alloc_eur[0]  # fmt: skip
        np.testing.assert_allclose(empty - by_assets, [0.0, -10.0, 10.0], atol=1e-9)
        # A 100 EUR non-delivery penalty in a 100 EUR remainder: 200 by assets, -100 by backing.
        pen = allocate(np.array([120.0]), *one, **kw, rule=rule, backed_eur=-100.0,
                       backing_mw=np.array([[0.0, 0.0, 2.0]])).alloc_eur[0]  # fmt: skip
        base = allocate(np.array([120.0]), *one, **kw, rule=rule).alloc_eur[0]
        np.testing.assert_allclose(pen - base, [0.0, 25.0, -25.0], atol=1e-9)
        assert pen.sum() == pytest.approx(120.0)


def test_bad_inputs_name_the_field():
    one = (np.array([1.0]), np.ones((1, 2)), np.ones((1, 2)), np.ones((1, 2)), np.array([1.0]))
    kw = dict(network_eur_per_mwh=1.0, taxes_eur_per_mwh=1.0)
    with pytest.raises(ValueError, match=re.escape("coalition.allocation='nash'")):
        allocate(*one, **kw, rule="nash")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bill_eur has shape"):
        allocate(one[0], one[1], np.ones((1, 3)), *one[3:], **kw)
    with pytest.raises(ValueError, match=re.escape("assets_mw has -1.0 MW")):
        allocate(*one[:3], -np.ones((1, 2)), one[4], **kw)
    with pytest.raises(ValueError, match=re.escape("backing_mw has -1.0 MW")):
        allocate(*one, **kw, backing_mw=-np.ones((1, 2)))
    with pytest.raises(ValueError, match="backing_mw has shape"):
        allocate(*one, **kw, backing_mw=np.ones((1, 3)))
    with pytest.raises(ValueError, match="permutations has shape"):
        allocate(*one, **kw, rule="shapley", permutations=np.zeros((4, 3), int))
