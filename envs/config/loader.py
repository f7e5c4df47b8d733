"""One loader for every YAML config: unknown keys rejected, values coerced or refused.

Configs are frozen dataclasses (STYLE §3). :func:`build` turns a nested ``dict`` into
one, naming the dotted field path, the bad value and what is allowed in every
:class:`~envs.errors.ConfigError`. :func:`load_yaml` reads a file and follows an
optional ``extends: <name>`` key, so a scenario lists only what differs from its base.
:func:`apply_overrides` sets nested fields by dotted path (``{"members.count": 200}``).
A renamed field keeps its old key for one release: its dataclass lists it in
``RENAMED_KEYS`` and :func:`build` reads the old key as the new one, with a
``DeprecationWarning`` naming the new key.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import types
import typing
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar, cast, get_args, get_origin

import yaml

from envs.config.validate import hints_of
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


def _where(exc: yaml.YAMLError) -> str:
    """`` at line L`` of a PyYAML error that knows its position, else ``""``."""
    mark = getattr(exc, "problem_mark", None)
    return f" at line {mark.line + 1}" if mark is not None else ""


def load_yaml(
    path: str | Path, *, resolve_base: typing.Callable[[str], str] | None = None
) -> dict[str, Any]:
    """Read a YAML mapping, following ``extends: <name>`` through ``resolve_base``.

    Raises:
        ConfigError: the file is not plain YAML data (tags are refused) or not a mapping,
            or ``extends`` forms a cycle.
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
            try:
                loaded = yaml.safe_load(fh) or {}
            except yaml.YAMLError as exc:
                # safe_load refuses tags such as !!python/object; name the file and line
                # instead of PyYAML's constructor traceback.
                raise ConfigError(
                    f"{current!s}: not plain YAML data ({str(exc).splitlines()[0]}"
                    f"{_where(exc)}); only mappings, lists, strings and numbers are read"
                ) from None
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
        node: Any = out
        for part in parts[:-1]:
            if isinstance(node, list):  # a list of named items: ``fleet.generators.coal``
                node = _named_item(node, part, dotted)
                continue
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, (dict, list)):
                raise ConfigError(
                    f"override {dotted!r}: {part!r} is a value ({child!r}), not a section"
                )
            node = child
        if isinstance(node, list):
            raise ConfigError(
                f"override {dotted!r}: expected a field of the item named {parts[-1]!r}"
            )
        node[parts[-1]] = value
    return out


def _named_item(items: list[Any], name: str, dotted: str) -> dict[str, Any]:
    """The mapping in ``items`` whose ``name`` is ``name`` (list items are found by name)."""
    for item in items:
        if isinstance(item, dict) and item.get("name") == name:
            return item
    names = [item.get("name") for item in items if isinstance(item, dict)]
    raise ConfigError(f"override {dotted!r}: no item named {name!r}; names: {names}")


def _coerce(value: Any, tp: Any, path: str, base: Any = None, bounds: str = "") -> Any:
    """Coerce ``value`` to the annotated type ``tp`` or raise a ConfigError naming ``path``.

    ``base`` is what the value replaces (the field's default): a mapping given for a
    dataclass updates it, so one field of a section or a persona can be overridden alone.
    ``bounds`` (``"in [1, 366]"``) completes the message of a value that is not a number.
    """
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        return _coerce_union(value, tp, path, base, bounds)
    if origin is typing.Literal:
        allowed = get_args(tp)
        if value not in allowed:
            raise ConfigError(f"{path}={value!r} is not allowed; expected one of {list(allowed)}")
        return value
    if dataclasses.is_dataclass(tp):
        cls = cast(type, tp)  # an annotation: a dataclass type, never an instance
        if isinstance(value, cls):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping for {cls.__name__}, got {value!r}")
        return build(cls, value, path=path, base=base if isinstance(base, cls) else None)
    if origin in (tuple, list):
        return _coerce_sequence(value, tp, path, base, bounds)
    if origin is dict:
        return _coerce_mapping(value, tp, path, base, bounds)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{path}={value!r}: expected true or false")
    if tp in (int, float):
        return _coerce_number(value, tp, path, bounds)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}={value!r}: expected a string")
        return value
    return value


