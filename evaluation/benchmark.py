"""``python -m evaluation.benchmark [--json]``: throughput of the simulator.

Measures, on this machine (wall clock, ``time.perf_counter``, best of ``--repeats``):

- ``parallel_env_steps_per_s``: PettingZoo parallel API on ``default`` with random
  actions sampled up front (dict in, dicts out, infos included);
- ``vector_env_steps_per_s``: the batched env at E = ``--num-envs`` (default 1024),
  counted as E env-steps per batched step;
- ``cooptimised_over_sequential_step``: the core step at E = ``--num-envs`` with energy and
  reserve co-optimised over the same step with sequential clearing, interleaved;
- ``step_ms_1000_members``: one core step with 1,000 members in the coalition;
- ``rex_orders_per_s``: the reservation exchange's matching engine;
- ``mpc_step_ms``: the median MPC decision on ``default`` (24 h horizon, after the first;
  :func:`evaluation.scaling.mpc_decision_ms`, which also times 200 and 1,000 members);
- ``oracle_episode_s``: the oracle planning a 7-day episode of ``default``;
- ``mappo_train_steps_per_s``: MAPPO training with ``configs/training/mappo.yaml``,
  measured by the training loop itself (the ``time/sps`` a run logs: rollout and update
  of whole 7-day episodes of 64 envs), median over iterations after the first; the first
  iteration's figure (``mappo_first_iteration_steps_per_s``, warm-up included) is shown
  beside it. No warm start (imitation), which runs once per run and is not in ``time/sps``.
  It runs in a fresh process, as a training run does (``python -m training.throughput``);
  ``mappo_train_device`` says where its networks ran (the config's ``device``: ``cpu``
  unless ``configs/training/mappo.yaml`` or ``--set device=cuda`` says otherwise);
- ``mappo_train_over_floor``: the wall time of a MAPPO iteration (same config, E and days)
  over its compute floor: the batched env alone stepping the same env steps
  (``mappo_floor_sim_ms_per_iter``) plus the same networks' forward, backward and Adam
  steps on synthetic tensors of the same shapes (``mappo_floor_nets_ms_per_iter``),
  measured interleaved in one fresh process (``python -m training.floor``), with the
  iteration's rollout and update times beside them;
- ``ppo_train_over_floor`` and ``ppo_train_steps_per_s``: the same for SB3 PPO with
  ``configs/training/ppo.yaml`` (``python -m training.floor_ppo``; env steps of its
  measured iterations over their wall time);
- with ``--load N``: ``load_ratio_e64`` and ``load_ratio_e1024``, the batched core step with
  N busy processes competing for the CPU over its idle time, measured interleaved;
- the ratios and scaling figures of :mod:`evaluation.scaling` (the step over a bare
  clearing and over writing its observations, PettingZoo over the core at 5,000 members,
  the MPC at 200 and 1,000 members, ``envs.make`` cold and cached);
- ``peak_rss_mb``: peak resident memory of the benchmark or of its MAPPO process,
  whichever is larger.

Each key with a target (:data:`TARGETS`) is printed beside it, with ``met`` or ``MISSED``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import envs
from envs.cli import cli_main


def parallel_steps_per_s(steps: int = 3000, repeats: int = 3) -> float:
    """Env-steps/s of the PettingZoo parallel API on ``default`` with random actions."""
    env = envs.make("multimarket_v1", scenario="default")
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
    venv = envs.make_vector("multimarket_v1", scenario="default", num_envs=num_envs)
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


def clearing_ratio(num_envs: int = 1024, steps: int = 20, repeats: int = 5) -> float:
    """Time of the core step with energy and reserve co-optimised over its time with the
    sequential clearing (reserve, then energy) on the same books, E = ``num_envs``,
    measured interleaved (A, B, A, B ...) so that the machine's load drifts out; best of
    ``repeats`` for each."""
    from envs.config.scenario import load_scenario
    from envs.sim import scripted
    from envs.sim.build import build_core

    cores = {}
    for mode in ("cooptimised", "sequential"):
        cfg = load_scenario("default", {"reserve.clearing": mode})
        core = build_core(cfg, num_envs, record_ledger=False)
        core.reset(np.random.default_rng(0))
        cores[mode] = (core, scripted.coalition_actions(core), scripted.member_actions(core))
    best = dict.fromkeys(cores, np.inf)
    for _ in range(repeats):
        for mode, (core, a_c, a_m) in cores.items():
            if core.t + steps > core.dims.T:
                core.reset(np.random.default_rng(0))
            t0 = time.perf_counter()
            for _ in range(steps):
                core.step(a_c, a_m, None)
            best[mode] = min(best[mode], (time.perf_counter() - t0) / steps)
    return best["cooptimised"] / best["sequential"]


def load_ratios(procs: int, sizes: tuple[int, ...] = (64, 1024), steps: int = 20,
                repeats: int = 3) -> dict[str, float]:  # fmt: skip
    """The batched core step under a competing CPU load over its time on the idle machine:
    ``procs`` busy-looping processes are started and stopped between measurements, so idle
    and loaded runs interleave; best of ``repeats`` each. Keys ``step_ms_e<E>_idle``,
    ``step_ms_e<E>_loaded`` and ``load_ratio_e<E>``."""
    import subprocess

    from evaluation.scaling import core_step_timer

    timers = {e: core_step_timer(e, steps)[2] for e in sizes}
    idle = dict.fromkeys(sizes, np.inf)
    loaded = dict.fromkeys(sizes, np.inf)
    for _ in range(repeats):
        for e, run in timers.items():
            idle[e] = min(idle[e], run())
        hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(procs)]  # fmt: skip
        try:
            time.sleep(0.2)  # let the scheduler see them
            for e, run in timers.items():
                loaded[e] = min(loaded[e], run())
        finally:
            for h in hogs:
                h.kill()
                h.wait()
    out: dict[str, float] = {}
    for e in sizes:
        out[f"step_ms_e{e}_idle"] = round(idle[e] * 1e3, 3)
        out[f"step_ms_e{e}_loaded"] = round(loaded[e] * 1e3, 3)
        out[f"load_ratio_e{e}"] = round(loaded[e] / idle[e], 3)
    return out


#: Targets of the issues that set them: (key, target, "min" = at least, "max" = at most).
TARGETS: dict[str, tuple[float, str]] = {
    "parallel_env_steps_per_s": (5_000.0, "min"),
    "vector_env_steps_per_s": (150_000.0, "min"),
    "mpc_step_ms": (20.0, "max"),
    "mappo_train_steps_per_s": (10_000.0, "min"),
    "mappo_train_over_floor": (1.5, "max"),
    "ppo_train_over_floor": (1.5, "max"),
    "load_ratio_e64": (1.5, "max"),
    "load_ratio_e1024": (1.5, "max"),
    "step_over_bare_clearing_e1024": (5.0, "max"),
    "step_over_obs_write_e1024": (4.0, "max"),
    "pettingzoo_over_core_5000": (5.0, "max"),
    "mpc_step_ms_200": (60.0, "max"),
    "mpc_step_ms_1000": (300.0, "max"),
    "make_cold_s": (15.0, "max"),
    "make_cached_s": (0.5, "max"),
}


def step_ms_members(members: int = 1000, steps: int = 100, repeats: int = 3) -> float:
    """Median milliseconds of one core step (E = 1) with ``members`` members."""
    from envs.config.scenario import load_scenario
    from envs.sim.build import build_core

    core = build_core(load_scenario("default", {"members.count": members}), 1, record_ledger=True)
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


def oracle_episode_s(days: int = 7) -> float:
    """Seconds for the oracle to plan a ``days``-day episode of ``default``, with rehearsals."""
    import agents

    env = envs.make("multimarket_v1", scenario="default", days=days)
    env.reset(seed=0)
    pol = agents.load("oracle")
    t0 = time.perf_counter()
    pol.reset(env, seed=0)
    return time.perf_counter() - t0


def mappo_train_steps_per_s(iterations: int, days: int) -> dict[str, float | str]:
    """MAPPO training throughput as the training loop logs it (``time/sps``), measured by
    ``python -m training.throughput`` in a fresh process, as a training run is.

    Measured in the benchmark's own process, after the E = 1024 batched env, MAPPO ran
    at about 520 env-steps/s against 4,500 in a fresh process on the 2-core machine
    (2026-11-29): the OpenMP threads that the batched env's parallel step starts (numba's
    ``omp`` threading layer) stay and compete with torch's. A training run never steps
    that env first, so neither does this measurement. (A subprocess also keeps
    ``evaluation`` from importing ``training``.)
    """
    import subprocess

    cmd = [sys.executable, "-m", "training.throughput", "--iterations", str(iterations),
           "--days", str(days)]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[1:])} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout)


def train_over_floor(repeats: int, days: int, module: str = "training.floor") -> dict[str, float]:
    """A training iteration's wall time over its compute floor (simulator + networks) and
    the parts, in ms per iteration, measured by ``python -m <module>`` in a fresh process
    (for the reason :func:`mappo_train_steps_per_s` gives): ``training.floor`` for MAPPO,
    ``training.floor_ppo`` for SB3 PPO; ``repeats`` iterations after a warm-up one."""
    import subprocess

    cmd = [sys.executable, "-m", module, "--repeats", str(repeats), "--days", str(days)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[1:])} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout)


def _measurements(args: argparse.Namespace) -> list[tuple[str, Callable[[], Any]]]:
    """(key, measure) of every figure the command line asks for, in run order; a measure
    returns a number, or a dict of keys when it measures several."""
    scale = 0.1 if args.quick else 1.0
    from evaluation import scaling as sc
    from evaluation.rex_bench import bench_orderbook

    short = max(int(100 * scale), 5)
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("parallel_env_steps_per_s",
         lambda: round(parallel_steps_per_s(int(3000 * scale), args.repeats), 1)),
        ("vector_env_steps_per_s",
         lambda: round(vector_steps_per_s(args.num_envs, short, args.repeats), 1)),
        ("cooptimised_over_sequential_step",
         lambda: round(clearing_ratio(args.num_envs, max(int(20 * scale), 4)), 3)),
        ("step_ms_1000_members", lambda: round(step_ms_members(1000, short, args.repeats), 4)),
        ("rex_orders_per_s", lambda: round(bench_orderbook(int(200_000 * scale)), 1)),
        ("mpc_step_ms",
         lambda: round(sc.mpc_decision_ms(None, max(int(48 * scale), 12), "default"), 2)),
        ("oracle_episode_s", lambda: round(oracle_episode_s(7), 3)),
        ("step_over_bare_clearing_e1024",
         lambda: round(sc.bare_clearing_ratio(args.num_envs, max(int(10 * scale), 2)), 2)),
        ("step_over_obs_write_e1024",
         lambda: round(sc.obs_write_ratio(args.num_envs, max(int(10 * scale), 2)), 2)),
        ("pettingzoo_over_core_5000",
         lambda: round(sc.pettingzoo_core_ratio(5000, max(int(20 * scale), 3)), 2)),
        ("mpc_step_ms_200", lambda: round(sc.mpc_decision_ms(None, 2 if args.quick else 8), 1)),
        ("mpc_step_ms_1000",
         lambda: round(sc.mpc_decision_ms(1000, 1 if args.quick else 4), 1)),
        ("make_s", sc.make_seconds),
        *([("load_ratio", lambda: load_ratios(args.load, steps=max(int(20 * scale), 3),
                                              repeats=args.repeats))] if args.load else []),
        ("mappo_train_steps_per_s",
         lambda: {k: round(v, 1) if isinstance(v, float) else v for k, v in
                  mappo_train_steps_per_s(2 if args.quick else 5,
                                          1 if args.quick else 7).items()}),
        *[(f"{algo}_train_over_floor",
           lambda module=module: {k: round(v, 3 if k.endswith("_over_floor") else 1)
                                  for k, v in train_over_floor(2 if args.quick else 7,
                                                               1 if args.quick else 7,
                                                               module).items()})
          for algo, module in (("mappo", "training.floor"), ("ppo", "training.floor_ppo"))],
    ]  # fmt: skip
    return steps


def _target(key: str, value: Any) -> tuple[str, bool] | None:
    """``(">= 5,000", met)`` for a key with a target (:data:`TARGETS`), else None."""
    if key not in TARGETS:
        return None
    t, bound = TARGETS[key]
    met = value >= t if bound == "min" else value <= t
    return f"{'>=' if bound == 'min' else '<='} {t:,g}", met


def _table_line(key: str, value: Any) -> str:
    """One line of the plain table: the key, its value, and its target with met/MISSED."""
    line = f"{key:36s} {value}"
    target = _target(key, value)
    if target is not None:
        line = f"{line:52s} target {target[0]}  {'met' if target[1] else 'MISSED'}"
    return line


def readme_table(out: dict[str, Any], when: str, command: str) -> str:
    """The README's benchmark section: every key measured, its target and met/MISSED."""
    lines = [f"Measured {when} by `{command}`, one run on the 2-core machine",
             "(shared: absolute figures drift 2-4x between runs, ratios much less):", "",
             "| key | measured | target | |", "| --- | --- | --- | --- |"]  # fmt: skip
    for key, value in out.items():
        text, met = _target(key, value) or ("", None)
        mark = "" if met is None else "met" if met else "**missed**"
        shown = f"{value:,}" if isinstance(value, (int, float)) else str(value)
        lines.append(f"| `{key}` | {shown} | {text} | {mark} |")
    return "\n".join(lines) + "\n"


