"""The structure of a policy export, checked before any actor is built from it.

A checkpoint with a sound header and hash can still hold the wrong architecture: an
actor's state dict of another hidden width, a missing ``residual`` entry, an extra
tensor, a tensor of the wrong shape. Read blindly, those end in torch's raw ``Error(s)
in loading state_dict`` or a bare ``KeyError``; :func:`check_policy` and
:func:`load_actor_state` turn each into a :class:`~envs.errors.CheckpointError` naming the
file, what it holds and what was expected.

The layout of ``payload["policy"]`` (written by ``training``):

- ``residual``: bool; ``coalition_slots``: list of str; ``actors``: a non-empty dict
  group -> entry; optional ``forecast_features`` (list of group names),
  ``margin_features`` (bool), ``reserve_base`` (str).
- each entry: ``obs_dim`` D, ``act_dim`` A, ``hidden`` H (ints >= 1), ``state_dict`` (the
  :class:`agents.learned.GaussianActor`'s tensors for D, A, H), optional ``mean_bound``
  (a finite number >= 0), ``mask`` (A,), ``obs_mean`` and ``obs_var`` (D,) tensors or None.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import nn

from envs.errors import CheckpointError

__all__ = ["check_policy", "load_actor_state"]

_DIMS = ("obs_dim", "act_dim", "hidden")


def _what(value: Any) -> str:
    """A short description of a stored value: ``tensor (64, 111)``, ``str 'x'``, ``dict``."""
    if isinstance(value, torch.Tensor):
        return f"tensor {tuple(value.shape)}"
    if isinstance(value, (bool, int, float, str)) or value is None:
        return f"{type(value).__name__} {value!r}"
    return type(value).__name__


def _fail(path: Path, where: str, holds: str, expected: str) -> CheckpointError:
    return CheckpointError(
        f"checkpoint {path}: {where} holds {holds}; expected {expected} "
        "(a policy exported by this package's training; re-export or retrain it)"
    )


def check_policy(policy: Any, path: Path) -> None:
    """Check the policy entry of a checkpoint against the layout in the module docstring.

    Args:
        policy: ``payload["policy"]`` as read from the file.
        path: the file, for messages.

    Raises:
        CheckpointError: naming ``path``, the entry, what it holds and what was expected.
    """
    if not isinstance(policy, dict):
        raise _fail(path, "'policy'", _what(policy), "a dict with 'actors'")
    missing = [k for k in ("residual", "actors", "coalition_slots") if k not in policy]
    if missing:
        raise _fail(path, "'policy'", f"the entries {sorted(policy)}",
                    f"also {missing} (residual, actors, coalition_slots)")  # fmt: skip
    if not isinstance(policy["residual"], bool):
        raise _fail(path, "'policy.residual'", _what(policy["residual"]), "true or false")
    slots = policy["coalition_slots"]
    if not isinstance(slots, (list, tuple)) or not all(isinstance(s, str) for s in slots):
        raise _fail(path, "'policy.coalition_slots'", _what(slots), "a list of slot names")
    actors = policy["actors"]
    if not isinstance(actors, dict) or not actors:
        raise _fail(path, "'policy.actors'", _what(actors), "a non-empty dict group -> actor")
    for group, entry in actors.items():
        _check_entry(path, str(group), entry)


def _check_entry(path: Path, group: str, entry: Any) -> None:
    where = f"the {group} actor"
    if not isinstance(entry, dict):
        raise _fail(path, where, _what(entry), "a dict with obs_dim, act_dim, hidden, state_dict")
    missing = [k for k in (*_DIMS, "state_dict") if k not in entry]
    if missing:
        raise _fail(path, where, f"the entries {sorted(entry)}", f"also {missing}")
    for key in _DIMS:
        value = entry[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _fail(path, f"{where}'s {key}", _what(value), "a whole number >= 1")
    bound = entry.get("mean_bound", 0.0)
    if (
        isinstance(bound, bool)
        or not isinstance(bound, (int, float))
        or not (math.isfinite(bound) and bound >= 0)
    ):
        raise _fail(path, f"{where}'s mean_bound", _what(bound), "a finite number >= 0")
    if not isinstance(entry["state_dict"], dict):
        raise _fail(path, f"{where}'s state_dict", _what(entry["state_dict"]), "a dict of tensors")
    sizes = {"mask": entry["act_dim"], "obs_mean": entry["obs_dim"], "obs_var": entry["obs_dim"]}
    for key, size in sizes.items():
        value = entry.get(key)
        if value is not None and not (
            isinstance(value, torch.Tensor) and tuple(value.shape) == (size,)
        ):
            raise _fail(path, f"{where}'s {key}", _what(value), f"None or a tensor ({size},)")
    if (entry.get("obs_mean") is None) != (entry.get("obs_var") is None):
        raise _fail(path, where, "only one of obs_mean and obs_var", "both or neither")


def load_actor_state(actor: nn.Module, group: str, entry: dict[str, Any], path: Path) -> None:
    """Load ``entry["state_dict"]`` into ``actor`` (built from the entry's dims) when every
    name and shape fits; the entry is one :func:`check_policy` accepted.

    Raises:
        CheckpointError: naming ``path``, the group, the dims, and each missing,
            unexpected or misshapen tensor.
    """
    expected = {k: tuple(v.shape) for k, v in actor.state_dict().items()}
    state = entry["state_dict"]
    found = {str(k): v for k, v in state.items()}
    faults = [f"missing {k} {shape}" for k, shape in expected.items() if k not in found]
    faults += [f"unexpected {k} ({_what(v)})" for k, v in found.items() if k not in expected]
    faults += [
        f"{k} is {_what(found[k])}, not tensor {shape}"
        for k, shape in expected.items()
        if k in found
        and not (isinstance(found[k], torch.Tensor) and tuple(found[k].shape) == shape)
    ]
    if faults:
        dims = ", ".join(f"{k}={entry[k]}" for k in _DIMS)
        raise _fail(
            path,
            f"the {group} actor's state_dict",
            "; ".join(faults),
            f"the tensors of a GaussianActor({dims}): "
            + ", ".join(f"{k} {shape}" for k, shape in expected.items()),
        )
    actor.load_state_dict(state)
