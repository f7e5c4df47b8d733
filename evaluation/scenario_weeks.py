"""What a week of each shipped market scenario means: the table of envs/README.md.

Computed from the scenario configs and their profiles alone (no market is stepped), so it
cannot drift from them: members (how many, and what a member is), the realised peaks of
the background and of the system (background plus members, coincident) beside the
incumbent fleet's installed and derated MW, the renewables' share of the week's energy,
and where the stress is. Figures are means over :data:`SEEDS`.

    python -m evaluation.scenario_weeks                      # print the table
    python -m evaluation.scenario_weeks --write-readme envs/README.md
    python -m evaluation.scenario_weeks --check envs/README.md   # exit 1 if stale
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from envs.actors.members import MemberArrays
from envs.config.scenario import ScenarioConfig, load_scenario
from envs.data.episode import episode_profiles
from envs.registry import list_scenarios
from evaluation.report import check_readme, write_readme

__all__ = ["SECTION", "SEEDS", "markdown", "scenario_row"]

#: Seeds of the profiles the figures average over.
SEEDS = (0, 1, 2)
#: Name of the README section (``<!-- report:scenario_weeks:begin/end -->``).
SECTION = "scenario_weeks"
#: Peak net load (load less renewables) above this share of the derated fleet: the week's
#: stress is on firm capacity (less margin than the reserve requirement's 4 % of load).
FIRM_STRESS_SHARE = 0.97
#: The coalition's share of the system peak from which its bids move the price.
PRICE_MOVING_SHARE = 0.25
#: Share of member-hours in which a member's renewables exceed its load, from which the
#: week's stress includes selling the members' surplus.
EXPORT_SHARE = 0.1
HEADER = (
    "| scenario | the week | members | a member (mean) | background peak MW | system peak MW "
    "| fleet MW (derated) | peak net load / derated fleet | renewables share | stress |\n"
    "|---|---|---|---|---:|---:|---:|---:|---:|---|"
)


def _members(cfg: ScenarioConfig, m: MemberArrays) -> tuple[str, str]:
    """(count and personas, one mean member's sizes) of the coalition."""
    counts = Counter(m.persona)
    mix = ", ".join(f"{n} {p}" for p, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    n = cfg.members.count
    site = (
        f"{m.peak_load_mw.mean():.2f} MW peak, {m.pv_mw.mean():.2f} MW PV, "
        f"{m.wind_mw.mean():.2f} MW wind, {m.battery_mwh.mean():.2f} MWh / "
        f"{m.battery_mw.mean():.2f} MW battery"
    )
    return f"{n}: {mix}", site


def scenario_row(name: str) -> dict[str, float | str]:
    """The table's figures for scenario ``name``: MW, shares in [0, 1], and text cells."""
    cfg = load_scenario(name)
    m = MemberArrays.from_config(cfg.members)
    bg, T = cfg.background, cfg.hours
    gens = cfg.fleet.generators
    derated = sum(g.capacity_mw * g.capacity_derating for g in gens)
    # The largest unit is pivotal when the others cannot cover the load (RSI below the
    # fleet's threshold: PJM's three-pivotal-supplier test, here one supplier).
    others = sum(g.capacity_mw for g in gens) - max(g.capacity_mw for g in gens)
    fig: dict[str, list[float]] = {
        k: [] for k in ("bg", "system", "net", "ren", "coal", "piv", "export")
    }
    for seed in SEEDS:
        p = episode_profiles(cfg, m, np.random.default_rng(seed), 1)
        members = p.load_mw[0, :T].sum(-1)
        load = p.system_load_mw[0, :T] + members
        ren_sys = bg.solar_mw * p.solar_cf[0, :T] + bg.wind_mw * p.wind_cf[0, :T]
        ren = ren_sys + p.pv_mw[0, :T].sum(-1) + p.wind_mw[0, :T].sum(-1)
        fig["bg"].append(p.system_load_mw[0, :T].max())
        fig["system"].append(load.max())
        fig["net"].append((load - ren).max())
        fig["ren"].append(np.minimum(ren, load).sum() / load.sum())
        fig["coal"].append(members[np.argmax(load)] / load.max())
        surplus = p.pv_mw[0, :T] + p.wind_mw[0, :T] > p.load_mw[0, :T]  # (T, N)
        fig["export"].append(float(surplus.mean()))
        fig["piv"].append(float(np.mean(others / load < cfg.fleet.rsi_threshold)))
    mean = {k: float(np.mean(v)) for k, v in fig.items()}
    stress = []
    if mean["net"] >= FIRM_STRESS_SHARE * derated:
        stress.append("firm capacity at the peak")
    if mean["coal"] >= PRICE_MOVING_SHARE:
        stress.append(f"the coalition's bids ({mean['coal']:.0%} of the peak) move the price")
    if mean["export"] >= EXPORT_SHARE:
        stress.append(f"members' PV surplus in {mean['export']:.0%} of member-hours")
    if cfg.ppa.volume_mw > 0:
        stress.append(f"the {cfg.ppa.volume_mw:g} MW wind PPA's profile risk")
    if cfg.carbon_price_eur_per_t > 0:
        stress.append(f"the merit order at {cfg.carbon_price_eur_per_t:g} EUR/t CO2")
    if not cfg.capacity.enabled:
        stress.append("energy-only: no capacity payments")
    if cfg.fleet.strategy == "withholding" or cfg.fleet.controlled:
        stress.append(f"market power: the largest unit pivotal in {mean['piv']:.0%} of hours")
    members, site = _members(cfg, m)
    return {
        "members": members,
        "site": site,
        "bg_peak": mean["bg"],
        "system_peak": mean["system"],
        "fleet": sum(g.capacity_mw for g in gens),
        "derated": derated,
        "net_share": mean["net"] / derated,
        "renewables": mean["ren"],
        "stress": "; ".join(stress) or "none at the peak (margin above 3 %)",
        "description": cfg.description,
    }


def markdown(names: list[str] | None = None) -> str:
    """The Markdown table of the shipped multi-market scenarios (or ``names``)."""
    lines = [HEADER]
    for name in names or list_scenarios("multimarket_v1"):
        r = scenario_row(name)
        lines.append(
            f"| {name} | {r['description']} | {r['members']} | {r['site']} | {r['bg_peak']:,.0f} "
            f"| {r['system_peak']:,.0f} | {r['fleet']:,.0f} ({r['derated']:,.0f}) "
            f"| {r['net_share']:.0%} | {r['renewables']:.0%} | {r['stress']} |"
        )
    note = (
        "\nPeaks are the week's largest hour, means over seeds "
        f"{', '.join(map(str, SEEDS))}; the background's is the scenario's stated "
        "`background.peak_load_mw` (envs/data/episode.py). Net load: all load less all "
        "renewables (system and members'); renewables share: of the week's load energy, "
        "surplus hours counted at the load. Stress: peak net load at "
        f"{FIRM_STRESS_SHARE:.0%} or more of the derated fleet, or a coalition of "
        f"{PRICE_MOVING_SHARE:.0%} or more of the peak, members' renewables above their load "
        f"in {EXPORT_SHARE:.0%} or more of member-hours, and the scenario's contracts and "
        "rules. Written by "
        "`python -m evaluation.scenario_weeks --write-readme envs/README.md`."
    )
    return "\n".join(lines) + "\n" + note + "\n"


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: print, write or check the README section."""
    p = argparse.ArgumentParser(prog="python -m evaluation.scenario_weeks",
                                description=__doc__.split("\n")[0])  # fmt: skip
    p.add_argument("--write-readme", type=Path, help="rewrite the section of this page")
    p.add_argument("--check", type=Path, help="exit 1 if this page's section is stale")
    args = p.parse_args(argv)
    table = markdown()
    if args.check:
        stale = check_readme(args.check, {SECTION: table})
        print(f"{args.check}: {'stale' if stale else 'up to date'}")
        return 1 if stale else 0
    if args.write_readme:
        args.write_readme.write_text(write_readme(args.write_readme, {SECTION: table}))
        return 0
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