def _coerce_union(value: Any, tp: Any, path: str, base: Any, bounds: str) -> Any:
    """The first member of the union ``tp`` that ``value`` coerces to (None if allowed)."""
    args = get_args(tp)
    if value is None and type(None) in args:
        return None
    errors = []
    for arg in args:
        if arg is type(None):
            continue
        try:
            return _coerce(value, arg, path, base, bounds)
        except ConfigError as exc:
            errors.append(str(exc))
    raise ConfigError(errors[0] if len(errors) == 1 else f"{path}={value!r} matches none of {tp}")


def _coerce_sequence(value: Any, tp: Any, path: str, base: Any, bounds: str) -> Any:
    """A list or tuple of ``tp``'s item type; a mapping updates named dataclass items."""
    args = get_args(tp)
    item_tp = args[0] if args else Any
    if isinstance(value, dict) and dataclasses.is_dataclass(item_tp) and base:
        return _update_named(value, item_tp, path, base)
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, (list, tuple)):
        raise ConfigError(f"{path}={value!r}: expected a list")
    items = [_coerce(v, item_tp, _item_path(path, i, v), None, bounds) for i, v in enumerate(value)]
    return tuple(items) if get_origin(tp) is tuple else items


def _coerce_mapping(value: Any, tp: Any, path: str, base: Any, bounds: str) -> dict:
    """A dict of ``tp``'s value type."""
    if not isinstance(value, dict):
        raise ConfigError(f"{path}={value!r}: expected a mapping")
    _, val_tp = get_args(tp) or (Any, Any)
    # Entries that are dataclasses (personas) update the default entry of that key;
    # scalar entries (a mix of shares) replace the whole mapping.
    bases = base if isinstance(base, dict) and dataclasses.is_dataclass(val_tp) else {}
    return dict(bases) | {
        str(k): _coerce(v, val_tp, f"{path}.{k}", bases.get(str(k)), bounds)
        for k, v in value.items()
    }


def _coerce_number(value: Any, tp: type, path: str, bounds: str) -> int | float:
    """An int or float (``tp``); numeric strings are accepted, booleans are not."""
    bounds = f" {bounds}" if bounds else ""
    if isinstance(value, bool):
        raise ConfigError(
            f"{path}={value!r}: expected a number ({tp.__name__}){bounds}, got a boolean"
        )
    try:
        # PyYAML reads 1e7 and 3e-4 as strings: accept numeric strings explicitly.
        number = float(value) if isinstance(value, str) else value
        if not isinstance(number, (int, float)):
            raise TypeError
    except (TypeError, ValueError):
        raise ConfigError(f"{path}={value!r}: expected a number ({tp.__name__}){bounds}") from None
    if tp is int:
        # int(nan) and int(inf) raise ValueError/OverflowError naming no field.
        if not math.isfinite(number) or float(number) != int(number):
            raise ConfigError(f"{path}={value!r}: expected a whole number{bounds}")
        return int(number)
    return float(number)


