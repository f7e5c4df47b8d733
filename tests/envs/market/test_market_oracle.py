"""The compiled market rules equal an independent numpy statement of them.

``envs/market`` states each rule once, compiled (the simulator's step and the public
``envs.market`` API both run it); ``tests/envs/market/market_oracle.py`` is a separately written
vectorised numpy version kept only as a test oracle. These properties pin the two
together on random books (STYLE §7), and a whole episode is checked against
hand-computable invariants in ``test_envs.py``.
"""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from envs.market import VrrCurve, clear_capacity, clear_reserve, clear_spot, vrr_price
from tests.envs.market import market_oracle as oracle

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


@given(curves(), st.booleans(), st.integers(1, 3))
def test_clear_spot_equals_the_oracle(c, pay_as_bid, batch):
    sq, sp, dq, dp = (np.repeat(a[None], batch, 0) for a in c)
    kw = dict(price_floor_eur_per_mwh=FLOOR, price_cap_eur_per_mwh=CAP,
              pricing="pay_as_bid" if pay_as_bid else "uniform")  # fmt: skip
    got, ref = clear_spot(sq, sp, dq, dp, **kw), oracle.clear_spot(sq, sp, dq, dp, **kw)
    for name in ("supply_mw", "demand_mw", "supply_price_eur_per_mwh", "price_eur_per_mwh",
                 "demand_price_eur_per_mwh", "unserved_mw"):  # fmt: skip
        np.testing.assert_allclose(getattr(got, name), getattr(ref, name), atol=1e-9, err_msg=name)


@given(st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_clear_reserve_and_capacity_equal_the_oracle(n, seed):
    rng = np.random.default_rng(seed)
    q, p = rng.uniform(0, 50, (2, n)), rng.integers(0, 6, (2, n)) * 4.0  # ties on purpose
    req, target = rng.uniform(0, 200, 2), rng.uniform(0, 200, 2)
    got = clear_reserve(q, p, req, scarcity_price_eur_per_mw=15.0)
    ref = oracle.clear_reserve(q, p, req, scarcity_price_eur_per_mw=15.0)
    np.testing.assert_allclose(got.award_mw, ref.award_mw, atol=1e-9)
    np.testing.assert_allclose(got.price_eur_per_mw, ref.price_eur_per_mw)
    np.testing.assert_allclose(got.shortfall_mw, ref.shortfall_mw, atol=1e-9)
    kw = dict(curve=VrrCurve(300.0, 0.95, 280.0, 1.03, 150.0, 1.10, 20.0))
    got_c = clear_capacity(q, p * 20, target, **kw)
    ref_c = oracle.clear_capacity(q, p * 20, target, **kw)
    np.testing.assert_allclose(got_c.award_mw, ref_c.award_mw, atol=1e-9)
    np.testing.assert_allclose(got_c.price_eur_per_mw_day, ref_c.price_eur_per_mw_day, atol=1e-9)
    np.testing.assert_allclose(got_c.cleared_mw, ref_c.cleared_mw, atol=1e-9)
    np.testing.assert_allclose(vrr_price(q, target[:, None], **kw),
                               oracle.vrr_price(q, target[:, None], **kw), atol=1e-9)  # fmt: skip
