"""Every numeric config field at 0, negatives, 1e15, 1e300, NaN, inf and its own bounds.

Shared by ``tests/envs/test_config_limits.py``. A case is one config root, one numeric
field (:class:`tests.envs.configfuzz.Leaf`) and one value. Its outcome is right when the
loader refuses the value with a :class:`~envs.errors.ConfigError` naming the field, or
accepts it and a short run of what the config drives stays sound:

- ``scenario``: ``multimarket_v1``, reset and :data:`STEPS` steps of random actions:
  finite observations, rewards and ledger, and a balanced ledger (:func:`ledger_problems`);
- ``exchange``: ``reservation_exchange_v0``, the same without a ledger;
- ``negotiation``: ``ppa_negotiation_v0`` (AEC), :data:`STEPS` turns of random actions;
- ``cfe``: the pooled-procurement year (:func:`evaluation.cfe.run`): a finite report;
- ``training``, ``admm``: the built config holds the value (nothing cheap to run).
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings
from collections.abc import Callable
from typing import Any, get_args, get_origin

import numpy as np

import envs
from envs.errors import ConfigError
from envs.market.settlement import MARKETS
from tests.conftest import random_actions
from tests.envs.configfuzz import Leaf

#: Steps (turns) of each accepted case's run.
STEPS = 4
#: The issue's values, every numeric field: zero, negatives, huge and non-finite.
FUZZ_VALUES: tuple[float, ...] = (0.0, -1.0, -1e15, 1e15, 1e300, math.nan, math.inf)


def item_type(leaf: Leaf) -> tuple[type | None, bool]:
    """(int or float, True for a tuple's items) of a numeric leaf; (None, False) otherwise."""
    tp = leaf.tp
    if get_origin(tp) is tuple and get_args(tp) and get_args(tp)[0] in (int, float):
        return get_args(tp)[0], True
    return (tp, False) if tp in (int, float) else (None, False)


def values_for(leaf: Leaf, with_bounds: bool = True) -> list[Any]:
    """:data:`FUZZ_VALUES` (whole numbers for an int field) and, if asked, both bounds."""
    tp, _ = item_type(leaf)
    values: list[Any] = list(FUZZ_VALUES)
    if with_bounds:
        b = leaf.bounds
        values += [x for x in (b.ge, b.le) if x is not None]
    if tp is int:  # an int field gets whole numbers (NaN and inf stay floats: refused)
        values = [int(v) if math.isfinite(v) and float(v).is_integer() else v for v in values]
    return values


def default_at(cfg: Any, path: str) -> Any:
    """The value at dotted ``path`` of a built config (tuple items of dataclasses by name)."""
    value = cfg
    for part in path.split("."):
        if isinstance(value, dict):
            value = value[part]
        elif isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
            value = next(item for item in value if item.name == part)
        else:
            value = getattr(value, part)
    return value


def override(leaf: Leaf, value: Any, default: Any) -> Any:
    """What to set ``leaf`` to: ``value``, or for a tuple field its first item replaced."""
    _, is_tuple = item_type(leaf)
    if not is_tuple:
        return value
    return [value, *list(default)[1:]]


def finite_problems(name: str, value: Any) -> list[str]:
    """Names of the non-finite numbers anywhere in ``value`` (dicts, sequences, arrays)."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in finite_problems(f"{name}.{k}", v)]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in finite_problems(f"{name}[{i}]", v)]
    if isinstance(value, (np.ndarray, np.generic, float, int)) and not isinstance(value, bool):
        arr = np.asarray(value)
        if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
            return [name]
    return []


def ledger_problems(env: Any, surplus_mwh: list[float]) -> list[str]:
    """How the multimarket ledger fails to balance (``[]`` when it balances).

    Per step and market, cash (EUR) and energy (MWh) sum to zero over participants (to
    1e-9 of their absolute sum); the operator's energy over all markets is minus the
    step's unabsorbed surplus (``surplus_mwh``, MWh per step, the members' export the
    system cannot take); the members' allocations sum to the coalition's other cash.
    """
    led = env.ledger()
    out = finite_problems("ledger", led[["cash_eur", "energy_mwh"]].to_numpy())
    sums = (
        led.assign(cash_abs=led["cash_eur"].abs(), energy_abs=led["energy_mwh"].abs())
        .groupby(["step", "market"])[["cash_eur", "energy_mwh", "cash_abs", "energy_abs"]]
        .sum()
    )
    for col in ("cash", "energy"):
        total, scale = sums[f"{col}_{'eur' if col == 'cash' else 'mwh'}"], sums[f"{col}_abs"]
        if not np.all(np.abs(total) <= 1e-9 * scale + 1e-6):
            out.append(f"ledger {col} does not sum to zero per step and market")
    operator = led[led["participant"] == "market_operator"].groupby("step")["energy_mwh"].sum()
    expected = -np.asarray(surplus_mwh)[operator.index.to_numpy()]
    if not np.allclose(operator.to_numpy(), expected, rtol=1e-9, atol=1e-6):
        out.append("ledger operator energy is not minus the unabsorbed surplus")
    core = env.core
    cash, c = core.ledger.cash[: core.ledger.steps, 0], core.settlement.cols
    alloc = cash[:, MARKETS.index("allocation"), c.members].sum(-1)
    result = np.delete(cash[:, :, c.coalition], MARKETS.index("allocation"), axis=1).sum(-1)
    if not np.allclose(alloc, result, rtol=1e-9, atol=1e-6):
        out.append("ledger allocations do not sum to the coalition's result")
    return out


def run_parallel(env_id: str, scenario: str | None, overrides: dict[str, Any]) -> list[str]:
    """Reset and step a parallel env; the non-finite outputs and ledger problems."""
    env = envs.make(env_id, scenario=scenario, overrides=overrides, **_days(env_id))
    obs, infos = env.reset(seed=0)
    rng = np.random.default_rng(0)
    out, surplus = finite_problems("obs", obs), []
    for _ in range(STEPS):
        obs, rew, _, _, infos = env.step(random_actions(env, rng))
        out += finite_problems("obs", obs) + finite_problems("reward", rew)
        found = [s for i in infos.values() if (s := _surplus(i)) is not None]
        if found:
            surplus.append(found[0])
        if not env.agents:
            break
    if hasattr(env, "ledger"):
        out += ledger_problems(env, surplus)
    return out


def _surplus(info: dict[str, Any]) -> float | None:
    """The step's unabsorbed surplus, MWh, from an agent's info (nested or flat keys)."""
    if "market/unabsorbed_surplus_mwh" in info:
        return info["market/unabsorbed_surplus_mwh"]
    market = info.get("market")
    return market.get("unabsorbed_surplus_mwh") if isinstance(market, dict) else None


def _days(env_id: str) -> dict[str, Any]:
    return {"days": 1} if env_id == "multimarket_v1" else {}


def run_negotiation(overrides: dict[str, Any]) -> list[str]:
    """:data:`STEPS` turns of ``ppa_negotiation_v0`` with random actions."""
    env = envs.make("ppa_negotiation_v0", api="aec", overrides=overrides)
    env.reset(seed=0)
    out: list[str] = []
    for n, agent in enumerate(env.agent_iter(max_iter=STEPS)):
        obs, rew, term, trunc, _ = env.last()
        out += finite_problems("obs", obs) + finite_problems("reward", rew)
        space = env.action_space(agent)
        space.seed(n)
        env.step(None if term or trunc else space.sample())
    return out


def run_cfe(cfg: Any) -> list[str]:
    """The pooled-procurement year's report: every number finite."""
    from evaluation.cfe import run

    report, _, _ = run(cfg)
    return finite_problems("report", report)


