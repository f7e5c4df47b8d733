"""The MPC's plan of large coalitions by persona (agents.mpc.persona_groups): the virtual
members' sums, the split of their set-points back to members, and the LP's objective
against the member-by-member LP on the same inputs."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import agents
import envs
from agents.mpc import AGGREGATE_ABOVE, persona_groups, split_by_headroom


def _members(**kw):
    base = dict(persona=("a", "b", "a"), battery_mw=np.array([1.0, 2.0, 3.0]),
                battery_mwh=np.array([2.0, 4.0, 6.0]), eta=np.array([0.9, 0.95, 0.9]),
                flex_mw=np.array([0.5, 0.0, 1.5]), flex_mwh=np.array([2.0, 0.0, 6.0]))  # fmt: skip
    return SimpleNamespace(**(base | kw))


def test_persona_groups_sum_each_personas_members_and_keep_small_coalitions_exact():
    m = _members()
    groups, v = persona_groups(m, "persona")
    assert groups.tolist() == [0, 1, 0]
    np.testing.assert_array_equal(v.battery_mw, [4.0, 2.0])
    np.testing.assert_array_equal(v.battery_mwh, [8.0, 4.0])
    np.testing.assert_array_equal(v.flex_mwh, [8.0, 0.0])
    np.testing.assert_array_equal(v.eta, [0.9, 0.95])
    # auto: member by member up to AGGREGATE_ABOVE members
    assert persona_groups(m, "auto") == (None, m)
    n = AGGREGATE_ABOVE + 1
    big = _members(persona=("a",) * n, **{f: np.ones(n) for f in (
        "battery_mw", "battery_mwh", "eta", "flex_mw", "flex_mwh")})  # fmt: skip
    assert persona_groups(big, "auto")[0] is not None
    with pytest.raises(ValueError, match="aggregate='members'"):
        agents.load("mpc", aggregate="members")


def test_split_gives_a_groups_charge_to_the_members_with_room():
    m = _members(persona=("a", "a", "a"), flex_mw=np.zeros(3), flex_mwh=np.zeros(3))
    # Member 0 is full, member 1 half full, member 2 empty: 3 MW of charging for the group.
    soc = np.array([2.0, 2.0, 0.0])
    batt, flex = split_by_headroom(np.zeros(3, np.int64), np.array([3.0]), np.zeros(1), m,
                                   soc, np.zeros(3))  # fmt: skip
    assert batt[0] == 0.0  # no room
    # Room: member 1 min(2, 2 / 0.9) = 2 MW, member 2 min(3, 6 / 0.9) = 3 MW; 3 MW split 2:3.
    np.testing.assert_allclose(batt[1:], [1.2, 1.8])
    assert batt.sum() == pytest.approx(3.0) and not flex.any()
    # Discharging 1 MW: by the energy each can deliver (member 2 has none).
    batt, _ = split_by_headroom(np.zeros(3, np.int64), np.array([-1.0]), np.zeros(1), m, soc,
                                np.zeros(3))  # fmt: skip
    assert batt[2] == 0.0 and batt.sum() == pytest.approx(-1.0)


def test_the_persona_lp_plans_the_same_objective_as_the_member_lp_to_half_a_percent():
    """The issue's bar: the aggregated LP's objective within 0.5% of the member-by-member
    LP's on the same inputs (measured: within 0.01% over a day of large_coalition)."""
    env = envs.make("multimarket_v1", scenario="large_coalition", days=1)
    mono, agg = agents.load("mpc", aggregate="none"), agents.load("mpc", aggregate="persona")
    obs, _ = env.reset(seed=1000)
    mono.reset(env, seed=1000)
    agg.reset(env, seed=1000)
    assert agg.lp.N == 7 and mono.lp.N == 200
    for _ in range(3):
        actions = mono.act(obs)
        agg.act(obs)
        o_mono = mono.lp.h.getInfo().objective_function_value
        o_agg = agg.lp.h.getInfo().objective_function_value
        assert o_agg == pytest.approx(o_mono, rel=5e-3)
        obs, *_ = env.step(actions)
