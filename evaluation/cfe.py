"""Pooled procurement and CFE matching over a full year: ``python -m evaluation.cfe``.

Runs a scenario whose file says ``env: evaluation.cfe`` (default ``pooled_procurement``)
for 8 760 hours and reports, per participant and for the pool, volumetric RE %,
standalone hourly CFE %, CFE % after pro-rata certificate swaps, pooled CFE % and the
financials (certificate revenue, swap payments, shortage cost, net settlement, gain over
going it alone). The metrics are :mod:`envs.cfe.model`; profiles come from
:mod:`envs.cfe.config` (synthetic or real package data).

Examples:
    python -m evaluation.cfe --scenario pooled_procurement
    python -m evaluation.cfe --scenario pooled_procurement --json --seed 3
    python -m evaluation.cfe --profiles real --hourly-csv hourly.csv --plots plots/
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from envs.cfe import model as cfe
from envs.cfe.config import CfeScenarioConfig, Profiles, build_profiles, load_scenario
from envs.cli import cli_main
from envs.errors import ConfigError, UnknownNameError

__all__ = ["main", "run", "write_hourly_csv", "write_plots"]

METRICS = ("volumetric_re_pct", "standalone_cfe_pct", "swapped_cfe_pct", "pooled_cfe_pct")
MONEY = (
    "certificate_revenue_eur",
    "swap_revenue_eur",
    "swap_cost_eur",
    "shortage_cost_eur",
    "net_settlement_eur",
    "standalone_net_eur",
    "pooling_gain_eur",
)


def _by_name(names: tuple[str, ...], values: np.ndarray, pool: float) -> dict[str, float]:
    """{participant: value, ..., "pool": value}, rounded to 4 decimals."""
    out = {n: round(float(v), 4) for n, v in zip(names, values, strict=True)}
    out["pool"] = round(float(pool), 4)
    return out


def run(cfg: CfeScenarioConfig) -> tuple[dict[str, Any], Profiles, cfe.SwapResult]:
    """Simulate the year and build the report.

    Args:
        cfg: the scenario (its ``seed`` seeds synthetic profiles).

    Returns:
        (report dict as printed by ``--json``, the hourly profiles, the swaps).
    """
    prof = build_profiles(cfg, np.random.default_rng(cfg.seed))
    load, gen = prof.load_mwh, prof.gen_mwh
    metrics = cfe.cfe_metrics(load, gen)
    swaps = cfe.pro_rata_swaps(load, gen)
    fin = cfe.financials(
        load,
        gen,
        certificate_price_eur_per_mwh=[p.certificate_price_eur_per_mwh for p in cfg.participants],
        shortage_price_eur_per_mwh=[p.shortage_price_eur_per_mwh for p in cfg.participants],
        swap_price_eur_per_mwh=cfg.swap_price_eur_per_mwh,
    )
    names = prof.names
    money = {key: getattr(fin, key) for key in MONEY}
    financials: dict[str, dict[str, float]] = {
        name: {key: round(float(money[key][i]), 2) for key in MONEY} for i, name in enumerate(names)
    }
    financials["pool"] = {key: round(float(money[key].sum()), 2) for key in MONEY}
    report: dict[str, Any] = {
        "profiles": cfg.profiles,
        "seed": cfg.seed,
        "hours": int(load.shape[0]),
        "participants": list(names),
        "annual_load_mwh": _by_name(names, load.sum(axis=0), load.sum()),
        "annual_solar_mwh": _by_name(names, prof.solar_mwh.sum(axis=0), prof.solar_mwh.sum()),
        "annual_wind_mwh": _by_name(names, prof.wind_mwh.sum(axis=0), prof.wind_mwh.sum()),
        "swapped_mwh": round(float(swaps.swapped_mwh.sum()), 4),
    }
    for key in METRICS:
        report[key] = _by_name(names, getattr(metrics, key), getattr(metrics, f"pool_{key}"))
    report["financials"] = financials
    return report, prof, swaps


def write_hourly_csv(path: Path, prof: Profiles, swaps: cfe.SwapResult, year: int) -> None:
    """Write one row per hour: timestamp, then per participant load, solar, wind, swaps (MWh)."""
    columns: dict[str, Any] = {
        "timestamp": pd.date_range(f"{year}-01-01", periods=prof.load_mwh.shape[0], freq="h")
    }
    for i, name in enumerate(prof.names):
        columns[f"{name}_load_mwh"] = prof.load_mwh[:, i]
        columns[f"{name}_solar_mwh"] = prof.solar_mwh[:, i]
        columns[f"{name}_wind_mwh"] = prof.wind_mwh[:, i]
        columns[f"{name}_swap_in_mwh"] = swaps.received_mwh[:, i]
        columns[f"{name}_swap_out_mwh"] = swaps.exported_mwh[:, i]
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(columns).to_csv(path, index=False, float_format="%.4f")


def write_plots(out_dir: Path, report: dict[str, Any], prof: Profiles, year: int) -> list[Path]:
    """Save the four PNGs (one week, monthly balance, net position, CFE comparison).

    Uses :class:`matplotlib.figure.Figure` with the Agg canvas, so no global pyplot state
    or display is touched.

    Returns:
        The paths written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out_dir.mkdir(parents=True, exist_ok=True)
    stamps = pd.date_range(f"{year}-01-01", periods=prof.load_mwh.shape[0], freq="h")
    load = prof.load_mwh.sum(axis=1)
    solar = prof.solar_mwh.sum(axis=1)
    wind = prof.wind_mwh.sum(axis=1)
    paths = []

    def save(fig: Figure, name: str) -> None:
        FigureCanvasAgg(fig)
        fig.tight_layout()
        path = out_dir / name
        fig.savefig(path, dpi=110)
        paths.append(path)

    # 1. One summer week (from 1 July, hour 4344): pool load against solar and wind.
    week = slice(4344, 4344 + 168)
    fig = Figure(figsize=(10, 4))
    ax = fig.add_subplot()
    ax.stackplot(stamps[week], wind[week], solar[week], labels=["wind", "solar"], alpha=0.6)
    ax.plot(stamps[week], load[week], color="black", label="pool load")
    ax.set(title="Pool load against solar and wind, one week", ylabel="MWh per hour")
    ax.legend(loc="upper right")
    save(fig, "week_load_vs_generation.png")

    # 2. Monthly balance of the pool.
    month = stamps.month.to_numpy() - 1
    sums = [np.bincount(month, weights=s, minlength=12) for s in (load, solar, wind)]
    x = np.arange(12)
    fig = Figure(figsize=(10, 4))
    ax = fig.add_subplot()
    ax.bar(x - 0.2, sums[0], width=0.4, label="load", color="grey")
    ax.bar(x + 0.2, sums[2], width=0.4, label="wind")
    ax.bar(x + 0.2, sums[1], width=0.4, bottom=sums[2], label="solar")
    ax.set_xticks(x, ["J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D"])
    ax.set(title="Monthly balance of the pool", ylabel="MWh")
    ax.legend()
    save(fig, "monthly_balance.png")

    # 3. Hourly net position (generation - load) of the pool over the year.
    net = solar + wind - load
    fig = Figure(figsize=(10, 4))
    ax = fig.add_subplot()
    ax.fill_between(stamps, net, 0, where=net >= 0, color="tab:green", label="long", lw=0)
    ax.fill_between(stamps, net, 0, where=net < 0, color="tab:red", label="short", lw=0)
    ax.set(title="Hourly net position of the pool", ylabel="MWh per hour")
    ax.legend()
    save(fig, "net_position.png")

    # 4. Individual against pooled CFE.
    names = [*prof.names, "pool"]
    x = np.arange(len(names))
    fig = Figure(figsize=(10, 4))
    ax = fig.add_subplot()
    labels = {
        "standalone_cfe_pct": "standalone (own renewables)",
        "swapped_cfe_pct": "after hourly certificate swaps",
        "pooled_cfe_pct": "pooled (the pool's hourly coverage on own load)",
    }
    for k, (key, label) in enumerate(labels.items()):
        values = [report[key][n] for n in names]
        ax.bar(x + (k - 1) * 0.27, values, width=0.27, label=label)
    ax.set_xticks(x, names, rotation=20)
    ax.set(title="Hourly CFE: standalone, after swaps, pooled", ylabel="hourly CFE, %",
           ylim=(0, 100))  # fmt: skip
    # Outside the axes: inside, the legend covered the pool's bars.
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    save(fig, "cfe_individual_vs_pooled.png")
    return paths


