"""The one validation helper of every config: each field's type, bounds and unit, checked once.

A config is a frozen dataclass (STYLE §3). Its fields state their bounds where they are
declared, with :func:`bounded` (``price_cap_eur_per_mwh: float = bounded(3000.0, gt=0)``),
and its ``__post_init__`` calls :func:`check_fields`, which checks every field against
its annotation and those bounds: a float is a finite real, a whole number is an int (no
NaN, inf or 2.5), a bool a bool, a ``Literal`` one of its values, tuples and mappings
item by item. Rules across fields use :func:`check`; plain function arguments use
:func:`check_number`. Every failure is a :class:`~envs.errors.ConfigError` whose message
holds the field's name, the bad value and what is allowed, with the unit read from the
field's name (``_eur_per_mwh`` is EUR/MWh) unless :func:`bounded` states one.

Messages name the field relative to its dataclass (``price_cap_eur_per_mwh=nan ...``);
:func:`envs.config.loader.build` prefixes the dotted path of the section it builds
(``spot.price_cap_eur_per_mwh=nan ...``). numpy and the standard library only.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import types
import typing
from dataclasses import dataclass
from typing import Any, cast, get_args, get_origin, get_type_hints

from envs.errors import ConfigError

__all__ = ["Bounds", "bounded", "check", "check_fields", "check_number", "hints_of", "unit_of"]

# Unit of a field, read from the end of its name (longest suffix first).
_UNITS: tuple[tuple[str, str], ...] = (
    ("_eur_per_mw_day", "EUR/MW/day"),
    ("_eur_per_mwh", "EUR/MWh"),
    ("_eur_per_mw", "EUR/MW"),
    ("_eur_per_t", "EUR/t"),
    ("_t_per_mwh", "t/MWh"),
    ("_mw_per_h", "MW/h"),
    ("_m_per_s", "m/s"),
    ("_m_s", "m/s"),
    ("_mwh", "MWh"),
    ("_mw", "MW"),
    ("_deg", "degrees"),
    ("_c", "deg C"),
    ("_h", "h"),
    ("_m", "m"),
)


def unit_of(name: str) -> str:
    """The unit a field's name states (``"cap_eur_per_mwh"`` -> ``"EUR/MWh"``), or ``""``."""
    for suffix, unit in _UNITS:
        if name.endswith(suffix):
            return unit
    return ""