#: What an accepted value of each root drives (None: the built config is the check).
RUNS: dict[str, Callable[[Any, dict[str, Any]], list[str]] | None] = {
    "scenario": lambda cfg, ov: run_parallel("multimarket_v1", "default", ov),
    "exchange": lambda cfg, ov: run_parallel("reservation_exchange_v0", None, ov),
    "negotiation": lambda cfg, ov: run_negotiation(ov),
    "cfe": lambda cfg, ov: run_cfe(cfg),
    "training": None,
    "admm": None,
}


def names(leaf: Leaf, message: str) -> bool:
    """True when ``message`` names ``leaf``: its dotted path, or (a rule across fields,
    which names the section's other fields without the section) its name as a word."""
    name = re.escape(leaf.path.rsplit(".", 1)[-1])
    return leaf.path in message or re.search(rf"(?<![\w.]){name}\b", message) is not None


def outcome(load: Callable[[dict], Any], root: str, leaf: Leaf, value: Any) -> str:
    """``refused``, ``ran`` (accepted, sound) or ``WRONG: why`` for one case."""
    default = default_at(load({}), leaf.path)
    overrides = {leaf.path: override(leaf, value, default)}
    try:
        cfg = load(overrides)
    except ConfigError as exc:
        return "refused" if names(leaf, str(exc)) else f"WRONG: ConfigError not naming it: {exc}"
    except Exception as exc:  # any other error is a wrong outcome
        return f"WRONG: {type(exc).__name__} at construction: {exc}"
    held = default_at(cfg, leaf.path)
    if (held[0] if item_type(leaf)[1] else held) != value:
        return f"WRONG: accepted, but the config holds {held!r}"
    run = RUNS[root]
    if run is None:
        return "ran"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # overflow is a wrong outcome
            problems = run(cfg, overrides)
    except ConfigError as exc:  # refused by the env, naming the field, is right too
        return "refused" if names(leaf, str(exc)) else f"WRONG: ConfigError at make: {exc}"
    except Exception as exc:
        return f"WRONG: {type(exc).__name__} while running: {exc}"
    return f"WRONG: {', '.join(sorted(set(problems))[:4])}" if problems else "ran"
