"""``training.floor`` and ``training.floor_ppo``: the figures are present, positive, finite
and add up (their size is quoted from a run, never asserted: a timed unit test cannot hold
on a shared machine)."""

import math

import pytest

from training import floor, floor_ppo


def _check(out: dict[str, float], keys: tuple[str, ...], algo: str) -> None:
    assert set(out) == set(keys)
    for key, value in out.items():
        assert math.isfinite(value) and value > 0, (key, value)
    floor_ms, nets_ms = out[f"{algo}_floor_ms_per_iter"], out[f"{algo}_floor_nets_ms_per_iter"]
    assert floor_ms == pytest.approx(out[f"{algo}_floor_sim_ms_per_iter"] + nets_ms)
    assert nets_ms == pytest.approx(
        out[f"{algo}_floor_nets_rollout_ms_per_iter"] + out[f"{algo}_floor_nets_update_ms_per_iter"]
    )
    iteration_ms = out[f"{algo}_iteration_ms"]
    assert iteration_ms == pytest.approx(out[f"{algo}_rollout_ms"] + out[f"{algo}_update_ms"])
    assert out[f"{algo}_train_over_floor"] == pytest.approx(iteration_ms / floor_ms)


def test_the_mappo_floor_of_a_tiny_run_has_every_key_and_its_parts_add_up():
    out = floor.mappo_floor(repeats=1, days=1, sets={"env.num_envs": 4})
    _check(out, floor.KEYS, "mappo")


def test_the_ppo_floor_of_a_tiny_run_has_every_key_and_its_parts_add_up():
    # 7 envs: one per scenario of the rollout mix; 2 minibatches of the 168 samples.
    out = floor_ppo.ppo_floor(repeats=1, days=1, sets={"env.num_envs": 7, "ppo.batch_size": 84})
    _check(out, floor_ppo.KEYS, "ppo")


@pytest.mark.parametrize("measure", [floor.mappo_floor, floor_ppo.ppo_floor])
def test_the_floor_refuses_an_empty_measurement(measure):
    with pytest.raises(ValueError, match="repeats=0"):
        measure(repeats=0, days=1)