def build(cls: type[T], data: dict[str, Any], *, path: str = "", base: Any = None) -> T:
    """Build dataclass ``cls`` from ``data``, recursively, rejecting unknown keys.

    Args:
        cls: a dataclass type; nested dataclass fields are built from nested dicts.
        data: the mapping read from YAML (plus overrides).
        path: dotted prefix used in error messages.
        base: an instance of ``cls`` whose values fill the keys ``data`` leaves out;
            None = the fields' defaults. Nested sections, entries of a mapping of
            dataclasses (``members.personas.residential``) and named items of a tuple of
            dataclasses (``fleet.generators.coal``) given as mappings update their
            defaults; a list replaces the whole tuple, a mapping of numbers the whole
            mapping.

    Raises:
        ConfigError: unknown or missing key (the message lists the valid ones), bad type
            or a value rejected by the dataclass's ``__post_init__``; a renamed key given
            under both its old and its new name.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{path or cls.__name__}: expected a mapping, got {data!r}")
    # cast: mypy wrongly rejects type[T] as Hashable for functools.cache (mypy#11470).
    hints = hints_of(cast(type, cls))
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    where = f"{path}." if path else ""
    data = _renamed_keys(data, getattr(cls, "RENAMED_KEYS", {}), where)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown key {where}{unknown[0]!s}; valid keys{' of ' + path if path else ''}: "
            f"{', '.join(sorted(fields))}"
        )
    kwargs = {}
    for name, value in data.items():
        default = _default(fields[name], base)
        bounds = fields[name].metadata.get("bounds")  # stated by envs.config.validate.bounded
        kwargs[name] = _coerce(
            value,
            hints[name],
            f"{where}{name}",
            None if default is _NONE else default,
            bounds.describe() if bounds is not None else "",
        )
    if base is not None:
        kwargs = {name: getattr(base, name) for name in fields} | kwargs
    missing = [n for n, f in fields.items() if n not in kwargs and _default(f, None) is _NONE]
    if missing:
        raise ConfigError(f"{where}{missing[0]} is missing; {cls.__name__} needs it")
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        # __post_init__ names fields relative to cls: prefix where cls sits.
        if path:
            raise ConfigError(f"{path}.{exc}") from None
        raise


_NONE = object()  # a field without a default


def _renamed_keys(data: dict[str, Any], renamed: Mapping[str, str], where: str) -> dict[str, Any]:
    """``data`` with each old key of ``renamed`` (old name -> new name) under its new name.

    Each old key found warns ``DeprecationWarning`` naming the new key (old keys are
    read for one release). Both names given is refused: which value was meant is unknown
    (a file that ``extends`` a scenario written with the new key, or an override of it,
    must use the new key too).

    Raises:
        ConfigError: an old key and its new key are both in ``data``.
    """
    old_keys = [key for key in data if key in renamed]
    if not old_keys:
        return data
    out = dict(data)
    for old in old_keys:
        new = renamed[old]
        if new in data:
            raise ConfigError(
                f"{where}{old}={data[old]!r} and {where}{new}={data[new]!r} are both set; "
                f"{old} is the old name of {new} (one may come from an extended scenario): "
                f"set {where}{new} only"
            )
        warnings.warn(
            f"config key {where}{old} is deprecated: it is now {where}{new} (the old key "
            "is read for one release)",
            DeprecationWarning,
            stacklevel=3,
        )
        out[new] = out.pop(old)
    return out


def _default(f: dataclasses.Field[Any], base: Any) -> Any:
    """The value field ``f`` has before ``data`` sets it: from ``base`` or its default."""
    if base is not None:
        return getattr(base, f.name)
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return _NONE


def _item_path(path: str, i: int, item: Any) -> str:
    """``path.name`` for a named list item (the override path that reaches it), else ``path[i]``."""
    name = item.get("name") if isinstance(item, dict) else None
    return f"{path}.{name}" if isinstance(name, str) and name else f"{path}[{i}]"


def _update_named(value: dict[str, Any], item_tp: Any, path: str, base: Any) -> tuple[Any, ...]:
    """Update named items of the tuple ``base`` from ``{name: {field: value}}``."""
    names = [getattr(item, "name", None) for item in base]
    unknown = sorted(set(value) - set(names))
    if unknown:
        raise ConfigError(f"{path}: no item named {unknown[0]!r}; names: {names}")
    return tuple(
        _coerce(value[name], item_tp, f"{path}.{name}", item) if name in value else item
        for name, item in zip(names, base, strict=True)
    )


def to_dict(cfg: Any) -> Any:
    """Plain-Python view of a config dataclass (for saving the resolved config as YAML)."""
    if dataclasses.is_dataclass(cfg):
        return {f.name: to_dict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    if isinstance(cfg, (list, tuple)):
        return [to_dict(v) for v in cfg]
    if isinstance(cfg, dict):
        return {k: to_dict(v) for k, v in cfg.items()}
    return cfg
