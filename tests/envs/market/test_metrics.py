"""Market-power indices (envs/market/metrics.py) on hand-worked books, and their bounds.

Each book is cleared by the real spot auction (``clear_spot``) and the accepted MW are
also checked against the hand-worked merit order, so the indices are read off the same
book a reader can follow line by line.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envs.market import clear_spot
from envs.market.metrics import market_power, markup_over_competitive, rerun_price_row

FLOOR, CAP = -500.0, 3000.0
REN = -1  # owner of a block of no incumbent


def _book(blocks, demand_mw, mc, cap, other_mw):
    """Clear ``blocks`` [(MW, EUR/MWh, owner)] against inelastic demand; return the clearing
    and the indices."""
    q = np.array([[b[0] for b in blocks]], float)
    p = np.array([[b[1] for b in blocks]], float)
    unit = np.array([[b[2] for b in blocks]], np.int64)
    r = clear_spot(
        q,
        p,
        np.array([[demand_mw]]),
        np.array([[CAP]]),
        price_floor_eur_per_mwh=FLOOR,
        price_cap_eur_per_mwh=CAP,
    )
    m = market_power(
        r.price_eur_per_mwh,
        p,
        r.supply_mw,
        unit,
        np.array([mc], float),
        np.array([cap], float),
        np.array([demand_mw]),
        np.array([other_mw]),
    )
    return r, m


# The fleet of the first two books: A lignite (mc 30, 100 MW, 40 MW must-run), B CCGT
# (mc 60, 200 MW), C peaker (mc 120, 100 MW, 20 MW must-run); 50 MW of renewables at 0.
MC = [30.0, 60.0, 120.0]
CAPS = [100.0, 200.0, 100.0]


def test_competitive_book_with_must_run_has_zero_lerner_and_markups():
    """Every unit offers at cost, must-run output at the floor (Lerner 1934: L = 0 under
    marginal-cost pricing). Demand 300 MW.

    Merit order: floors A 40 + C 20 (60), renewables 50 (110), A 60 @ 30 (170),
    B 130 of 200 @ 60 (300). Price 60, set by B (mc 60): L = 0, setter markup 0. The
    must-run blocks offered at -500 count at cost: energy-weighted markup 0. (The kernel's
    old index took the costliest *dispatched* unit, C at 120: (60 - 120) / 60 = -1.)
    HHI on A 100, B 130, C 20 of 250 MW: 40^2 + 52^2 + 8^2 = 4368.
    RSI = (400 - 200 + 50) / 300 = 0.8333; only B is pivotal (400 - 200 + 50 < 300).
    """
    blocks = [(40, FLOOR, 0), (60, 30, 0), (200, 60, 1), (20, FLOOR, 2), (80, 120, 2), (50, 0, REN)]
    r, m = _book(blocks, 300.0, MC, CAPS, 50.0)
    assert r.price_eur_per_mwh[0] == 60.0
    np.testing.assert_allclose(r.supply_mw[0], [40, 60, 130, 20, 0, 50])
    assert m.lerner[0] == 0.0
    assert m.markup_setter[0] == 0.0
    assert m.markup_energy_weighted[0] == 0.0
    assert m.hhi[0] == pytest.approx(4368.0)
    assert m.rsi[0] == pytest.approx(250.0 / 300.0)
    assert m.n_pivotal[0] == 1


def test_withholding_book_setter_marks_up():
    """B withholds 50 MW and offers the rest at 90 (mc 60); demand 300 MW.

    Merit order: floors 60, renewables 50, A 60 @ 30 (170), B 130 of 150 @ 90 (300).
    Price 90 set by B: L = (90 - 60) / 90 = 1/3, setter markup (90 - 60) / 60 = 0.5.
    Energy-weighted markup: rent 130 * 30 = 3900 over cost A 100 * 30 + B 130 * 60
    + C 20 * 120 = 13200, so 0.29545...; A's inframarginal rent (90 - 30) is not markup.
    """
    blocks = [(40, FLOOR, 0), (60, 30, 0), (150, 90, 1), (20, FLOOR, 2), (80, 120, 2), (50, 0, REN)]
    r, m = _book(blocks, 300.0, MC, CAPS, 50.0)
    assert r.price_eur_per_mwh[0] == 90.0
    np.testing.assert_allclose(r.supply_mw[0], [40, 60, 130, 20, 0, 50])
    assert m.lerner[0] == pytest.approx(1.0 / 3.0)
    assert m.markup_setter[0] == pytest.approx(0.5)
    assert m.markup_energy_weighted[0] == pytest.approx(3900.0 / 13200.0)


def test_renewables_set_the_price():
    """350 MW of renewables (or the coalition's sales) offered at 5 cover all but A's
    must-run 40 MW of a 300 MW demand: the price 5 is set by a block of no incumbent,
    so L = 0 and the setter markup is 0 (not (5 - 30) / 5 = -5 from A's cost)."""
    blocks = [(40, FLOOR, 0), (60, 30, 0), (200, 60, 1), (350, 5.0, REN)]
    r, m = _book(blocks, 300.0, MC[:2], CAPS[:2], 350.0)
    assert r.price_eur_per_mwh[0] == 5.0
    np.testing.assert_allclose(r.supply_mw[0], [40, 0, 0, 260])
    assert (m.lerner[0], m.markup_setter[0], m.markup_energy_weighted[0]) == (0.0, 0.0, 0.0)
    assert m.hhi[0] == 10_000.0  # A alone sells


def test_demand_bid_sets_price_on_vertical_step():
    """Kirschen & Strbac §5.3: 350 MW at the cap and 100 MW bid at 70; A and B offer
    100 + 250 MW at <= 60, so 350 MW trade and the 70 EUR bid sets the price above every
    accepted offer: no incumbent sets it, L = 0."""
    q, p = np.array([[100.0, 250.0]]), np.array([[30.0, 60.0]])
    r = clear_spot(
        q,
        p,
        np.array([[350.0, 100.0]]),
        np.array([[CAP, 70.0]]),
        price_floor_eur_per_mwh=FLOOR,
        price_cap_eur_per_mwh=CAP,
    )
    assert r.price_eur_per_mwh[0] == 70.0
    m = market_power(
        r.price_eur_per_mwh,
        p,
        r.supply_mw,
        np.array([[0, 1]]),
        np.array([[30.0, 60.0]]),
        np.array([[100.0, 250.0]]),
        np.array([350.0]),
        np.array([0.0]),
    )
    assert m.lerner[0] == 0.0 and m.markup_setter[0] == 0.0


def test_tie_at_the_margin_takes_the_costliest_setter():
    """Two units offer at 60 and share the margin pro rata (EUPHEMIA); one costs 60, the
    other 40. The setter is the costlier (whose cost must be covered at the margin):
    L = 0, not (60 - 40) / 60, whichever block is listed first."""
    for mc in ([60.0, 40.0], [40.0, 60.0]):
        m = market_power(
            np.array([60.0]),
            np.array([[60.0, 60.0]]),
            np.array([[50.0, 50.0]]),
            np.array([[0, 1]]),
            np.array([mc]),
            np.array([[100.0, 100.0]]),
            np.array([100.0]),
            np.array([0.0]),
        )
        assert m.lerner[0] == 0.0 and m.markup_setter[0] == 0.0
        assert m.markup_energy_weighted[0] == pytest.approx(50 * 20 / (50 * 60 + 50 * 40))


def test_non_positive_price_gives_zero_lerner():
    """At a price <= 0 the Lerner index is 0 by definition (undefined at 0, sign-inverted
    below); the setter's markup is still its offer against cost: (-10 - 30) / 30."""
    m = market_power(
        np.array([-10.0]),
        np.array([[-10.0]]),
        np.array([[50.0]]),
        np.array([[0]]),
        np.array([[30.0]]),
        np.array([[100.0]]),
        np.array([50.0]),
        np.array([0.0]),
    )
    assert m.lerner[0] == 0.0
    assert m.markup_setter[0] == pytest.approx(-40.0 / 30.0)
    assert m.markup_energy_weighted[0] == 0.0  # below cost counts at cost


@pytest.mark.parametrize(("demand", "n_pivotal"), [(800.0, 1), (900.0, 2), (1100.0, 4)])
def test_pivotal_count_and_hhi_by_hand(demand, n_pivotal):
    """Units of 400, 300, 200, 100 MW and 100 MW of other supply (Sheffrin 2002; PJM's
    pivotal test counts a supplier pivotal when the rest cannot meet demand).

    Without unit g the rest offers 1100 - K_g = 700, 800, 900, 1000 MW. Demand 800: only
    the 400 MW unit is pivotal (800 is not < 800); demand 900: 400 and 300; demand 1100:
    all four. RSI = 700 / D. Accepted 400, 300, 200, 100: HHI 40^2 + 30^2 + 20^2 + 10^2
    = 3000 (DOJ/FTC guidelines: "moderately concentrated" is 1500-2500, above is high).
    """
    caps = np.array([[400.0, 300.0, 200.0, 100.0]])
    m = market_power(
        np.array([50.0]),
        np.full((1, 4), 50.0),
        caps,
        np.array([[0, 1, 2, 3]]),
        np.full((1, 4), 50.0),
        caps,
        np.array([demand]),
        np.array([100.0]),
    )
    assert m.n_pivotal[0] == n_pivotal
    assert m.rsi[0] == pytest.approx(700.0 / demand)
    assert m.hhi[0] == pytest.approx(3000.0)


def test_bad_input_names_the_field():
    ok = dict(
        price_eur_per_mwh=np.array([50.0]),
        blk_p_eur_per_mwh=np.array([[50.0]]),
        blk_acc_mw=np.array([[10.0]]),
        blk_unit=np.array([[0]]),
        mc_eur_per_mwh=np.array([[40.0]]),
        cap_avail_mw=np.array([[100.0]]),
        demand_mw=np.array([10.0]),
        other_supply_mw=np.array([0.0]),
    )
    market_power(**ok)
    with pytest.raises(ValueError, match=r"blk_unit holds 3\.\.3"):
        market_power(**(ok | {"blk_unit": np.array([[3]])}))
    with pytest.raises(ValueError, match=r"blk_acc_mw has shape \(1, 2\)"):
        market_power(**(ok | {"blk_acc_mw": np.array([[1.0, 2.0]])}))
    with pytest.raises(ValueError, match="demand_mw holds NaN"):
        market_power(**(ok | {"demand_mw": np.array([np.nan])}))


@st.composite
def _books(draw):
    """Random books: G units with one or two blocks each (must-run at the floor some of
    the time), a renewable block, inelastic demand; cleared by clear_spot."""
    g_n = draw(st.integers(1, 5))
    mc = np.array(draw(st.lists(st.floats(0.0, 200.0), min_size=g_n, max_size=g_n)))
    cap = np.array(draw(st.lists(st.floats(1.0, 500.0), min_size=g_n, max_size=g_n)))
    q, p, unit = [], [], []
    for g in range(g_n):
        must = draw(st.floats(0.0, 0.5)) * cap[g]
        markup = draw(st.floats(0.0, 3.0))
        q += [must, cap[g] - must]
        p += [FLOOR, mc[g] * (1.0 + markup)]
        unit += [g, g]
    ren = draw(st.floats(0.0, 300.0))
    q.append(ren), p.append(draw(st.floats(-50.0, 100.0))), unit.append(REN)
    demand = draw(st.floats(1.0, 1.5 * (cap.sum() + ren)))
    return (
        np.array([q]),
        np.array([p]),
        np.array([unit], np.int64),
        mc[None],
        cap[None],
        demand,
        ren,
    )


@settings(max_examples=150, deadline=None)
@given(_books())
def test_property_bounds(book):
    """HHI in [1e4 / G_dispatched, 1e4] (equal shares give the floor), pivotal count in
    [0, G], Lerner <= 1 at a positive price with costs >= 0, energy-weighted markup >= 0,
    and the batched wrapper equals each row alone."""
    q, p, unit, mc, cap, demand, ren = book
    r = clear_spot(
        q,
        p,
        np.array([[demand]]),
        np.array([[CAP]]),
        price_floor_eur_per_mwh=FLOOR,
        price_cap_eur_per_mwh=CAP,
    )
    m = market_power(
        r.price_eur_per_mwh,
        np.clip(p, FLOOR, CAP),
        r.supply_mw,
        unit,
        mc,
        cap,
        np.array([demand]),
        np.array([ren]),
    )
    g_n = mc.shape[1]
    sold = np.bincount(unit[0][unit[0] >= 0], r.supply_mw[0][unit[0] >= 0], minlength=g_n)
    n_disp = int((sold > 1e-9).sum())
    if n_disp:
        assert 1e4 / n_disp - 1e-6 <= m.hhi[0] <= 1e4 + 1e-6
    else:
        assert m.hhi[0] == 0.0
    assert 0 <= m.n_pivotal[0] <= g_n
    assert m.lerner[0] <= 1.0 + 1e-12
    assert m.markup_energy_weighted[0] >= 0.0
    # Pivotal units: exactly those whose removal leaves supply short.
    assert m.n_pivotal[0] == int((cap.sum() - cap[0] + ren < demand - 1e-9).sum())
    # Two copies stacked clear as each alone.
    two = market_power(
        np.repeat(r.price_eur_per_mwh, 2),
        np.repeat(np.clip(p, FLOOR, CAP), 2, 0),
        np.repeat(r.supply_mw, 2, 0),
        np.repeat(unit, 2, 0),
        np.repeat(mc, 2, 0),
        np.repeat(cap, 2, 0),
        np.full(2, demand),
        np.full(2, ren),
    )
    np.testing.assert_array_equal(two.hhi, [m.hhi[0]] * 2)
    np.testing.assert_array_equal(two.lerner, [m.lerner[0]] * 2)


def _two_unit_book(withhold_a: float, markup_a: float):
    """A (100 MW, mc 20) and B (100 MW, mc 50), no must-run, one priced tranche each, in the
    step's block layout (unit g's tranche k at 2g + k; then renewables and the coalition's
    sale, both 0 MW); 90 MW of inelastic demand."""
    sq = np.array([0.0, 100.0 * (1.0 - withhold_a), 0.0, 100.0, 0.0, 0.0])
    sp = np.array([FLOOR, 20.0 * (1.0 + markup_a), FLOOR, 50.0, 0.0, 0.0])
    dq, dp = np.array([90.0]), np.array([CAP])
    price = clear_spot(sq[None], sp[None], dq[None], dp[None], price_floor_eur_per_mwh=FLOOR,
                       price_cap_eur_per_mwh=CAP).price_eur_per_mwh[0]  # fmt: skip
    return sq, sp, dq, dp, float(price)


def _competitive(sq, sp, dq, dp):
    """All of both units' 100 MW at cost, the other blocks as offered."""
    mc = np.array([20.0, 50.0])
    before = (sq.copy(), sp.copy())
    p_c = rerun_price_row(sq, sp, 1, np.zeros(2), np.full(2, 100.0), mc, True, dq, dp, FLOOR,
                          CAP)  # fmt: skip
    np.testing.assert_array_equal(sq, before[0])  # the real book is not touched
    np.testing.assert_array_equal(sp, before[1])
    return p_c


def test_withholding_raises_the_price_over_the_competitive_rerun():
    """A withholds half its 100 MW and offers the rest at cost: 50 MW at 20, then B at 50
    sets the price (50) for the last 40 MW; A's offer markup and the Lerner index at B (mc
    50) are both 0. With all of A's 100 MW at cost, A alone covers the 90 MW at 20: the
    markup over the competitive price is (50 - 20) / 20 = 1.5."""
    sq, sp, dq, dp, price = _two_unit_book(withhold_a=0.5, markup_a=0.0)
    assert price == 50.0
    p_c = _competitive(sq, sp, dq, dp)
    assert p_c == 20.0
    assert markup_over_competitive(price, p_c) == pytest.approx(1.5)
    # Rebuilt as offered (A's 50 MW), the rerun reproduces the real clearing.
    offered = rerun_price_row(sq, sp, 1, np.zeros(2), np.array([50.0, 100.0]),
                              np.array([20.0, 50.0]), False, dq, dp, FLOOR, CAP)  # fmt: skip
    assert offered == price


def test_at_cost_without_withholding_the_markup_over_competitive_is_zero():
    sq, sp, dq, dp, price = _two_unit_book(withhold_a=0.0, markup_a=0.0)
    assert price == 20.0
    assert markup_over_competitive(price, _competitive(sq, sp, dq, dp)) == 0.0
    # An offer markup alone shows too: A at 30 sets the price, (30 - 20) / 20.
    sq, sp, dq, dp, price = _two_unit_book(withhold_a=0.0, markup_a=0.5)
    assert markup_over_competitive(price, _competitive(sq, sp, dq, dp)) == pytest.approx(0.5)
    # The divisor is floored at 1 EUR/MWh and taken in absolute value.
    assert markup_over_competitive(10.0, 0.5) == 9.5
    assert markup_over_competitive(-40.0, -50.0) == pytest.approx(0.2)


def _week_markup(scenario: str) -> np.ndarray:
    import envs
    from evaluation.episode import build_policy, run_episode

    env = envs.make("multimarket_v1", scenario=scenario, days=7)
    return run_episode(env, build_policy("rule"), 1000).record.price_markup_competitive.to_numpy()


def test_strategic_incumbents_price_above_the_competitive_rerun_over_a_week():
    """The scripted pivotal withholding (fleet.strategy: withholding) offers at cost, so the
    Lerner index and the offer markup read 0; the competitive rerun shows the price it
    adds. Scripted competitive bids (``default``) read exactly 0 every hour."""
    strategic = _week_markup("strategic_incumbents")
    assert strategic.mean() > 0.0 and (strategic >= -1e-12).all()
    np.testing.assert_array_equal(_week_markup("default"), 0.0)
