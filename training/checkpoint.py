"""Checkpoints: state dicts, the resolved config and RNG states in one ``.pt`` file.

Written atomically (a temporary file in the same folder, then ``os.replace``), so a
crash mid-write never leaves a truncated checkpoint; read with
``torch.load(weights_only=True)`` (tensors, numbers, strings, lists and dicts only).

Every checkpoint carries a ``signature``: the env id, algorithm, group names and the
observation, state and action sizes the networks were built for. Loading it for
another architecture or env raises :class:`CheckpointMismatchError` naming each
differing entry, instead of a stack of tensor-shape errors from ``load_state_dict``.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = [
    "CheckpointMismatchError",
    "check_signature",
    "load_checkpoint",
    "restore_rng",
    "rng_state",
    "save_checkpoint",
]

#: File name of the latest checkpoint inside a run directory.
CHECKPOINT_NAME = "checkpoint.pt"


class CheckpointMismatchError(ValueError):
    """A checkpoint was built for another architecture or env."""


def save_checkpoint(payload: dict[str, Any], path: str | Path) -> Path:
    """Write ``payload`` to ``path`` atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; checkpoints are shared and shipped
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True``.

    Args:
        path: a ``.pt`` file, or a run directory holding ``checkpoint.pt``.

    Raises:
        FileNotFoundError: nothing at ``path`` (says what was looked for).
        ValueError: the file is not a checkpoint of this package.
    """
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path} (expected a .pt file or a run folder)")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or "signature" not in payload:
        raise ValueError(f"{path} is not a training checkpoint (no 'signature' entry)")
    return payload


def check_signature(saved: dict[str, Any], expected: dict[str, Any], where: str) -> None:
    """Compare a checkpoint's signature with the one the current env and config give.

    Raises:
        CheckpointMismatchError: listing each entry that differs (saved vs expected).
    """
    diffs = [
        f"{key}: checkpoint has {saved.get(key)!r}, this run needs {expected.get(key)!r}"
        for key in sorted(set(saved) | set(expected))
        if saved.get(key) != expected.get(key)
    ]
    if diffs:
        raise CheckpointMismatchError(
            f"checkpoint {where} was built for another architecture or env: "
            + "; ".join(diffs)
            + ". Train a new policy for this env, or load it with the config it was trained with."
        )


def rng_state() -> dict[str, Any]:
    """Global RNG states of torch, numpy's legacy generator and ``random`` (weights-only safe)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002 - SB3 uses it
    return {
        "torch": torch.get_rng_state(),
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "random": [*random.getstate()[1], random.getstate()[0], random.getstate()[2]],
    }


def restore_rng(state: dict[str, Any]) -> None:
    """Inverse of :func:`rng_state`."""
    torch.set_rng_state(state["torch"])
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))  # noqa: NPY002
    *internal, version, gauss = state["random"]
    random.setstate((version, tuple(internal), gauss))
