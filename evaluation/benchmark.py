"""``python -m evaluation.benchmark [--json]``: throughput of the simulator.

Measures, on this machine (wall clock, ``time.perf_counter``, best of ``--repeats``):

- ``parallel_env_steps_per_s``: PettingZoo parallel API on ``default`` with random
  actions sampled up front (dict in, dicts out, infos included);
- ``vector_env_steps_per_s``: the batched env at E = ``--num-envs`` (default 1024),
  counted as E env-steps per batched step;
- ``step_ms_1000_members``: one core step with 1,000 members in the coalition;
- ``rex_orders_per_s``: the reservation exchange's matching engine;
- ``mpc_step_ms``: the median MPC decision on ``default`` (24 h horizon);
- ``oracle_episode_s``: the oracle planning a 7-day episode of ``default``;
- ``mappo_train_steps_per_s``: MAPPO training with ``configs/training/mappo.yaml``
  (rollout and update of whole 7-day episodes of 64 envs, the run's ``time/sps``;
  median over iterations after the first; no warm start, which runs once per run);
- ``peak_rss_mb``: the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np

import envs
from envs.cli import cli_main


def parallel_steps_per_s(steps: int = 3000, repeats: int = 3) -> float:
    """Env-steps/s of the PettingZoo parallel API on ``default`` with random actions."""
    env = envs.make("multimarket_v0", scenario="default")
    rng = np.random.default_rng(0)
    spaces = {a: env.action_space(a) for a in env.possible_agents}
    pool = [
        {a: rng.uniform(-1, 1, s.shape).astype(np.float32) for a, s in spaces.items()}
        for _ in range(64)
    ]
    best = 0.0
    for _ in range(repeats):
        env.reset(seed=0)
        t0 = time.perf_counter()
        for i in range(steps):
            if not env.agents:
                env.reset()
            env.step(pool[i % 64])
        best = max(best, steps / (time.perf_counter() - t0))
    return best


def vector_steps_per_s(num_envs: int = 1024, steps: int = 100, repeats: int = 3) -> float:
    """Env-steps/s of the batched env (E * steps / seconds) with random actions."""
    venv = envs.make_vector("multimarket_v0", scenario="default", num_envs=num_envs)
    rng = np.random.default_rng(0)
    acts = [
        {g: rng.uniform(-1, 1, (num_envs, *s.shape)) for g, s in venv.action_spaces.items()}
        for _ in range(4)
    ]
    best = 0.0
    for _ in range(repeats):
        venv.reset(seed=0)
        t0 = time.perf_counter()
        for i in range(steps):
            venv.step(acts[i % 4])
        best = max(best, num_envs * steps / (time.perf_counter() - t0))
    return best


def step_ms_members(members: int = 1000, steps: int = 100, repeats: int = 3) -> float:
    """Median milliseconds of one core step (E = 1) with ``members`` members."""
    from envs.config.scenario import load_scenario
    from envs.sim.core import MarketCore

    core = MarketCore(load_scenario("default", {"members.count": members}), 1, record_ledger=True)
    rng = np.random.default_rng(0)
    times = []
    for _ in range(repeats):
        core.reset(rng)
        a_c = rng.uniform(-1, 1, (steps, 1, core.layout.coalition))
        a_m = rng.uniform(-1, 1, (steps, 1, members, 2))
        for i in range(steps):
            t0 = time.perf_counter()
            core.step(a_c[i], a_m[i], None)
            times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1e3)


def mpc_step_ms(steps: int = 48) -> float:
    """Median milliseconds of one MPC decision (LP update and HiGHS solve) on ``default``."""
    import agents

    env = envs.make("multimarket_v0", scenario="default", days=max(2, steps // 24 + 1))
    pol = agents.load("mpc")
    obs, _ = env.reset(seed=0)
    pol.reset(env, seed=0)
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        actions = pol.act(obs)
        times.append(time.perf_counter() - t0)
        obs, *_ = env.step(actions)
    return float(np.median(times) * 1e3)


def oracle_episode_s(days: int = 7) -> float:
    """Seconds for the oracle to plan a ``days``-day episode of ``default``, with rehearsals."""
    import agents

    env = envs.make("multimarket_v0", scenario="default", days=days)
    env.reset(seed=0)
    pol = agents.load("oracle")
    t0 = time.perf_counter()
    pol.reset(env, seed=0)
    return time.perf_counter() - t0


def mappo_train_steps_per_s(iterations: int = 5, days: int = 7) -> float:
    """Env-steps/s of MAPPO training (rollout and update), as ``time/sps`` in a run."""
    from pathlib import Path

    from training.common import seed_everything
    from training.config import load_config
    from training.mappo_run import build
    from training.rollout import collect

    path = Path(__file__).resolve().parents[1] / "configs" / "training" / "mappo.yaml"
    cfg = load_config(path, {"env.days": days})
    seed_everything(cfg.seed, cfg.threads)
    venvs, learner, _ = build(cfg)
    rates = []
    for it in range(iterations):
        t0 = time.perf_counter()
        batches, states, _ = collect(venvs[it % len(venvs)], learner, it, cfg.mappo.reward_scale)
        learner.update(batches, states)
        rates.append(cfg.steps_per_iteration / (time.perf_counter() - t0))
    return float(np.median(rates[1:] if len(rates) > 1 else rates))


@cli_main
def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; ``--json`` prints one JSON object."""
    p = argparse.ArgumentParser(
        prog="python -m evaluation.benchmark", description=__doc__.splitlines()[0]
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument(
        "--num-envs", type=int, default=1024, help="E for the batched env (default 1024)"
    )
    p.add_argument(
        "--repeats", type=int, default=3, help="repeats of each measurement; the best is kept"
    )
    p.add_argument(
        "--quick", action="store_true", help="fewer steps (a smoke run, not for quoting)"
    )
    args = p.parse_args(argv)
    scale = 0.1 if args.quick else 1.0
    from evaluation.rex_bench import bench_orderbook

    out = {
        "parallel_env_steps_per_s": round(parallel_steps_per_s(int(3000 * scale), args.repeats), 1),
        "vector_env_steps_per_s": round(
            vector_steps_per_s(args.num_envs, max(int(100 * scale), 5), args.repeats), 1
        ),
        "vector_num_envs": args.num_envs,
        "step_ms_1000_members": round(
            step_ms_members(1000, max(int(100 * scale), 5), args.repeats), 4
        ),
        "rex_orders_per_s": round(bench_orderbook(int(200_000 * scale)), 1),
        "mpc_step_ms": round(mpc_step_ms(max(int(48 * scale), 12)), 2),
        "oracle_episode_s": round(oracle_episode_s(7), 3),
        "mappo_train_steps_per_s": round(
            mappo_train_steps_per_s(2 if args.quick else 5, 1 if args.quick else 7), 1
        ),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for k, v in out.items():
            print(f"{k:28s} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