@dataclass(frozen=True, slots=True)
class Bounds:
    """Closed (``ge``, ``le``) or open (``gt``, ``lt``) bounds of a number; None = unbounded."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def contains(self, value: float) -> bool:
        """True when ``value`` satisfies every bound that is set."""
        return not (
            (self.ge is not None and value < self.ge)
            or (self.gt is not None and value <= self.gt)
            or (self.le is not None and value > self.le)
            or (self.lt is not None and value >= self.lt)
        )

    def describe(self) -> str:
        """``"in [0, 1)"``, ``"> 0"`` or ``""`` (no bounds)."""
        low = self.ge if self.ge is not None else self.gt
        high = self.le if self.le is not None else self.lt
        if low is not None and high is not None:
            left = "[" if self.ge is not None else "("
            right = "]" if self.le is not None else ")"
            return f"in {left}{_num(low)}, {_num(high)}{right}"
        if low is not None:
            return f"{'>=' if self.ge is not None else '>'} {_num(low)}"
        if high is not None:
            return f"{'<=' if self.le is not None else '<'} {_num(high)}"
        return ""


_NO_BOUNDS = Bounds()


def _num(x: float) -> str:
    """Bounds as written (1, not 1.0)."""
    return str(int(x)) if float(x).is_integer() else str(x)


def bounded(
    default: Any = dataclasses.MISSING,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    unit: str | None = None,
    bounds: Bounds | None = None,
    default_factory: Any = dataclasses.MISSING,
) -> Any:
    """A dataclass field whose metadata states its bounds (for numbers, tuple and dict items).

    Args:
        default: the default value (or leave it out for a required field).
        ge, gt, le, lt: bounds (>=, >, <=, <); or ``bounds`` for a shared :class:`Bounds`.
        unit: the unit in messages, where the field's name does not state it.
        default_factory: as in :func:`dataclasses.field`.
    """
    meta: dict[str, Any] = {"bounds": bounds or Bounds(ge, gt, le, lt)}
    if unit is not None:
        meta["unit"] = unit
    return dataclasses.field(default=default, default_factory=default_factory, metadata=meta)


def check(ok: bool, path: str, value: Any, expected: str) -> None:
    """Raise ConfigError ``"{path}={value!r} is not allowed; expected {expected}"`` unless ok.

    For rules across fields (a floor below its cap) and on names, which no single field's
    bounds state.
    """
    if not ok:
        raise ConfigError(f"{path}={value!r} is not allowed; expected {expected}")


def _allowed(bounds: Bounds, integer: bool, unit: str) -> str:
    kind = "a whole number" if integer else "a finite number"
    text = " ".join(s for s in (kind, bounds.describe(), unit) if s)
    return text


def check_number(
    path: str,
    value: Any,
    *,
    integer: bool = False,
    bounds: Bounds | None = None,
    unit: str | None = None,
) -> int | float:
    """Check a finite real (an int when ``integer``) within ``bounds``; return it as Python's.

    Args:
        path: the field or argument name used in the message.
        value: the value to check (Python or numpy scalars; bools are refused).
        integer: require a whole number of an integer type (2.0 and 2.5 are refused).
        bounds: the allowed range; None = any finite value.
        unit: the unit in messages; None = :func:`unit_of` the last part of ``path``.

    Raises:
        ConfigError: naming ``path``, the value and what is allowed.
    """
    bounds = bounds or _NO_BOUNDS
    kinds = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kinds):
        problem = f"has type {type(value).__name__}"
    else:
        # isinstance(value, kinds) is Integral when ``integer``; mypy only sees Real.
        number = int(cast(numbers.Integral, value)) if integer else float(value)
        if not math.isfinite(number):
            problem = "is not finite"
        elif not bounds.contains(number):
            problem = "is out of range"
        else:
            return number
    unit = unit_of(path.rsplit(".", 1)[-1]) if unit is None else unit
    raise ConfigError(f"{path}={value!r} {problem}; expected {_allowed(bounds, integer, unit)}")


@functools.cache
def hints_of(cls: type) -> dict[str, Any]:
    """The resolved annotations of dataclass ``cls``, computed once per class.

    Annotations are strings under ``from __future__ import annotations``; resolving them
    costs more than checking every field, so configs built in loops stay cheap.
    """
    return get_type_hints(cls)


def check_fields(cfg: Any) -> None:
    """Check every field of the dataclass instance ``cfg`` against its type and bounds.

    Raises:
        ConfigError: naming the field (``name``, ``name[i]`` or ``name.key``), its value
            and what is allowed.
    """
    # cast: mypy wrongly rejects type[...] as Hashable for functools.cache (mypy#11470).
    hints = hints_of(cast(type, type(cfg)))
    for f in dataclasses.fields(cfg):
        meta = f.metadata
        bounds = meta.get("bounds", _NO_BOUNDS)
        _check_value(f.name, getattr(cfg, f.name), hints[f.name], bounds, meta.get("unit"))


def _check_value(  # noqa: C901 - one branch per supported annotation
    path: str, value: Any, tp: Any, bounds: Bounds, unit: str | None
) -> None:
    """Check ``value`` against annotation ``tp``; bounds apply to numbers and to items."""
    origin = get_origin(tp)
    if tp is Any:
        return
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if value is None and len(args) < len(get_args(tp)):
            return
        if len(args) == 1:
            _check_value(path, value, args[0], bounds, unit)
            return
        if not any(_matches(value, a) for a in args):
            raise ConfigError(f"{path}={value!r}: expected one of the types {tp}")
        return
    if origin is typing.Literal:
        # Same value and type: True == 1 must not pass for a Literal[1].
        if not any(value == a and type(value) is type(a) for a in get_args(tp)):
            raise ConfigError(
                f"{path}={value!r} is not allowed; expected one of {list(get_args(tp))}"
            )
        return
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}={value!r}: expected true or false")
        return
    if tp in (int, float):
        check_number(path, value, integer=tp is int, bounds=bounds, unit=unit)
        return
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}={value!r}: expected a string")
        return
    if origin in (tuple, list):
        if not isinstance(value, (tuple, list)):
            raise ConfigError(f"{path}={value!r}: expected a list")
        item_args = get_args(tp)
        item_tp = item_args[0] if item_args else Any
        for i, item in enumerate(value):
            _check_value(f"{path}[{i}]", item, item_tp, bounds, unit)
        return
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}={value!r}: expected a mapping")
        key_tp, val_tp = get_args(tp) or (Any, Any)
        for key, item in value.items():
            if key_tp is str and not isinstance(key, str):
                raise ConfigError(f"{path}: key {key!r} is not a string")
            _check_value(f"{path}.{key}", item, val_tp, bounds, unit)
        return
    if isinstance(tp, type) and not isinstance(value, tp):
        raise ConfigError(f"{path}={value!r}: expected a {tp.__name__}")


def _matches(value: Any, tp: Any) -> bool:
    try:
        _check_value("", value, tp, _NO_BOUNDS, None)
    except ConfigError:
        return False
    return True
