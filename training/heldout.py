"""Members' saving of policies on held-out seeds, from the ledger (issue 4's closing check).

Usage::

    python -m training.heldout --agents rule mpc oracle ppo mappo --scenario default \
        --seeds 1000 1001 1002 1003 1004 --days 7 [--checkpoint mappo=runs/x/checkpoint.pt]

Members' saving of an episode = what the members would have paid alone (the
counterfactual bills, ``env.counterfactual_bills()``) plus the members' allocation cash
in the coalition (the ledger's ``allocation`` rows; + = received), i.e. the
counterfactual minus their coalition bill: the ledger computation of
``tests/agents/test_baselines.py``. It equals the sum of the coalition's rewards (checked).
Prints a Markdown table (mean and per-seed, EUR per episode) and can write JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np

import agents
import envs
from envs.adapters.parallel import COALITION_ID
from envs.cli import cli_main
from envs.sim.ledger import member_savings

__all__ = ["episode_saving", "main"]


def episode_saving(env: Any, pol: Any, seed: int) -> dict[str, float]:
    """Run one episode of ``pol`` in ``env``; members' saving (EUR) from the ledger and from
    the coalition's rewards, and the wall time (s)."""
    t0 = time.perf_counter()
    obs, _ = env.reset(seed=seed)
    pol.reset(env, seed=seed)
    reward = 0.0
    while env.agents:
        obs, rewards, *_ = env.step(pol.act(obs))
        reward += rewards[COALITION_ID]
    saving = float(member_savings(env.ledger(), env.counterfactual_bills()).saving_eur.sum())
    return {"saving_eur": saving, "reward_eur": float(reward), "wall_s": time.perf_counter() - t0}


@cli_main
def main(argv: list[str] | None = None) -> int:
    """CLI entry point; prints a Markdown table."""
    p = argparse.ArgumentParser(
        prog="python -m training.heldout",
        description="Members' saving (EUR/episode) on held-out seeds.",
    )
    p.add_argument(
        "--agents",
        nargs="+",
        default=["rule", "mpc", "oracle", "ppo", "mappo"],
        help="built-in names or package.module:Class paths",
    )
    p.add_argument("--scenario", default="default", help="scenario name")
    p.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=[1000, 1001, 1002, 1003, 1004],
        help="reset seeds (evaluation uses seeds >= 1000)",
    )
    p.add_argument("--days", type=int, default=7, help="episode length, days")
    p.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="load agent NAME (ppo/mappo) from PATH instead of the shipped one",
    )
    p.add_argument("--json", help="also write the results to this JSON file")
    args = p.parse_args(argv)
    ckpt = dict(item.split("=", 1) for item in args.checkpoint)
    env = envs.make("multimarket_v1", scenario=args.scenario, days=args.days)
    results: dict[str, list[dict[str, float]]] = {}
    for name in args.agents:
        kwargs = {"checkpoint": ckpt[name]} if name in ckpt else {}
        try:
            results[name] = [
                episode_saving(env, agents.load(name, **kwargs), s) for s in args.seeds
            ]
        except (ValueError, FileNotFoundError) as exc:
            print(f"error: {name}: {exc}", file=sys.stderr)
            return 2
        for r in results[name]:
            if not np.isclose(r["saving_eur"], r["reward_eur"], rtol=1e-6, atol=1.0):
                print(
                    f"warning: {name}: ledger saving {r['saving_eur']:.1f} != rewards "
                    f"{r['reward_eur']:.1f}",
                    file=sys.stderr,
                )
    seeds = " | ".join(str(s) for s in args.seeds)
    print(f"Members' saving on {args.scenario}, {args.days} days, EUR per episode\n")
    print(f"| agent | mean | {seeds} | s/episode |")
    print("|---" * (len(args.seeds) + 3) + "|")
    for name, rs in results.items():
        vals = [r["saving_eur"] for r in rs]
        cells = " | ".join(f"{v:,.0f}" for v in vals)
        wall = np.mean([r["wall_s"] for r in rs])
        print(f"| {name} | {np.mean(vals):,.0f} | {cells} | {wall:.1f} |")
    if args.json:
        doc = {"scenario": args.scenario, "days": args.days, "seeds": args.seeds,
               "results": results}  # fmt: skip
        try:
            with open(args.json, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=1)
        except OSError as exc:
            # A full disk fails in write() or close(), where OSError carries no file name.
            raise OSError(exc.errno, exc.strerror, args.json) from None
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
