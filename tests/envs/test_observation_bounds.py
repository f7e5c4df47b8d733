"""Observations stay in their spaces for every valid config, never alias the env's state,
and a refused action leaves every view usable (issue 18 item 3).

The property test draws scenario sizes and prices log-uniformly across their stated
bounds (:mod:`envs.config.scenario`), so a scale fixed for the default scenario (800 MW of
system load, a 3000 EUR/MWh cap) meets systems a thousand times smaller or larger.
Then one test per failure the issue names, and a fuzz of bad actions on the three views.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import envs
from envs.errors import ActionError, ConfigError
from envs.sim import observe


def _log_uniform(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(math.log(low), math.log(high)).map(math.exp)


#: Scale-setting fields and the range drawn for each (inside the field's bounds).
SCALE_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "background.peak_load_mw": _log_uniform(0.1, 1e5),
    "background.solar_mw": st.one_of(st.just(0.0), _log_uniform(1.0, 1e5)),
    "background.wind_mw": st.one_of(st.just(0.0), _log_uniform(1.0, 1e5)),
    "members.size_scale": _log_uniform(1e-3, 1e3),
    "members.personas.residential.pv_mw": _log_uniform(1e-3, 1e2),
    "members.personas.commercial.battery_mwh": _log_uniform(1e-3, 1e2),
    "spot.price_cap_eur_per_mwh": _log_uniform(300.0, 1e5),
    "spot.price_floor_eur_per_mwh": st.floats(-1e5, 0.0),
    "reserve.scarcity_price_eur_per_mw": _log_uniform(1e-2, 1e5),
    "capacity.price_cap_eur_per_mw_day": _log_uniform(1e-2, 1e5),
}


def _assert_inside(env: Any, obs: dict[str, np.ndarray], where: str) -> None:
    for agent, o in obs.items():
        space = env.observation_space(agent)
        assert np.isfinite(o).all(), f"{where}: {agent} has non-finite features"
        assert space.contains(o), (
            f"{where}: {agent} leaves {space} at features "
            f"{np.flatnonzero((o < space.low) | (o > space.high)).tolist()}"
        )
    assert env.state_space.contains(env.state()), f"{where}: state leaves its space"


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.fixed_dictionaries({}, optional=SCALE_FIELDS),
    seed=st.integers(0, 2**16),
)
def test_observations_stay_in_their_spaces_for_valid_configs(values: dict, seed: int) -> None:
    overrides = {**values, "fleet.controlled": True}
    try:
        env = envs.make("multimarket_v1", overrides=overrides, days=1)
    except ConfigError:
        assume(False)  # a cross-field rule (floor below cap, ...) refused the draw
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    _assert_inside(env, obs, "reset")
    for t in range(12):
        acts = {a: rng.uniform(-1, 1, env.action_space(a).shape) for a in env.agents}
        obs, *_ = env.step(acts)
        _assert_inside(env, obs, f"step {t}")


def test_one_mw_of_system_load_keeps_every_agent_in_the_box() -> None:
    # The case: 20 of 21 agents left Box(-10, 10) every step, and the coalition's
    # system renewables forecast sat at the bound (information lost to clipping).
    env = envs.make("multimarket_v1", overrides={"background.peak_load_mw": 1.0}, days=1)
    obs, _ = env.reset(seed=0)
    for t in range(24):
        _assert_inside(env, obs, f"hour {t}")
        h = env.core.dims.H
        renewables_fc = obs["coalition_0"][10 + h : 10 + 2 * h]
        assert np.abs(renewables_fc).max() < 2.0
        obs, *_ = env.step(env.scripted_actions())


def test_default_observation_scales_are_the_fixed_ones() -> None:
    # Shipped PPO/MAPPO policies read these features: the scenario-derived scales must
    # equal the fixed ones there (the golden trajectories pin the whole observation).
    core = envs.make("multimarket_v1", scenario="default", days=1).core
    cfg = core.cfg
    assert core.scales.price_eur_per_mwh == cfg.spot.price_cap_eur_per_mwh
    assert core.scales.system_mw == cfg.background.peak_load_mw
    assert core.scales.members_mw == core.members.peak_load_mw.sum()
    np.testing.assert_array_equal(core.scales.inv_net_mw, core.scales.inv_peak)


def test_returned_observations_do_not_alias_the_state() -> None:
    env = envs.make("multimarket_v1", days=1)
    for phase in ("reset", "step"):
        obs = env.reset(seed=3)[0] if phase == "reset" else env.step(env.scripted_actions())[0]
        before = env.state().copy()
        for o in obs.values():
            o[:] = 7.0
        np.testing.assert_array_equal(env.state(), before, err_msg=phase)
        assert not np.all(env.observations()["coalition_0"] == 7.0)


def test_vector_observations_do_not_alias_the_state() -> None:
    venv = envs.make_vector("multimarket_v1", num_envs=2, days=1)
    for phase in ("reset", "step"):
        obs = venv.reset(seed=3)[0] if phase == "reset" else venv.step(venv.scripted_actions())[0]
        before = venv.state().copy()
        # The columns the env keeps for state() are those of observing the core afresh.
        np.testing.assert_array_equal(before, observe.state(venv.core), err_msg=phase)
        for o in obs.values():
            o[:] = 7.0
        np.testing.assert_array_equal(venv.state(), before, err_msg=phase)


def _aec_snapshot(aec: Any) -> tuple:
    raw = aec.env  # the MarketAECEnv under PettingZoo's order enforcing
    return raw.agent_selection, dict(raw._actions), raw.env.core.t, raw.env.state().tobytes()


def test_aec_nan_action_is_refused_once_and_the_env_goes_on() -> None:
    aec = envs.make("multimarket_v1", api="aec", days=1)
    aec.reset(seed=0)
    rng = np.random.default_rng(0)
    # Let a few agents act, then one sends NaN: before, the NaN was stored and every
    # later step re-raised its error until reset.
    for _ in range(3):
        aec.step(rng.uniform(-1, 1, aec.action_space(aec.agent_selection).shape))
    agent = aec.agent_selection
    before = _aec_snapshot(aec)
    bad = np.full(aec.action_space(agent).shape, np.nan, np.float32)
    with pytest.raises(ActionError, match=agent):
        aec.step(bad)
    assert _aec_snapshot(aec)[:3] == before[:3] and _aec_snapshot(aec)[3] == before[3]
    t0 = aec.unwrapped.core.t
    for _ in range(2 * len(aec.possible_agents)):
        aec.step(rng.uniform(-1, 1, aec.action_space(aec.agent_selection).shape))
    assert aec.unwrapped.core.t == t0 + 2


def test_vector_env_refuses_an_unknown_group() -> None:
    venv = envs.make_vector("multimarket_v1", num_envs=2, days=1)
    venv.reset(seed=0)
    acts = {**venv.scripted_actions(), "member": np.zeros((2, 1))}
    with pytest.raises(ActionError, match="unknown groups \\['member'\\]"):
        venv.step(acts)


def test_vector_env_reports_none_as_none() -> None:
    venv = envs.make_vector("multimarket_v1", num_envs=2, days=1)
    venv.reset(seed=0)
    with pytest.raises(ActionError, match="NoneType") as err:
        venv.step({**venv.scripted_actions(), "coalition": None})
    assert "NaN" not in str(err.value)


#: Bad actions of every kind: non-finite, wrong type, wrong shape.
_BAD_ITEMS = st.one_of(
    st.sampled_from([float("nan"), float("inf"), -float("inf")]),
    st.sampled_from([None, "0.5", b"x", {"a": 1}, object()]),
)


def _bad_action(shape: tuple[int, ...]) -> st.SearchStrategy[Any]:
    with_bad_entry = st.tuples(st.integers(0, int(np.prod(shape)) - 1), _BAD_ITEMS).map(
        lambda iv: _poison(shape, *iv)
    )
    wrong_shape = st.lists(st.integers(0, 5), min_size=0, max_size=3).filter(
        lambda s: tuple(s) != shape
    )
    return st.one_of(
        with_bad_entry,
        wrong_shape.map(lambda s: np.zeros(s, np.float32)),
        _BAD_ITEMS,
    )


def _poison(shape: tuple[int, ...], i: int, value: Any) -> Any:
    if isinstance(value, float):
        a = np.zeros(shape, np.float32)
        a.flat[i] = value
        return a
    a = np.zeros(shape, object)
    a.flat[i] = value
    return a


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bad_actions_raise_action_error_and_leave_every_view_unchanged(data: Any) -> None:
    view = data.draw(st.sampled_from(["parallel", "aec", "vector"]))
    if view == "vector":
        env = envs.make_vector("multimarket_v1", num_envs=2, days=1)
        env.reset(seed=1)
        env.step(env.scripted_actions())
        group = data.draw(st.sampled_from(list(env.agent_groups)))
        bad = data.draw(_bad_action(env.action_spaces[group].shape))
        acts = {**env.scripted_actions(), group: bad}
        before = (env.core.t, env.state().tobytes())
        with pytest.raises(ActionError):
            env.step(acts)
        assert (env.core.t, env.state().tobytes()) == before
        env.step(env.scripted_actions())
        assert env.core.t == before[0] + 1
        return
    env = envs.make("multimarket_v1", api=view, days=1)
    env.reset(seed=1)
    agent = data.draw(st.sampled_from(env.possible_agents))
    bad = data.draw(_bad_action(env.action_space(agent).shape))
    if view == "parallel":
        acts = env.scripted_actions()
        acts[agent] = bad
        before = (env.core.t, env.state().tobytes())
        with pytest.raises(ActionError, match=agent):
            env.step(acts)
        assert (env.core.t, env.state().tobytes()) == before
        env.step(env.scripted_actions())
        assert env.core.t == before[0] + 1
        return
    core = env.unwrapped.core
    while env.agent_selection != agent:
        env.step(np.zeros(env.action_space(env.agent_selection).shape, np.float32))
    before = _aec_snapshot(env)
    with pytest.raises(ActionError, match=agent):
        env.step(bad)
    after = _aec_snapshot(env)
    assert after[0] == before[0] and after[1].keys() == before[1].keys()
    assert after[2:] == before[2:]
    for _ in range(len(env.possible_agents)):
        env.step(np.zeros(env.action_space(env.agent_selection).shape, np.float32))
    assert core.t == before[2] + 1
