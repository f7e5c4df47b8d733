"""The checkpoint file format, shared by ``training`` (writes and resumes) and the policy
loaders of :mod:`agents.learned` (``agents`` never imports ``training``).

Layout: one header line, ``coalition-markets-checkpoint 1 <algorithm> <length> <sha256>\n``,
then ``torch.save``'s bytes. The length and the SHA-256 of those bytes are checked before
torch reads anything: torch's zip reader loads a file with a flipped byte silently, and
answers random bytes with advice to load with ``weights_only=False`` (which would run any
pickled code). Every failure is a :class:`CheckpointError` naming the file and what is wrong.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path
from typing import Any

import torch

from envs.errors import CheckpointError

__all__ = ["CheckpointError", "algorithm_of", "encode", "read_checkpoint"]

#: First word of every checkpoint's header line, and the format version after it.
MAGIC, VERSION = b"coalition-markets-checkpoint", b"1"
#: The header is short; reading at most this much before its newline bounds the work
#: done on a file that is not a checkpoint at all.
_MAX_HEADER = 256


def algorithm_of(payload: dict[str, Any]) -> str:
    """The algorithm a payload was trained with (its signature's ``algo``), or ``"unknown"``."""
    sig = payload.get("signature")
    algo = sig.get("algo") if isinstance(sig, dict) else None
    return str(algo) if algo else "unknown"


def encode(payload: dict[str, Any]) -> bytes:
    """The bytes of a checkpoint file holding ``payload``: header line, then torch's zip."""
    buf = io.BytesIO()
    torch.save(payload, buf)
    body = buf.getvalue()
    algo = algorithm_of(payload).encode()
    if not algo.isalnum():
        raise ValueError(f"algorithm {algo!r} must be a single alphanumeric word")
    digest = hashlib.sha256(body).hexdigest().encode()
    return b" ".join([MAGIC, VERSION, algo, str(len(body)).encode(), digest]) + b"\n" + body


def read_checkpoint(path: Path, algorithm: str | None = None) -> Any:
    """The object stored in the checkpoint file ``path``, after checking its header, length,
    SHA-256 and (when given) ``algorithm``; read with ``weights_only=True``.

    Raises:
        CheckpointError: naming ``path`` and what is wrong with it.
    """
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise CheckpointError(f"checkpoint {path} is a folder, not a file") from None
    if not data:
        raise CheckpointError(f"checkpoint {path} is empty (0 bytes)")
    end = data.find(b"\n", 0, _MAX_HEADER)
    fields = data[:end].split(b" ") if end > 0 else []
    if len(fields) != 5 or fields[0] != MAGIC:
        hint = (
            "it may predate content hashes: re-save it with "
            "training.checkpoint.reseal(path, algorithm)"
            if data.startswith(b"PK\x03\x04")  # a bare torch.save zip
            else "it is not a checkpoint of this package"
        )
        raise CheckpointError(f"checkpoint {path} has no checkpoint header; {hint}")
    _, version, algo_b, length_b, digest = fields
    if version != VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format version {version.decode(errors='replace')!r}; "
            f"this package reads version {VERSION.decode()}"
        )
    body = data[end + 1 :]
    algo = algo_b.decode(errors="replace")
    if not length_b.isdigit() or len(body) != int(length_b):
        state = "truncated" if length_b.isdigit() and len(body) < int(length_b) else "damaged"
        raise CheckpointError(
            f"checkpoint {path} is {state}: {len(body)} bytes of data where its header "
            f"says {length_b.decode(errors='replace')}"
        )
    if hashlib.sha256(body).hexdigest().encode() != digest:
        raise CheckpointError(
            f"checkpoint {path} is corrupted: its content does not match the SHA-256 "
            "in its header (a changed byte); restore it from a good copy"
        )
    if algorithm is not None and algo != algorithm:
        raise CheckpointError(
            f"checkpoint {path} holds a {algo} policy, not {algorithm}; load it as {algo!r}"
        )
    try:
        return torch.load(io.BytesIO(body), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # torch's own message advises weights_only=False, which would execute whatever
        # the file pickled; say what is wrong instead (and drop the chained advice).
        raise CheckpointError(
            f"checkpoint {path} holds objects other than tensors, numbers, strings, lists "
            "and dicts; refused (a checkpoint of this package never does)"
        ) from None
    except (RuntimeError, EOFError, ValueError, OSError) as exc:
        raise CheckpointError(
            f"checkpoint {path} could not be read by torch ({type(exc).__name__})"
        ) from None