def _markdown(report: dict[str, Any]) -> str:
    """The report as two Markdown tables (scores, then financials)."""
    names = [*report["participants"], "pool"]
    head = "| participant | volumetric RE % | standalone CFE % | swapped CFE % | pooled CFE % |"
    lines = [head, "|---|---:|---:|---:|---:|"]
    for n in names:
        lines.append(f"| {n} | " + " | ".join(f"{report[k][n]:.1f}" for k in METRICS) + " |")
    lines += [
        "",
        "| participant | certificate revenue € | swap revenue € | swap cost € | shortage cost € "
        "| net settlement € | standalone net € | pooling gain € |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in names:
        row = report["financials"][n]
        lines.append(f"| {n} | " + " | ".join(f"{row[k]:,.0f}" for k in MONEY) + " |")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.cfe",
        description="Full-year (8 760 h) pooled procurement: volumetric RE %, hourly CFE % "
        "standalone, after pro-rata certificate swaps and pooled, and financials (EUR).",
    )
    parser.add_argument(
        "--scenario",
        default="pooled_procurement",
        help="scenario name in configs/scenarios with env: evaluation.cfe",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--hourly-csv",
        type=Path,
        metavar="PATH",
        help="write each participant's hourly load, solar, wind and swaps (MWh) to PATH",
    )
    parser.add_argument(
        "--plots", type=Path, metavar="DIR", help="write the four PNG plots into DIR"
    )
    parser.add_argument("--seed", type=int, help="seed of synthetic profiles (default: scenario)")
    parser.add_argument(
        "--profiles",
        choices=("synthetic", "real"),
        help="profile source (default: the scenario's profiles key)",
    )
    return parser


@cli_main
def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status (2 for a bad scenario or config)."""
    args = _parser().parse_args(argv)
    overrides: dict[str, Any] = {}
    if args.seed is not None:
        overrides["seed"] = args.seed
    if args.profiles is not None:
        overrides["profiles"] = args.profiles
    try:
        cfg = load_scenario(args.scenario, overrides)
        report, prof, swaps = run(cfg)
    except (UnknownNameError, ConfigError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = {"scenario": args.scenario, **report}
    if args.hourly_csv is not None:
        write_hourly_csv(args.hourly_csv, prof, swaps, cfg.year)
    if args.plots is not None:
        write_plots(args.plots, report, prof, cfg.year)
    print(json.dumps(report, indent=2) if args.json else _markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
