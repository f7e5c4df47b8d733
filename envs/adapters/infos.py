"""Info formats shared by the env modules: the default flat numbers, or nested dicts.

TorchRL, BenchMARL and RLlib build their info specs from the first ``reset`` and need
numeric leaves: a nested dict (``infos[agent]["market"]["price_eur_per_mwh"]``) makes
TorchRL's ``PettingZooWrapper`` raise ``Could not infer dtype of dict``, and a value
that is ``None`` at reset is dropped. The default ``info_format="flat"`` gives every
agent's info as ``{"market/price_eur_per_mwh": 53.1, "n_clipped": 0, ...}``: one
numeric leaf per key, the path joined by ``/`` (as TensorBoard groups scalars).
``info_format="nested"`` keeps the dicts per section; :func:`nested_info` turns a flat
info back into them, so code that reads infos works with either format.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

#: Accepted values of every env's ``info_format`` argument.
INFO_FORMATS: tuple[str, ...] = ("flat", "nested")


def check_info_format(info_format: str, env_id: str) -> str:
    """Return ``info_format`` if valid.

    Raises:
        ValueError: not one of :data:`INFO_FORMATS` (the message names the env).
    """
    if info_format not in INFO_FORMATS:
        raise ValueError(
            f"{env_id}: info_format={info_format!r}; expected one of {', '.join(INFO_FORMATS)}"
        )
    return info_format


def flatten_info(info: Mapping[str, Any], prefix: str = "") -> dict[str, float | int]:
    """One agent's info as ``{"a/b": number}``.

    Numbers and bools become ``float``/``int`` leaves; ``None`` becomes NaN (so the key
    exists from ``reset`` on, with the same dtype as later steps).

    Raises:
        TypeError: a leaf is neither a number, a bool, ``None`` nor a mapping (names the key).
    """
    out: dict[str, float | int] = {}
    for key, value in info.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten_info(value, f"{name}/"))
        elif value is None:
            out[name] = math.nan
        elif isinstance(value, bool):
            out[name] = int(value)
        elif isinstance(value, int | float):
            out[name] = value
        elif hasattr(value, "dtype") and getattr(value, "shape", None) == ():
            out[name] = value.item()
        else:
            raise TypeError(
                f"info key {name!r} holds {type(value).__name__} {value!r}; flat infos "
                "need numbers (encode it before flattening)"
            )
    return out


def nested_info(info: Mapping[str, Any]) -> dict[str, Any]:
    """One agent's info as nested dicts: ``{"a/b": x}`` becomes ``{"a": {"b": x}}``.

    The inverse of :func:`flatten_info` for the envs' infos (a nested info is returned
    as it is, so callers may pass either format). NaN stays NaN (flat ``None``).
    """
    out: dict[str, Any] = {}
    for key, value in info.items():
        *path, leaf = key.split("/") if isinstance(key, str) else [key]
        node = out
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out
