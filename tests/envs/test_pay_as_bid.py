"""Pay-as-bid spot pricing (``spot.pricing: pay_as_bid``): one rule, stated once.

The payment rule is :func:`envs.market.spot.pay_row`, which both the spot auction
(:func:`envs.market.spot.clear_spot_row`) and the step's day-ahead phase after the
co-optimised clearing (:func:`envs.sim.clearing.day_ahead_phase`) call. Checked by hand at
the rule, then in the env: every accepted block of the step's day-ahead book is paid its
own offer in the ledger, and buyers pay what sellers receive (the operator keeps nothing).
"""

from __future__ import annotations

import numpy as np
import pytest

from envs.config.scenario import load_scenario
from envs.market.settlement import M_SPOT
from envs.market.spot import pay_row, unserved_row
from envs.sim import scripted
from envs.sim.build import build_core
from envs.sim.core import MarketCore

FLOOR, CAP = -500.0, 3000.0


def test_pay_row_pays_each_accepted_block_its_own_offer_by_hand():
    """Blocks offered at 20, 12, 30, 3500 (read as the cap) and -600 (read as the floor);
    100, 200, 50, 0 and 10 MW accepted, clearing price 30. Pay-as-bid: each accepted
    block gets its own (clipped) offer, the unaccepted one the clearing price; buyers
    pay (100*20 + 200*12 + 50*30 + 10*(-500)) / 360 = 900 / 360 = 2.5 EUR/MWh."""
    sp = np.array([20.0, 12.0, 30.0, 3500.0, -600.0])
    acc = np.array([100.0, 200.0, 50.0, 0.0, 10.0])
    paid = np.empty(5)
    assert pay_row(sp, acc, 30.0, FLOOR, CAP, True, paid) == 2.5
    assert paid.tolist() == [20.0, 12.0, 30.0, 30.0, -500.0]
    assert (acc * paid).sum() == 2.5 * acc.sum()  # the buyers pay what the sellers get
    # Uniform pricing: everyone at the clearing price.
    assert pay_row(sp, acc, 30.0, FLOOR, CAP, False, paid) == 30.0
    assert paid.tolist() == [30.0] * 5
    # Nothing traded: buyers face the clearing price.
    assert pay_row(sp, np.zeros(5), 30.0, FLOOR, CAP, True, paid) == 30.0


def test_unserved_row_counts_the_first_n_bids_at_the_cap():
    dq, dp = np.array([100.0, 50.0, 40.0, 30.0]), np.array([CAP, 200.0, CAP + 1.0, CAP])
    d_acc = np.array([60.0, 0.0, 40.0, 10.0])
    assert unserved_row(dq, dp, d_acc, CAP, 4) == 40.0 + 20.0  # 200 EUR/MWh: elastic
    assert unserved_row(dq, dp, d_acc, CAP, 3) == 40.0  # the last bid left out


def _core(pricing: str, reserve: bool) -> MarketCore:
    overrides = {"spot.pricing": pricing}
    if not reserve:  # spot_v1's markets: the spot auction alone (clear_spot_row)
        overrides |= {"reserve.enabled": False, "capacity.enabled": False}
    core = build_core(load_scenario("default", overrides=overrides, days=1), 3)
    core.reset(np.random.default_rng(3))
    return core


@pytest.mark.parametrize("reserve", [True, False], ids=["cooptimised", "spot_alone"])
@pytest.mark.parametrize("pricing", ["pay_as_bid", "uniform"])
def test_env_pays_each_accepted_block_its_own_offer_and_balances(pricing, reserve):
    core = _core(pricing, reserve)
    a_c, a_m = scripted.coalition_actions(core), scripted.member_actions(core)
    col, G = core.settlement.cols, core.dims.G
    traded_above_price = 0
    for t in range(24):
        book = core.day_ahead_book(a_c)
        core.step(a_c, a_m, None)
        cash = core.ledger.cash[t, :, M_SPOT]  # (E, P) EUR
        acc, offer = book["supply_acc"], np.clip(book["supply_p"], FLOOR, CAP)
        own = offer if pricing == "pay_as_bid" else book["price"][:, None]
        paid = np.where(acc > 0.0, acc * own, 0.0)  # (E, S) EUR to each block
        unit = book["supply_unit"]
        for g in range(G):
            np.testing.assert_allclose(cash[:, g], paid[:, unit == g].sum(1), rtol=1e-12,
                                       atol=1e-9)  # fmt: skip
        np.testing.assert_allclose(cash[:, col.renewables], paid[:, -2], rtol=1e-12, atol=1e-9)
        # Buyers pay what sellers receive: the operator keeps no surplus.
        np.testing.assert_allclose(cash[:, col.operator], 0.0, atol=1e-6)
        traded_above_price += int(((acc > 1e-6) & (offer < book["price"][:, None] - 1e-6)).sum())
    assert traded_above_price > 0  # inframarginal blocks traded: pay-as-bid paid them less
