"""Checkpoints: state dicts, the resolved config and RNG states in one ``.pt`` file.

Written atomically (a temporary file in the same folder, then ``os.replace``), so a
crash mid-write never leaves a truncated checkpoint; read with
``torch.load(weights_only=True)`` (tensors, numbers, strings, lists and dicts only).

The file format (a header line with the algorithm, length and SHA-256, then torch's bytes)
lives in :mod:`agents.checkpoint_file`, which the policy loaders read too; a damaged,
truncated, foreign or other-algorithm file is a :class:`CheckpointError` naming it.

Every checkpoint carries a ``signature``: the env id, algorithm, group names and the
observation, state and action sizes the networks were built for. Loading it for
another architecture or env raises :class:`CheckpointMismatchError` naming each
differing entry, instead of a stack of tensor-shape errors from ``load_state_dict``.
"""

from __future__ import annotations

import os
import pickle
import random
import tempfile
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from agents.checkpoint_file import CheckpointError, algorithm_of, encode, read_checkpoint

__all__ = [
    "CheckpointError",
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
    """Write ``payload`` to ``path`` atomically, behind a header with its algorithm, length
    and SHA-256 (module docstring); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = encode(payload)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; checkpoints are shared and shipped
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | Path, algorithm: str | None = None) -> dict[str, Any]:
    """Read a training checkpoint (checked as :func:`read_checkpoint` says).

    Args:
        path: a ``.pt`` file, or a run directory holding ``checkpoint.pt``.
        algorithm: refuse a checkpoint of another algorithm (None: any).

    Raises:
        FileNotFoundError: nothing at ``path`` (says what was looked for).
        CheckpointError: the file is not a sound checkpoint of this package.
    """
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path} (expected a .pt file or a run folder)")
    payload = read_checkpoint(path, algorithm)
    if not isinstance(payload, dict) or "signature" not in payload:
        raise CheckpointError(f"{path} is not a training checkpoint (no 'signature' entry)")
    return payload


def reseal(path: str | Path, algorithm: str) -> Path:
    """Rewrite a checkpoint saved before content hashes (a bare ``torch.save`` zip) in the
    current format, its content unchanged; ``algorithm`` must match its signature.

    Raises:
        CheckpointError: the file is not a bare torch zip, or is of another algorithm.
    """
    path = Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
        raise CheckpointError(
            f"checkpoint {path} could not be read as a bare torch checkpoint ({type(exc).__name__})"
        ) from None
    if not isinstance(payload, dict) or algorithm_of(payload) != algorithm:
        found = algorithm_of(payload) if isinstance(payload, dict) else "no payload"
        raise CheckpointError(f"checkpoint {path} holds {found}, not a {algorithm} checkpoint")
    return save_checkpoint(payload, path)


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
    # The legacy global RNG (SB3 uses it); the tuple form, which numpy's stub types as a dict
    # for the default legacy=True.
    state = cast(tuple[str, np.ndarray, int, int, float], np.random.get_state())  # noqa: NPY002
    kind, keys, pos, has_gauss, cached = state
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
