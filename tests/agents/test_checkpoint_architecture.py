"""A checkpoint with a sound header but the wrong architecture is a CheckpointError.

Each of the four learned loaders (``ppo``, ``mappo``, ``mappo_mpc_start``,
``mappo_incumbents``) gets its shipped checkpoint re-saved (valid header and SHA-256) with
one fault: an actor's state dict of another hidden width, a missing tensor, an extra
tensor, a tensor of the wrong shape, a missing ``residual`` entry, no actors, a dimension
that is not a whole number, a mask of the wrong size. Each must fail with a
:class:`CheckpointError` naming the file, what it holds and what was expected, never
torch's ``Error(s) in loading state_dict`` or a bare ``KeyError``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

import agents
from agents.checkpoint_file import CheckpointError
from agents.learned import GaussianActor
from training.checkpoint import load_checkpoint, save_checkpoint

SHIPPED = Path(agents.__file__).parent / "checkpoints"
LOADERS = ("ppo", "mappo", "mappo_mpc_start", "mappo_incumbents")


def _first_actor(policy: dict[str, Any]) -> dict[str, Any]:
    return next(iter(policy["actors"].values()))


def _states_of_width(entry: dict[str, Any], hidden: int) -> dict[str, torch.Tensor]:
    """A fresh actor's tensors for the entry's observation and action sizes."""
    return GaussianActor(entry["obs_dim"], entry["act_dim"], hidden).state_dict()


def _other_width(policy: dict[str, Any]) -> None:
    entry = _first_actor(policy)
    entry["state_dict"] = _states_of_width(entry, entry["hidden"] // 2)


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda policy: _first_actor(policy)["state_dict"].pop(key)


def _extra(policy: dict[str, Any]) -> None:
    _first_actor(policy)["state_dict"]["net.6.weight"] = torch.zeros(3, 3)


def _reshape(policy: dict[str, Any]) -> None:
    state = _first_actor(policy)["state_dict"]
    state["net.4.bias"] = torch.zeros(state["net.4.bias"].shape[0] + 1)


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda policy: _first_actor(policy).__setitem__(key, value)


#: fault -> (how to make it, what the message must say).
FAULTS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "other_hidden_width": (_other_width, r"net\.0\.weight is tensor \(32, \d+\), not tensor \(64"),
    "missing_tensor": (_drop("log_std"), r"missing log_std \(\d+,\)"),
    "extra_tensor": (_extra, r"unexpected net\.6\.weight \(tensor \(3, 3\)\)"),
    "wrong_shape": (_reshape, r"net\.4\.bias is tensor \(\d+,\), not tensor \(\d+,\)"),
    "no_residual": (lambda p: p.pop("residual"), r"expected also \['residual'\]"),
    "no_actors": (lambda p: p.__setitem__("actors", {}), r"'policy\.actors' holds dict"),
    "fractional_dim": (_set("hidden", 64.5), r"hidden holds float 64\.5; expected a whole"),
    "short_mask": (_set("mask", torch.ones(1)), r"mask holds tensor \(1,\); expected None or"),
}


@pytest.fixture(scope="module")
def payloads() -> dict[str, dict[str, Any]]:
    """Each loader's shipped checkpoint, read once."""
    return {name: load_checkpoint(SHIPPED / f"{name}.pt") for name in LOADERS}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("name", LOADERS)
def test_a_checkpoint_of_the_wrong_architecture_is_a_checkpoint_error(
    name: str, fault: str, payloads: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    payload = copy.deepcopy(payloads[name])
    make, pattern = FAULTS[fault]
    make(payload["policy"])
    path = save_checkpoint(payload, tmp_path / f"{name}.pt")  # a valid header and SHA-256
    with pytest.raises(CheckpointError) as err:
        agents.load(name, checkpoint=str(path))
    text = str(err.value)
    assert str(path) in text, text  # the file
    assert re.search(pattern, text), text  # what it holds
    assert "expected" in text, text  # and what was expected
    assert "Error(s) in loading state_dict" not in text


def test_the_message_lists_the_architecture_expected(tmp_path: Path) -> None:
    payload = load_checkpoint(SHIPPED / "ppo.pt")
    _other_width(payload["policy"])
    path = save_checkpoint(payload, tmp_path / "ppo.pt")
    with pytest.raises(
        CheckpointError, match=r"GaussianActor\(obs_dim=111, act_dim=6, hidden=64\)"
    ):
        agents.load("ppo", checkpoint=str(path))


def test_a_consistent_other_width_still_loads(tmp_path: Path) -> None:
    # Another hidden width whose entry says so is a sound architecture, not a fault.
    payload = load_checkpoint(SHIPPED / "ppo.pt")
    entry = _first_actor(payload["policy"])
    entry["hidden"], entry["state_dict"] = 32, _states_of_width(entry, 32)
    path = save_checkpoint(payload, tmp_path / "ppo.pt")
    pol = agents.load("ppo", checkpoint=str(path))
    assert pol.actors["coalition"].net[0].out_features == 32
