"""The coalition's action codec: the encoders are the inverse of the step's decoder."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import envs
from envs.actors import coalition as cc

CODEC = cc.CoalitionCodec(q_max_mw=50.0, price_floor_eur_per_mwh=-500.0,
                          price_cap_eur_per_mwh=3000.0, reserve_max_mw=8.0,
                          reserve_price_max_eur_per_mw=1000.0, firm_mw=6.0,
                          capacity_price_max_eur_per_mw_day=400.0, reserve=True,
                          capacity=True)  # fmt: skip


@given(st.floats(-50.0, 50.0), st.floats(0.0, 8.0), st.floats(0.0, 1.0),
       st.floats(-500.0, 3000.0))  # fmt: skip
def test_decode_inverts_the_encoders(net_mw, reserve_mw, share, limit):
    q, p = cc.spot_entries(net_mw, CODEC.q_max_mw)
    a = np.array([q, cc.price_entry(limit, -500.0, 3000.0), cc.reserve_entry(reserve_mw, [8.0]),
                  -1.0, cc.capacity_entry(share), -1.0])  # fmt: skip
    bid = cc.decode(a, CODEC)
    assert np.isclose(bid["spot_mw"][0], net_mw, atol=1e-9)
    assert np.isclose(bid["spot_price_eur_per_mwh"][0], limit, rtol=1e-9, atol=1e-6)
    assert np.isclose(bid["reserve_mw"][0], reserve_mw, atol=1e-9)
    assert bid["reserve_price_eur_per_mw"][0] == 0.0
    assert np.isclose(bid["capacity_mw"][0], share * 6.0, atol=1e-9)
    assert bid["capacity_price_eur_per_mw_day"][0] == 0.0
    # A price-taker buys at the cap and sells at the floor.
    taker = cc.decode(np.array([q, p, -1.0, -1.0, -1.0, -1.0]), CODEC)
    assert taker["spot_price_eur_per_mwh"][0] == (3000.0 if net_mw >= 0 else -500.0)


def test_the_env_layout_is_the_codecs_slots():
    for scenario, n in (("default", 6), ("no_capacity_market", 4)):
        env = envs.make("multimarket_v1", scenario, days=1)
        lay = env.core.layout
        assert lay.coalition == n == len(cc.slots(lay.reserve, lay.capacity, lay.drives_members))
        assert env.action_space("coalition_0").shape == (n,)
