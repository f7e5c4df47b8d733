"""Bad values for every field of a config dataclass, enumerated from the dataclasses.

Shared by ``tests/envs/test_config_validation.py``: :func:`leaves` walks a config instance
(sections, persona-like mappings of dataclasses, named tuples of dataclasses) and yields
each field's dotted override path with its annotation and stated bounds; :func:`bad_values`
is a hypothesis strategy of values that field must refuse (NaN, inf, wrong types,
non-integers for whole numbers, values beyond its bounds).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, get_args, get_origin, get_type_hints

from hypothesis import strategies as st

from envs.config.validate import Bounds


@dataclass(frozen=True)
class Leaf:
    """One overridable field: dotted path, annotation, bounds (items' bounds for tuples)."""

    path: str
    tp: Any
    bounds: Bounds

    def __str__(self) -> str:  # pytest ids
        return self.path


def leaves(cfg: Any, prefix: str = "") -> Iterator[Leaf]:
    """Every field reachable from the dataclass instance ``cfg``, sections included."""
    hints = get_type_hints(type(cfg))
    for f in dataclasses.fields(cfg):
        tp, path, value = hints[f.name], f"{prefix}{f.name}", getattr(cfg, f.name)
        bounds = f.metadata.get("bounds", Bounds())
        origin, args = get_origin(tp), get_args(tp)
        yield Leaf(path, tp, bounds)
        if dataclasses.is_dataclass(tp):
            yield from leaves(value, f"{path}.")
        elif origin is dict and args and dataclasses.is_dataclass(args[1]):
            for key, item in value.items():
                yield Leaf(f"{path}.{key}", args[1], Bounds())
                yield from leaves(item, f"{path}.{key}.")
        elif origin is dict and args and args[1] in (int, float):
            for key in value:
                yield Leaf(f"{path}.{key}", args[1], bounds)
        elif origin is tuple and args and dataclasses.is_dataclass(args[0]):
            for item in value:
                yield Leaf(f"{path}.{item.name}", args[0], Bounds())
                yield from leaves(item, f"{path}.{item.name}.")


_NOT_NUMBERS = [None, "abc", True, [1.0], {"a": 1}]
_NON_FINITE = [math.nan, math.inf, -math.inf, "nan", "inf", "-inf"]


def _beyond(bounds: Bounds, integer: bool) -> list[st.SearchStrategy[Any]]:
    """Strategies of numbers just or far outside each stated bound."""
    out = []
    step = st.integers(1, 10**6) if integer else st.floats(1e-9, 1e9)
    if bounds.ge is not None:
        out.append(step.map(lambda d, b=bounds.ge: b - d))
    if bounds.gt is not None:
        out.append(st.just(bounds.gt) | step.map(lambda d, b=bounds.gt: b - d))
    if bounds.le is not None:
        out.append(step.map(lambda d, b=bounds.le: b + d))
    if bounds.lt is not None:
        out.append(st.just(bounds.lt) | step.map(lambda d, b=bounds.lt: b + d))
    if integer:
        return [s.map(int) for s in out]
    return out


def _scalar_bad(tp: Any, bounds: Bounds) -> st.SearchStrategy[Any]:
    origin = get_origin(tp)
    if tp is float:
        return st.one_of(st.sampled_from(_NOT_NUMBERS + _NON_FINITE), *_beyond(bounds, False))
    if tp is int:
        fractions = st.floats(-1e6, 1e6).filter(lambda x: not x.is_integer())
        return st.one_of(
            st.sampled_from(_NOT_NUMBERS + _NON_FINITE + [2.5, "2.5"]),
            fractions,
            *_beyond(bounds, True),
        )
    if tp is bool:
        return st.sampled_from([None, "yes", "true", 2, 1.5, [True]])
    if tp is str:
        return st.sampled_from([None, 3, 1.5, True, ["a"], {"a": 1}])
    if origin is typing.Literal:
        return st.sampled_from([None, "no_such_value", 3, 1.5, True, ["a"]])
    if origin in (typing.Union, types.UnionType):  # str | None
        return st.sampled_from([3, 1.5, True, ["a"], {"a": 1}])
    if dataclasses.is_dataclass(tp):
        return st.sampled_from([None, 3, "abc", [1]])
    if origin is tuple:
        item = get_args(tp)[0]
        wrapped = _scalar_bad(item, bounds).map(lambda v: [v])
        return st.one_of(st.sampled_from([None, 3, "abc", {"a": 1}]), wrapped)
    if origin is dict:
        return st.sampled_from([None, 3, "abc", [1]])
    raise TypeError(f"no bad values for {tp}")


def bad_values(leaf: Leaf) -> st.SearchStrategy[Any]:
    """Values the field ``leaf`` must refuse."""
    return _scalar_bad(leaf.tp, leaf.bounds)


def one_bad(leaf: Leaf) -> Any:
    """One value ``leaf`` must refuse, fixed (NaN for numbers, a number for a string...)."""
    tp, origin = leaf.tp, get_origin(leaf.tp)
    if tp is float:
        return math.nan
    if tp is int:
        return 2.5
    if tp is bool:
        return "yes"
    if tp is str or origin in (typing.Literal, typing.Union, types.UnionType):
        return 3
    if origin is tuple:
        return "abc"
    return None


def sweep(leaf: Leaf) -> list[Any]:
    """Fixed bad values for ``leaf``: one of a wrong kind, non-finite, each bound crossed."""
    values = [one_bad(leaf)]
    tp = leaf.tp
    if get_origin(tp) is tuple and get_args(tp)[0] in (int, float):
        tp, wrap = get_args(tp)[0], True  # items of tariff.peak_hours and the like
    else:
        wrap = False
    if tp in (int, float):
        b = leaf.bounds
        values += [math.inf, -math.nan, "inf"] + ([1.5] if tp is int else [])
        values += [x - 1 for x in (b.ge,) if x is not None] + [
            x + 1 for x in (b.le,) if x is not None
        ]
        values += [x for x in (b.gt, b.lt) if x is not None]
        values = [
            int(v) if tp is int and isinstance(v, float) and v.is_integer() else v for v in values
        ]
    return [[v] if wrap and v is not values[0] else v for v in values]
