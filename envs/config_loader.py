"""One loader for every YAML config: unknown keys rejected, values coerced or refused.

Configs are frozen dataclasses (STYLE §3). :func:`build` turns a nested ``dict`` into
one, naming the dotted field path, the bad value and what is allowed in every
:class:`~envs.errors.ConfigError`. :func:`load_yaml` reads a file and follows an
optional ``extends: <name>`` key, so a scenario lists only what differs from its base.
:func:`apply_overrides` sets nested fields by dotted path (``{"members.count": 200}``).
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

import yaml

from envs.errors import ConfigError

T = TypeVar("T")

__all__ = ["apply_overrides", "build", "load_yaml", "merge", "to_dict"]


def merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``update`` into a copy of ``base`` (dicts merge, everything else replaces)."""
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_yaml(
    path: str | Path, *, resolve_base: typing.Callable[[str], str] | None = None
) -> dict[str, Any]:
    """Read a YAML mapping, following ``extends: <name>`` through ``resolve_base``.

    Raises:
        ConfigError: the file is not a mapping, or ``extends`` forms a cycle.
    """
    seen: list[str] = []
    data: dict[str, Any] = {}
    chain: list[dict[str, Any]] = []
    current: str | Path | None = path
    while current is not None:
        key = str(Path(current).resolve())
        if key in seen:
            raise ConfigError(f"extends: cycle through {current!s}; chain so far: {seen}")
        seen.append(key)
        with open(current, encoding="utf-8") as fh:
            loaded = yaml.safe_load(fh) or {}
        if not isinstance(loaded, dict):
            raise ConfigError(
                f"{current!s}: expected a YAML mapping at the top level, "
                f"got {type(loaded).__name__}"
            )
        chain.append(loaded)
        base = loaded.get("extends")
        if base is None:
            current = None
        elif resolve_base is None:
            raise ConfigError(f"{current!s}: extends={base!r} but no base resolver was given")
        else:
            current = resolve_base(str(base))
    for layer in reversed(chain):
        data = merge(data, {k: v for k, v in layer.items() if k != "extends"})
    return data


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Return a copy of ``data`` with dotted-path overrides set (``"spot.pricing"``)."""
    out = copy.deepcopy(data)
    for dotted, value in (overrides or {}).items():
        parts = dotted.split(".")
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise ConfigError(
                    f"override {dotted!r}: {part!r} is a value ({child!r}), not a section"
                )
            node = child
        node[parts[-1]] = value
    return out


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, path: str) -> Any:  # noqa: C901 - one branch per supported type
    """Coerce ``value`` to the annotated type ``tp`` or raise a ConfigError naming ``path``."""
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, path)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(
            errors[0] if len(errors) == 1 else f"{path}={value!r} matches none of {tp}"
        )
    if origin is typing.Literal:
        allowed = get_args(tp)
        if value not in allowed:
            raise ConfigError(f"{path}={value!r} is not allowed; expected one of {list(allowed)}")
        return value
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping for {tp.__name__}, got {value!r}")
        return build(tp, value, path=path)
    if origin in (tuple, list):
        if isinstance(value, (str, bytes, dict)) or not isinstance(value, (list, tuple)):
            raise ConfigError(f"{path}={value!r}: expected a list")
        args = get_args(tp)
        item_tp = args[0] if args else Any
        items = [_coerce(v, item_tp, f"{path}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}={value!r}: expected a mapping")
        _, val_tp = get_args(tp) or (Any, Any)
        return {str(k): _coerce(v, val_tp, f"{path}.{k}") for k, v in value.items()}
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{path}={value!r}: expected true or false")
    if tp in (int, float):
        if isinstance(value, bool):
            raise ConfigError(f"{path}={value!r}: expected a number ({tp.__name__}), got a boolean")
        try:
            # PyYAML reads 1e7 and 3e-4 as strings: accept numeric strings explicitly.
            number = float(value) if isinstance(value, str) else value
            if not isinstance(number, (int, float)):
                raise TypeError
        except (TypeError, ValueError):
            raise ConfigError(f"{path}={value!r}: expected a number ({tp.__name__})") from None
        if tp is int:
            if float(number) != int(number):
                raise ConfigError(f"{path}={value!r}: expected a whole number")
            return int(number)
        return float(number)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}={value!r}: expected a string")
        return value
    return value


def build(cls: type[T], data: dict[str, Any], *, path: str = "") -> T:
    """Build dataclass ``cls`` from ``data``, recursively, rejecting unknown keys.

    Args:
        cls: a dataclass type; nested dataclass fields are built from nested dicts.
        data: the mapping read from YAML (plus overrides).
        path: dotted prefix used in error messages.

    Raises:
        ConfigError: unknown key (the message lists the valid ones), bad type or a
            value rejected by the dataclass's ``__post_init__``.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{path or cls.__name__}: expected a mapping, got {data!r}")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        where = f"{path}." if path else ""
        raise ConfigError(
            f"unknown key {where}{unknown[0]!s}; valid keys{' of ' + path if path else ''}: "
            f"{', '.join(sorted(fields))}"
        )
    kwargs = {
        name: _coerce(value, hints[name], f"{path}.{name}" if path else name)
        for name, value in data.items()
    }
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        if path and not str(exc).startswith(path):
            raise ConfigError(f"{path}.{exc}") from None
        raise


def to_dict(cfg: Any) -> Any:
    """Plain-Python view of a config dataclass (for saving the resolved config as YAML)."""
    if dataclasses.is_dataclass(cfg):
        return {f.name: to_dict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    if isinstance(cfg, (list, tuple)):
        return [to_dict(v) for v in cfg]
    if isinstance(cfg, dict):
        return {k: to_dict(v) for k, v in cfg.items()}
    return cfg
