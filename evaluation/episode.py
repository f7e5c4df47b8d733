"""Build an agent by name and run one deterministic multi-market episode with it.

:func:`run_episode` returns the ledger and the counterfactual (the env's own records)
and a *record*: one row per step of the info keys the ledger does not hold (prices,
emissions, hourly CFE, Lerner index, unserved energy), so that
:mod:`evaluation.metrics` computes everything from frames. Agents a policy does not
control (e.g. the incumbents of ``strategic_incumbents``) take the scenario's scripted
action (``env.scripted_actions()``).
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

import agents
from envs.adapters.infos import nested_info
from envs.adapters.parallel import COALITION_ID
from envs.errors import ActionError

__all__ = [
    "RECORD_KEYS",
    "Episode",
    "build_policy",
    "play_cell",
    "policy_class",
    "run_episode",
    "spot_dispatch",
]

#: Per-step keys of the coalition's ``info["market"]`` (nested) kept in the record.
MARKET_KEYS: tuple[str, ...] = (
    "price_eur_per_mwh",
    "reserve_price_eur_per_mw",
    "capacity_price_eur_per_mw_day",
    "emissions_t",
    "lerner_index",
    "markup_energy_weighted",
    "price_markup_competitive",
    "unserved_energy_mwh",
)
#: Per-step keys of the coalition's info kept in the record.
COALITION_KEYS: tuple[str, ...] = (
    "coalition_emissions_t",
    "coalition_cfe",
    "coalition_position_mw",
)
RECORD_KEYS: tuple[str, ...] = ("step", *MARKET_KEYS, *COALITION_KEYS, "n_clipped")


@dataclass(frozen=True)
class Episode:
    """What one episode leaves behind (frames as the env returns them)."""

    ledger: pd.DataFrame
    counterfactual: pd.DataFrame
    record: pd.DataFrame  # (T rows) RECORD_KEYS
    fleet: pd.DataFrame  # (G rows) participant, marginal_cost_eur_per_mwh


def policy_class(path: str) -> Any:
    """The class behind a built-in agent name (``agents.BUILTINS``) or ``pkg.mod:Class``.

    Raises:
        UnknownNameError: an unknown bare name (the message lists the valid ones).
        ValueError: the module or class cannot be imported.
    """
    path = agents.BUILTINS.get(path, path)
    if ":" not in path:
        agents.load(path)  # raises UnknownNameError listing the valid names
    module, _, attr = path.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"could not import agent class {path!r}: {exc}") from exc


def build_policy(name: str, registry: dict[str, str] | None = None) -> Any:
    """Build agent ``name`` with deterministic actions where its class offers the choice.

    Args:
        name: a built-in name, a name of ``registry`` (name -> ``pkg.mod:Class``), or a
            class path; ``NAME=PATH`` passes ``checkpoint=PATH`` (learned policies, e.g.
            ``mappo=runs/<run>/checkpoint.pt``); ``A+B`` builds a team (``agents.Team``).

    A class whose constructor takes ``deterministic`` gets ``deterministic=True`` (learned
    policies: the mean of the action distribution); the baselines are deterministic
    given their seed anyway.

    Raises:
        ValueError: ``NAME=PATH`` for a class without a ``checkpoint`` argument.
    """
    if "+" in name:  # a team: each part built as it would be alone
        return agents.Team([build_policy(part, registry) for part in name.split("+")])
    name, _, checkpoint = name.partition("=")
    path = (registry or {}).get(name, name)
    params = inspect.signature(policy_class(path)).parameters
    kwargs: dict[str, Any] = {"deterministic": True} if "deterministic" in params else {}
    if checkpoint:
        if "checkpoint" not in params:
            raise ValueError(
                f"agent {name!r} takes no checkpoint (got {name}={checkpoint}); "
                "NAME=PATH is for learned policies such as ppo and mappo"
            )
        kwargs["checkpoint"] = checkpoint
    return agents.load(path, **kwargs)


def _fleet(env: Any) -> pd.DataFrame:
    gens = env.unwrapped.cfg.fleet.generators
    return pd.DataFrame(
        {
            "participant": [f"incumbent_{g}" for g in range(len(gens))],
            "name": [g.name for g in gens],
            "marginal_cost_eur_per_mwh": [g.marginal_cost_eur_per_mwh for g in gens],
        }
    )


def spot_dispatch(ledger: pd.DataFrame, fleet: pd.DataFrame, steps: int) -> dict[str, list[float]]:
    """Hourly spot energy by unit, MWh per hour (= MW), from the ledger.

    Args:
        ledger: the episode ledger (energy + = delivered to the spot market).
        fleet: (G rows) participant, name.
        steps: T, the episode's steps.

    Returns:
        ``"<participant> (<name>)"`` for each incumbent and ``system_renewables`` -> (T,)
        energy sold; ``background_load`` -> (T,) energy bought (>= 0). Units that never
        ran are left out.
    """
    spot = ledger[ledger.market == "spot"]
    table = spot.pivot_table(
        index="step", columns="participant", values="energy_mwh", aggfunc="sum"
    ).reindex(range(steps), fill_value=0.0)
    table = table.fillna(0.0)
    out: dict[str, list[float]] = {}
    for participant, name in zip(fleet.participant, fleet.name, strict=True):
        if participant in table and (table[participant] > 1e-6).any():
            out[f"{participant} ({name})"] = table[participant].round(3).tolist()
    for participant, sign in (("system_renewables", 1.0), ("background_load", -1.0)):
        if participant in table:
            out[participant] = (sign * table[participant]).round(3).tolist()
    return out


def checked_act(policy: Any, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``policy.act(obs)``, refusing anything but a dict (ActionError names the policy)."""
    actions = policy.act(obs)
    if not isinstance(actions, dict):
        raise ActionError(
            f"{type(policy).__name__}.act returned {type(actions).__name__}; "
            "expected a dict of agent id -> action array"
        )
    return actions


