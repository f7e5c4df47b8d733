"""Ratios and scaling figures of ``python -m evaluation.benchmark``: each compares the
simulator with a floor measured in the same run, so that the machine's load (shared,
2-4x drift) cancels out.

- ``step_over_bare_clearing_e1024``: the batched core step at E = 1024 over a bare numpy
  uniform-price clearing of the same day-ahead books (:func:`bare_uniform_price`);
- ``step_over_obs_write_e1024``: the batched env's whole step (checks, core step,
  observations, rewards, infos) over writing the observations it returns at this
  machine's copy bandwidth (``np.copyto`` into arrays of the same shapes);
- ``pettingzoo_over_core_5000``: the PettingZoo parallel step at 5,000 members (dicts of
  5,001 agents in and out, infos included) over the core step it calls;
- ``mpc_step_ms_200``, ``mpc_step_ms_1000``: the median MPC decision with 200 members
  (``large_coalition``) and 1,000 (``large_coalition`` with ``members.count: 1000``);
- ``make_cold_s``, ``make_cached_s``: ``import envs`` and the first ``envs.make`` in a
  fresh process, with an empty numba cache (a fresh clone) and with the cache that run
  left.

Each timing is the best of its repeats; A and B of a ratio alternate (A, B, A, B ...).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np

import envs

__all__ = [
    "bare_clearing_ratio",
    "bare_uniform_price",
    "core_step_timer",
    "make_seconds",
    "mpc_decision_ms",
    "obs_write_ratio",
    "pettingzoo_core_ratio",
]


def _interleaved(
    a: Callable[[], float], b: Callable[[], float], repeats: int
) -> tuple[float, float]:
    """Best of ``repeats`` of each timer, run A, B, A, B ... (seconds per call)."""
    best_a = best_b = np.inf
    for _ in range(repeats):
        best_a = min(best_a, a())
        best_b = min(best_b, b())
    return best_a, best_b


def _per_call(fn: Callable[[], object], calls: int) -> Callable[[], float]:
    def run() -> float:
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - t0) / calls

    return run


def _count_rowwise(
    sorted_rows: np.ndarray, values: np.ndarray, side: Literal["left", "right"]
) -> np.ndarray:
    """For each row e, how many of ``sorted_rows[e]`` (ascending) lie left of each of
    ``values[e]`` (``np.searchsorted`` a row, as one search: each row is shifted past the
    previous one's range)."""
    span = max(np.ptp(sorted_rows), np.ptp(values), 1.0) * 4.0 + 1.0
    lo = min(sorted_rows.min(), values.min())
    shift = np.arange(sorted_rows.shape[0])[:, None] * span - lo
    pos = np.searchsorted((sorted_rows + shift).ravel(), (values + shift).ravel(), side=side)
    return pos.reshape(values.shape) - np.arange(values.shape[0])[:, None] * sorted_rows.shape[1]


def bare_uniform_price(
    sq: np.ndarray, sp: np.ndarray, dq: np.ndarray, dp: np.ndarray
) -> np.ndarray:
    """The uniform price of E energy-only books, in numpy: the lowest supply or demand
    price ``p`` at which the supply offered at or below ``p`` covers the demand bid above
    ``p`` (the marginal block, supply or demand, sets the price). Supply in merit order and
    demand by bid, each sorted and summed up once a row; each candidate price finds its
    place on the other side by binary search.

    Args:
        sq, sp: (E, S) supply quantities (MW) and prices (EUR/MWh).
        dq, dp: (E, B) demand quantities and bid prices.

    Returns:
        (E,) clearing price, EUR/MWh (the highest bid where supply falls short).
    """
    e = sp.shape[0]
    o, od = np.argsort(sp, axis=1), np.argsort(dp, axis=1)
    ps, pd_ = np.take_along_axis(sp, o, 1), np.take_along_axis(dp, od, 1)
    zero = np.zeros((e, 1))
    cs = np.concatenate([zero, np.cumsum(np.take_along_axis(sq, o, 1), axis=1)], axis=1)
    qd = np.take_along_axis(dq, od, 1)
    above = np.concatenate([np.cumsum(qd[:, ::-1], axis=1)[:, ::-1], zero], axis=1)
    # demand bid strictly above p: the bids from the first one above p on
    dem_s = np.take_along_axis(above, _count_rowwise(pd_, ps, "right"), axis=1)
    ok_s = cs[:, 1:] >= dem_s  # at a supply price: supply up to it covers the bids above
    sup_d = np.take_along_axis(cs, _count_rowwise(ps, pd_, "right"), axis=1)
    dem_d = np.take_along_axis(above, _count_rowwise(pd_, pd_, "right"), axis=1)
    ok_d = sup_d >= dem_d  # at a bid price: supply at or below it covers the bids above
    return np.minimum(np.where(ok_s, ps, np.inf).min(1), np.where(ok_d, pd_, np.inf).min(1))


def _core_and_actions(num_envs: int, scenario: str = "default"):
    from envs.config.scenario import load_scenario
    from envs.sim import scripted
    from envs.sim.build import build_core

    core = build_core(load_scenario(scenario), num_envs, record_ledger=False)
    core.reset(np.random.default_rng(0))
    return core, scripted.coalition_actions(core), scripted.member_actions(core)


def core_step_timer(num_envs: int, steps: int) -> tuple[Any, np.ndarray, Callable[[], float]]:
    """A core at E = ``num_envs`` (``default``, scripted actions, no ledger), its coalition
    action, and a timer of its step: each call returns the mean seconds of ``steps`` steps
    (compiled and warmed up here; a new episode begins where the last would end)."""
    core, a_c, a_m = _core_and_actions(num_envs)

    def run() -> float:
        if core.t + steps > core.dims.T:
            core.reset(np.random.default_rng(0))
        t0 = time.perf_counter()
        for _ in range(steps):
            core.step(a_c, a_m, None)
        return (time.perf_counter() - t0) / steps

    run()  # compile and warm up
    return core, a_c, run


def bare_clearing_ratio(num_envs: int = 1024, steps: int = 10, repeats: int = 5) -> float:
    """The core step at E = ``num_envs`` over :func:`bare_uniform_price` of the same
    hour's day-ahead books (``MarketCore.day_ahead_book``), interleaved."""
    core, a_c, step_s = core_step_timer(num_envs, steps)
    book = core.day_ahead_book(a_c)
    sq, sp, dq, dp = book["supply_q"], book["supply_p"], book["demand_q"], book["demand_p"]
    bare_s = _per_call(lambda: bare_uniform_price(sq, sp, dq, dp), steps)
    t_step, t_bare = _interleaved(step_s, bare_s, repeats)
    return t_step / t_bare


def obs_write_ratio(num_envs: int = 1024, steps: int = 10, repeats: int = 5) -> float:
    """The batched env's step at E = ``num_envs`` (scripted actions) over copying
    observations of the same shapes into preallocated arrays, interleaved."""
    venv = envs.make_vector("multimarket_v1", scenario="default", num_envs=num_envs)
    venv.reset(seed=0)
    acts = venv.scripted_actions()
    obs, *_ = venv.step(acts)
    dst = {g: np.empty_like(o) for g, o in obs.items()}

    def step() -> None:
        if venv.needs_reset:
            venv.reset(seed=0)
        venv.step(acts)

    def write() -> None:
        for g, o in obs.items():
            np.copyto(dst[g], o)

    t_step, t_write = _interleaved(_per_call(step, steps), _per_call(write, steps), repeats)
    return t_step / t_write


def pettingzoo_core_ratio(members: int = 5000, steps: int = 20, repeats: int = 3) -> float:
    """The PettingZoo parallel step with ``members`` members (random actions as dicts)
    over the core step (E = 1) it calls, interleaved on the same env."""
    env = envs.make("multimarket_v1", scenario="default", overrides={"members.count": members})
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    acts = {a: rng.uniform(-1, 1, env.action_space(a).shape).astype(np.float32)
            for a in env.possible_agents}  # fmt: skip
    core = env.core
    a_c = rng.uniform(-1, 1, (1, core.layout.coalition))
    a_m = rng.uniform(-1, 1, (1, members, 2))

    def pz() -> None:
        if not env.agents or core.t + 1 >= core.dims.T:
            env.reset(seed=0)
        env.step(acts)

    def bare() -> None:
        if core.t + 1 >= core.dims.T:
            env.reset(seed=0)
        core.step(a_c, a_m, None)

    pz()
    t_pz, t_core = _interleaved(_per_call(pz, steps), _per_call(bare, steps), repeats)
    return t_pz / t_core


def mpc_decision_ms(members: int | None = None, decisions: int = 8,
                    scenario: str = "large_coalition", **mpc_kwargs: object) -> float:  # fmt: skip
    """Median milliseconds of an MPC decision (after the first) with ``members`` members
    (the scenario's own count when None)."""
    import agents

    overrides = {} if members is None else {"members.count": members}
    days = decisions // 24 + 1  # the decisions and the first fit in the episode
    env = envs.make("multimarket_v1", scenario=scenario, days=days, overrides=overrides)
    pol = agents.load("mpc", **mpc_kwargs)
    obs, _ = env.reset(seed=0)
    pol.reset(env, seed=0)
    times = []
    for _ in range(decisions + 1):
        t0 = time.perf_counter()
        actions = pol.act(obs)
        times.append(time.perf_counter() - t0)
        obs, *_ = env.step(actions)
    return float(np.median(times[1:]) * 1e3)


_ROOT = Path(__file__).resolve().parents[1]  # the checkout whose envs is measured
_MAKE = ("import time; t0 = time.perf_counter(); import envs; "
         "envs.make('multimarket_v1', scenario='default'); "
         "print(time.perf_counter() - t0)")  # fmt: skip


def make_seconds() -> dict[str, float]:
    """``import envs`` plus the first ``envs.make`` in a fresh process: with an empty numba
    cache (``make_cold_s``: everything compiles, as in a fresh clone) and then with the
    cache that run wrote (``make_cached_s``)."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="numba_cache_") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for key in ("make_cold_s", "make_cached_s"):
            res = subprocess.run([sys.executable, "-c", _MAKE], capture_output=True, text=True,
                                 env=env, check=False, cwd=_ROOT)  # fmt: skip
            if res.returncode != 0:
                raise RuntimeError(f"envs.make in a fresh process failed:\n{res.stderr[-2000:]}")
            out[key] = round(float(res.stdout.strip().splitlines()[-1]), 2)
    return out