@cli_main
def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; ``--json`` prints one JSON object (progress goes to stderr)."""
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
    p.add_argument(
        "--load", type=int, default=0, metavar="N",
        help="also time the batched step at E = 64 and 1024 with N busy processes competing "
        "for the CPU, interleaved with idle runs (load_ratio_e64, load_ratio_e1024)",
    )  # fmt: skip
    p.add_argument(
        "--write-readme", metavar="README", default=None,
        help="also rewrite README's benchmark section (between <!-- report:benchmark:begin/"
        "end --> markers) with this run's table",
    )  # fmt: skip
    p.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True,
        help="progress bar on stderr, one step per measurement (default: on)",
    )  # fmt: skip
    args = p.parse_args(argv)
    if args.num_envs < 1 or args.repeats < 1 or args.load < 0:
        print(f"error: --num-envs={args.num_envs}, --repeats={args.repeats} and "
              f"--load={args.load}; expected at least 1, 1 and 0", file=sys.stderr)  # fmt: skip
        return 2
    from tqdm import tqdm

    steps = _measurements(args)
    out: dict[str, Any] = {}
    # stderr, so that --json's stdout stays one JSON object.
    bar = tqdm(steps, desc="benchmark", unit="measure", file=sys.stderr, disable=not args.progress)
    for key, measure in bar:
        bar.set_postfix_str(key)
        value = measure()
        if isinstance(value, dict):
            out |= value
        else:
            out[key] = value
        if key == "vector_env_steps_per_s":
            out["vector_num_envs"] = args.num_envs
    # The MAPPO learner runs in a child process: report the larger of the two peaks.
    peak_kb = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    out["peak_rss_mb"] = round(peak_kb / 1024.0, 1)
    if args.write_readme:
        from evaluation.report import write_readme

        flags = [f"--load {args.load}"] * bool(args.load) + ["--quick"] * args.quick
        flags += [f"--num-envs {args.num_envs}"] * (args.num_envs != 1024)
        command = " ".join(["python -m evaluation.benchmark", *flags])
        when = time.strftime("%Y-%m-%d %H:%M")
        readme = Path(args.write_readme)
        table = readme_table(out, when, command)
        readme.write_text(write_readme(readme, {"benchmark": table}), encoding="utf-8")
    if args.json:
        out["targets"] = {k: {"target": t, "bound": b} for k, (t, b) in TARGETS.items()}
        print(json.dumps(out, indent=2))
    else:
        for k, v in out.items():
            print(_table_line(k, v))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