def run_episode(env: Any, policy: Any, seed: int, observer: Any = None) -> Episode:
    """Play one episode of a multi-market env (``multimarket_v1``/``spot_v1``).

    Args:
        env: a PettingZoo ParallelEnv from ``envs.make``.
        policy: an object with ``controls``, ``reset(env, seed)`` and ``act(obs)``.
        seed: seeds both ``env.reset`` and ``policy.reset``.
        observer: optional object with ``before_step(t, env, actions)`` (the full action
            dict about to be stepped) and ``after_step(t, env, infos)``: lets a viewer
            (``evaluation.app``) record more of the hour or show progress without a
            second copy of this loop.

    Raises:
        ActionError: the policy returned something that is not a dict, or the env
            rejected its actions (missing agent, NaN, wrong shape).
        Exception: whatever the policy raises (the grid records it as a failure).
    """
    obs, _ = env.reset(seed=seed)
    policy.reset(env, seed=seed)
    controls = set(policy.controls)
    rows: list[dict[str, float]] = []
    t = 0
    while env.agents:
        actions = checked_act(policy, obs)
        others = [a for a in env.agents if a not in controls]
        if others:  # agents nobody controls follow the scenario's scripted behaviour
            scripted = env.scripted_actions()
            actions = {**{a: scripted[a] for a in others}, **actions}
        if observer is not None:
            observer.before_step(t, env, actions)
        obs, _, _, _, infos = env.step(actions)
        if observer is not None:
            observer.after_step(t, env, infos)
        coal = nested_info(infos[COALITION_ID])  # the caller's env: either info format
        row = {"step": t, **{k: coal["market"][k] for k in MARKET_KEYS}}
        row |= {k: coal[k] for k in COALITION_KEYS}
        row["n_clipped"] = float(sum(i.get("n_clipped", 0) for i in infos.values()))
        rows.append(row)
        t += 1
    record = pd.DataFrame(rows, columns=list(RECORD_KEYS))
    record = record.astype({"step": np.int64})
    return Episode(env.ledger(), env.counterfactual_bills(), record, _fleet(env))


def play_cell(cell: Any) -> dict[str, Any]:
    """Play one grid cell (:class:`evaluation.grid.Cell`) of a multi-market env.

    Returns:
        ``metrics`` (:func:`evaluation.metrics.cell_metrics`), ``member_saving_eur``
        ({member: EUR}, for the distribution plot) and ``series`` (per step: spot price
        EUR/MWh, reserve price EUR/MW, capacity price EUR/MW-day, the coalition's
        cleared position MW, and ``dispatch_mw``: spot energy by unit, see
        :func:`spot_dispatch`), ``n_clipped``.

    Raises:
        Whatever building the env or the agent, or the episode, raises.
    """
    import envs
    from evaluation.metrics import cell_metrics, member_savings

    env = envs.make(cell.env, scenario=cell.scenario, days=cell.days)
    policy = build_policy(cell.agent)
    ep = run_episode(env, policy, cell.seed)
    metrics = cell_metrics(ep.ledger, ep.counterfactual, ep.record, ep.fleet)
    metrics["n_clipped"] = float(ep.record.n_clipped.sum())
    saving = member_savings(ep.ledger, ep.counterfactual).saving_eur
    rec = ep.record
    return {
        "metrics": metrics,
        "member_saving_eur": {str(k): float(v) for k, v in saving.items()},
        "series": {
            "price_eur_per_mwh": rec.price_eur_per_mwh.round(3).tolist(),
            "reserve_price_eur_per_mw": rec.reserve_price_eur_per_mw.round(3).tolist(),
            "capacity_price_eur_per_mw_day": rec.capacity_price_eur_per_mw_day.round(3).tolist(),
            "coalition_position_mw": rec.coalition_position_mw.round(4).tolist(),
            "dispatch_mw": spot_dispatch(ep.ledger, ep.fleet, len(rec)),
        },
    }
