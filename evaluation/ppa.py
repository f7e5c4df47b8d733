"""Run a PPA negotiation scenario and print the agreement and a Table-1-style cost report.

Usage::

    python -m evaluation.ppa --scenario ppa_paper_case [--json] [--seed 0]
        [--strategy RM-IDM] [--rule majority]

Both seats are played by :class:`agents.negotiation.ConcessionAgent` through the
``ppa_negotiation_v0`` AEC env. Prices are EUR/MWh of consumption, before VAT.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any

from agents.negotiation import ConcessionAgent
from envs.cli import cli_main
from envs.errors import ConfigError, UnknownNameError
from envs.negotiation import cost_report
from envs.ppa_negotiation_v0 import make_env, ppa_contract

__all__ = ["main", "run"]


def run(scenario: str, *, seed: int = 0, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Play the scenario with scripted seats; return the JSON-ready summary."""
    env = make_env(scenario, overrides=overrides)
    policy = ConcessionAgent()
    env.reset(seed=seed)
    policy.reset(env, seed=seed)
    for agent in env.agent_iter():
        obs, _, terminated, truncated, _ = env.last()
        done = terminated or truncated
        env.step(None if done else policy.act({agent: obs})[agent])
    res = env.result()
    contract = ppa_contract(env)
    rows = cost_report(env.config.tariff, res.agreed_price_eur_per_mwh)
    return {
        "scenario": scenario,
        "outcome": res.outcome,
        "agreed_price_eur_per_mwh": res.agreed_price_eur_per_mwh,
        "agreed_volume_mw": res.agreed_volume_mw,
        "accepted_proposal": res.accepted_proposal,
        "accepted_by": res.accepted_by,
        "offered_by": res.offered_by,
        "withdrawn_by": res.withdrawn_by,
        "team_strategy": env.config.team_strategy,
        "decision_rule": env.config.decision_rule,
        "messages": res.messages,
        "proposals": [asdict(o) for o in res.history],
        "contract": None if contract is None else asdict(contract),
        "cost_report": [asdict(r) for r in rows],
    }


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _render(summary: dict[str, Any]) -> str:
    price = summary["agreed_price_eur_per_mwh"]
    lines = [
        f"scenario {summary['scenario']}: {summary['outcome']} "
        f"({summary['team_strategy']}, {summary['decision_rule']})",
    ]
    if price is not None:
        lines.append(
            f"agreed price {price:.2f} EUR/MWh: proposal {summary['accepted_proposal']} of the "
            f"{summary['offered_by']}, accepted by the {summary['accepted_by']}"
        )
    msgs = summary["messages"]
    lines += [
        f"messages: {msgs['total']} ({msgs['between_parties']} between the parties, "
        f"{msgs['within_team']} within the coalition)",
        "",
        "| Player | Details | Energy part (EUR/MWh) | Other part (EUR/MWh) "
        "| Total cost (EUR/MWh) | Remuneration (EUR/MWh) |",
        "|---|---|---|---|---|---|",
    ]
    for r in summary["cost_report"]:
        lines.append(
            f"| {r['player']} | {r['details']} | {_fmt(r['energy_part_eur_per_mwh'])} | "
            f"{_fmt(r['other_part_eur_per_mwh'])} | {_fmt(r['total_cost_eur_per_mwh'])} | "
            f"{_fmt(r['remuneration_eur_per_mwh'])} |"
        )
    return "\n".join(lines)


@cli_main
def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m evaluation.ppa``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.ppa",
        description="Negotiate a PPA (alternating offers, members' votes) and print the "
        "agreement and a Table-1-style cost report (EUR/MWh, before VAT).",
    )
    parser.add_argument(
        "--scenario",
        default="ppa_paper_case",
        help="scenario name for ppa_negotiation_v0 (default: ppa_paper_case)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed for the members' draws (default: 0)"
    )
    parser.add_argument(
        "--strategy",
        choices=["RE", "RM-IDM", "SSV", "SBV", "FUM"],
        default=None,
        help="override the team strategy",
    )
    parser.add_argument(
        "--rule",
        choices=["majority", "consensus", "unanimity"],
        default=None,
        help="override the decision rule (share of members voting yes: >50%%, 75%%, 100%%)",
    )
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {}
    if args.strategy:
        overrides["team_strategy"] = args.strategy
    if args.rule:
        overrides["decision_rule"] = args.rule
    try:
        summary = run(args.scenario, seed=args.seed, overrides=overrides)
    except (UnknownNameError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2) if args.json else _render(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
