"""Error messages for bad input, pinned with pytest.raises(match=...) (issue 2, STYLE §6)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import envs
from envs.errors import ActionError, ConfigError, EpisodeOverError, UnknownNameError
from tests.conftest import random_actions


def _actions(env, seed: int = 0) -> dict[str, np.ndarray]:
    return random_actions(env, np.random.default_rng(seed))


def _snapshot(env) -> dict:
    core = env.core
    return {
        "t": core.t,
        "soc": core.state.soc_mwh.copy(),
        "debt": core.state.debt_mwh.copy(),
        "prev_dispatch": core.state.prev_dispatch_mw.copy(),
        "last_price": core.last.price.copy(),
        "ledger": env.ledger(),
        "cf": env.counterfactual_bills(),
        "agents": list(env.agents),
    }


# -------------------------------------------------------------- names and configs
def test_unknown_env_id_lists_valid_ids():
    with pytest.raises(
        UnknownNameError, match=r"unknown env id 'nope_v0'; valid ids: .*multimarket_v1.*spot_v1"
    ):
        envs.make("nope_v0")


def test_unknown_scenario_lists_valid_names():
    with pytest.raises(
        UnknownNameError, match=r"unknown scenario 'nope'.*valid scenarios: .*default.*windy_winter"
    ):
        envs.make("multimarket_v1", scenario="nope")


def test_scenario_file_with_unknown_key_names_path_and_valid_keys(tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text("extends: default\nname: typo\nspot:\n  price_cap_eur_per_mhw: 4000\n")
    with pytest.raises(
        ConfigError,
        match=r"unknown key spot\.price_cap_eur_per_mhw; valid keys of spot: "
        r".*price_cap_eur_per_mwh",
    ):
        envs.make("multimarket_v1", scenario=str(path))
    top = tmp_path / "top.yaml"
    top.write_text("extends: default\ndayz: 3\n")
    with pytest.raises(ConfigError, match=r"unknown key dayz; valid keys: .*days"):
        envs.make("multimarket_v1", scenario=str(top))


def test_unknown_override_path_names_it():
    with pytest.raises(
        ConfigError, match=r"unknown key members\.cnt; valid keys of members: .*count"
    ):
        envs.make("multimarket_v1", overrides={"members.cnt": 5})


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"days": 0}, r"days=0 is out of range; expected a whole number in \[1, 366\]"),
        (
            {"overrides": {"spot.price_floor_eur_per_mwh": 4000}},
            r"spot\.price_floor_eur_per_mwh=4000\.0 is not allowed; expected below "
            r"price_cap_eur_per_mwh=3000\.0",
        ),
        (
            {"overrides": {"spot.pricing": "vickrey"}},
            r"spot\.pricing='vickrey' is not allowed; expected one of \['uniform', 'pay_as_bid'\]",
        ),
        ({"overrides": {"members.count": "many"}}, r"members\.count='many': expected a number"),
        (
            {"overrides": {"reserve.enabled": "yes"}},
            r"reserve\.enabled='yes': expected true or false",
        ),
    ],
    ids=["days0", "floor_above_cap", "pricing", "count_str", "bool"],
)
def test_bad_value_names_field_value_and_allowed(kwargs, pattern):
    with pytest.raises(ConfigError, match=pattern):
        envs.make("multimarket_v1", **kwargs)


def test_negative_price_cap_is_rejected():
    with pytest.raises(ConfigError, match=r"spot\.price_cap_eur_per_mwh=-1"):
        envs.make("multimarket_v1", overrides={"spot.price_cap_eur_per_mwh": -1})


def test_errors_are_the_documented_types():
    assert issubclass(ActionError, ValueError) and issubclass(ConfigError, ValueError)
    assert issubclass(UnknownNameError, KeyError)
    with pytest.raises(ValueError, match=r"api='dict' is not supported"):
        envs.make("multimarket_v1", api="dict")


# ------------------------------------------------------------------------ actions
MEMBER_SPACE = re.escape("Box(-1.0, 1.0, (2,), float32) for members")
COALITION_SPACE = re.escape("Box(-1.0, 1.0, (6,), float32) for coalition")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_action_names_agent_and_space(env1, bad):
    acts = _actions(env1)
    acts["member_3"] = np.array([0.0, bad], np.float32)
    with pytest.raises(
        ActionError,
        match=rf"'member_3' contains NaN or inf; expected finite values in {MEMBER_SPACE}",
    ):
        env1.step(acts)
    acts = _actions(env1)
    acts["coalition_0"][0] = bad
    with pytest.raises(
        ActionError, match=rf"'coalition_0' contains NaN or inf; .*{COALITION_SPACE}"
    ):
        env1.step(acts)


@pytest.mark.parametrize("shape", [(5,), (7,), (1, 6), ()], ids=str)
def test_wrong_shape_action_names_agent_and_space(env1, shape):
    acts = _actions(env1)
    acts["coalition_0"] = np.zeros(shape, np.float32)
    with pytest.raises(
        ActionError,
        match=rf"action of 'coalition_0' has shape {re.escape(str(shape))}; "
        rf"expected {COALITION_SPACE}",
    ):
        env1.step(acts)


@pytest.mark.parametrize(
    "value",
    [np.array(["a", "b"]), np.array([True, False]), np.array([1 + 1j, 0j]), [None, None]],
    ids=["str", "bool", "complex", "object"],
)
def test_wrong_dtype_action_names_agent_and_space(env1, value):
    acts = _actions(env1)
    acts["member_0"] = value
    with pytest.raises(
        ActionError,
        match=r"action of 'member_0' has dtype \S+; "
        rf"expected a real numeric array for {MEMBER_SPACE}",
    ):
        env1.step(acts)


def test_missing_and_unknown_agents(env1):
    acts = _actions(env1)
    del acts["member_7"]
    with pytest.raises(
        ActionError, match=rf"no action for agent 'member_7'; expected {MEMBER_SPACE}"
    ):
        env1.step(acts)
    acts = _actions(env1)
    acts["ghost"] = np.zeros(2, np.float32)
    with pytest.raises(
        ActionError, match=r"actions for unknown agents \['ghost'\]; agents are \['coalition_0', "
    ):
        env1.step(acts)
    with pytest.raises(ActionError, match=r"actions must be a dict of agent id -> array, got list"):
        env1.step([])


def test_out_of_bounds_finite_action_is_clipped_and_counted(make_default):
    env, twin = make_default(), make_default()
    env.reset(seed=3)
    twin.reset(seed=3)
    acts = _actions(env)
    acts["coalition_0"] = np.array([5.0, -5.0, 0.0, 1.0, 1.5, -1.0001], np.float32)
    acts["member_2"] = np.array([2.0, 0.5], np.float32)
    clipped = {a: np.clip(v, -1.0, 1.0) for a, v in acts.items()}
    _, rew, _, _, infos = env.step(acts)
    _, rew_twin, _, _, infos_twin = twin.step(clipped)
    assert infos["coalition_0"]["n_clipped"] == 4
    assert infos["member_2"]["n_clipped"] == 1 and infos["member_1"]["n_clipped"] == 0
    assert infos_twin["coalition_0"]["n_clipped"] == 0
    assert rew == rew_twin  # clipping is exactly the projection onto the box


def test_vector_env_action_errors():
    venv = envs.make_vector("multimarket_v1", num_envs=2, days=1)
    venv.reset(seed=0)
    acts = {g: np.zeros((2, *s.shape), np.float32) for g, s in venv.action_spaces.items()}
    bad = {**acts, "coalition": np.zeros((3, 1, 6), np.float32)}
    with pytest.raises(
        ActionError,
        match=re.escape("actions['coalition'] has shape (3, 1, 6); expected (E, n, A) = (2, 1, 6)"),
    ):
        venv.step(bad)
    bad = {**acts, "members": np.full((2, 20, 2), np.nan, np.float32)}
    with pytest.raises(ActionError, match=r"actions\['members'\] contain NaN or inf"):
        venv.step(bad)
    with pytest.raises(ActionError, match=r"no actions for group 'members'"):
        venv.step({"coalition": acts["coalition"]})


# --------------------------------------------------------------- episode handling
def test_stepping_a_finished_episode_raises(make_default):
    env = make_default()
    with pytest.raises(EpisodeOverError, match=r"call reset\(\) before step\(\)"):
        env.step({})
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    while env.agents:
        env.step(random_actions(env, rng))
    with pytest.raises(EpisodeOverError, match=r"the episode is over .*call reset\(\)"):
        env.step({"coalition_0": np.zeros(6, np.float32)})
    with pytest.raises(
        EpisodeOverError, match=r"step\(\) called before reset\(\) or after the episode ended"
    ):
        env.core.step(np.zeros((1, 6)), np.zeros((1, 20, 2)), None)
    env.reset(seed=0)  # a reset starts a new episode
    env.step(random_actions(env, rng))


@pytest.mark.parametrize(
    "break_it",
    [
        lambda a: a.__setitem__("member_19", np.array([np.nan, 0.0], np.float32)),
        lambda a: a.__setitem__("member_5", np.zeros(3, np.float32)),
        lambda a: a.pop("member_19"),
        lambda a: a.__setitem__("coalition_0", np.array(["x"] * 6)),
    ],
    ids=["nan_last_member", "shape", "missing", "dtype"],
)
def test_failed_step_leaves_env_and_ledger_unchanged(make_default, break_it):
    env, twin = make_default(), make_default()
    env.reset(seed=9)
    twin.reset(seed=9)
    rng_env, rng_twin = np.random.default_rng(1), np.random.default_rng(1)
    for _ in range(5):
        env.step(random_actions(env, rng_env))
        twin.step(random_actions(twin, rng_twin))
    before = _snapshot(env)
    acts = random_actions(env, np.random.default_rng(99))
    break_it(acts)
    with pytest.raises(ActionError):
        env.step(acts)
    after = _snapshot(env)
    assert after["t"] == before["t"] == 5 and after["agents"] == before["agents"]
    for key in ("soc", "debt", "prev_dispatch", "last_price"):
        np.testing.assert_array_equal(after[key], before[key])
    for key in ("ledger", "cf"):
        assert after[key].equals(before[key])
    # The next valid step is the one the twin (which never saw the bad step) takes.
    good = random_actions(env, np.random.default_rng(2))
    out, out_twin = env.step(good), twin.step(good)
    assert out[1] == out_twin[1]
    assert env.ledger().equals(twin.ledger())


@pytest.mark.parametrize(
    ("old", "new"), [("multimarket_v0", "multimarket_v1"), ("spot_v0", "spot_v1")]
)
def test_a_removed_env_version_names_its_successor(old: str, new: str) -> None:
    """PettingZoo's convention: when the dynamics change, the id's version goes up and the
    old id says which one replaced it (from ``envs.make`` and from an import alike)."""
    import importlib

    from envs.errors import DeprecatedEnvError

    with pytest.raises(DeprecatedEnvError, match=new):
        envs.make(old)
    with pytest.raises(DeprecatedEnvError, match=new):
        importlib.import_module(f"envs.{old}")
