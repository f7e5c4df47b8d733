"""``python -m evaluation.calibrate``: the shipped scenarios' market outcomes against reports.

For each scenario of the default suite, the ``rule`` policy plays seeds ``1000 ..
1000 + --seeds - 1`` for ``--days`` days, and the table shows, per scenario (mean over
seeds; the maximum price is the maximum over seeds):

- ``price_mean_eur_per_mwh``, ``price_max_eur_per_mwh``: spot price (info
  ``price_eur_per_mwh``);
- ``hours_at_cap_per_week``: hours whose spot price is at the scenario's cap;
- ``unserved_mwh_per_week``: unserved energy (info ``unserved_energy_mwh``);
- ``reserve_price_eur_per_mw``: mean hourly upward-reserve price (EUR per MW and hour);
- ``capacity_price_eur_per_mw_day`` and ``capacity_price_over_net_cone``: the capacity
  price against ``cfg.capacity.net_cone_eur_per_mw_day`` (n/a where the config has no
  Net CONE or no capacity market);
- ``markup_energy_weighted``: the incumbents' energy-weighted markup over marginal cost
  (info ``markup_energy_weighted``, :mod:`envs.market.metrics`; n/a if the env does not
  publish it), mean over hours;
- ``members_saving_eur_per_week``: the coalition members' saving against acting alone
  (:func:`evaluation.metrics.cell_metrics`), scaled to a week.

Beside each figure, a target band from public market monitoring (:data:`TARGETS`), and a
``!`` where the figure falls outside it. Sources (the bands are rounded, order-of-magnitude
ranges read from them, to say whether a scenario is plausible, not to fit it):

- ACER, *Wholesale Electricity Market Monitoring 2023* (ACER/CEER Market Monitoring
  Report, 2024) and ENTSO-E Transparency / EPEX SPOT day-ahead results: 2023 annual
  day-ahead averages of the large EU bidding zones between about 55 EUR/MWh (Nordic
  system) and 130 EUR/MWh (Italy), about 95 in DE-LU and FR; hourly weekly maxima of a
  few hundred EUR/MWh; hours at the harmonised maximum clearing price were rare.
- ENTSO-E, *European Resource Adequacy Assessment* and the national reliability
  standards it reports (e.g. 3 h/year LOLE in FR, 2.77 h/year in BE): expected unserved
  energy close to zero in an ordinary week.
- Monitoring Analytics, *State of the Market Report for PJM 2023*, §5 (capacity market):
  RTO Base Residual Auction prices between $28.92/MW-day (2024/25) and $269.92/MW-day
  (2025/26), mostly below Net CONE; §10 (ancillary services) and the German
  regelleistung.net FCR/aFRR auctions of 2023: reserve capacity a few to a few tens of
  EUR per MW and hour; §3 (energy market): the markup component of marginal units'
  offers small, around 0-15 %.
- The coalition's saving has no market report; its band is the design's individual
  rationality (DESIGN §3 step 5): members do not lose against acting alone.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from envs.cli import cli_main
from envs.market.allocation import ALLOCATION_RULES

__all__ = ["COLUMNS", "TARGETS", "Target", "build_table", "episode_figures", "main", "markdown"]


@dataclass(frozen=True, slots=True)
class Target:
    """A plausible band for one figure and where it comes from."""

    low: float
    high: float
    source: str


#: Column key -> target band (units in the key; sources in the module docstring).
TARGETS: dict[str, Target] = {
    "price_mean_eur_per_mwh": Target(
        50.0, 150.0, "ACER/CEER MMR 2023; ENTSO-E/EPEX 2023 day-ahead averages (55-130)"
    ),
    "price_max_eur_per_mwh": Target(
        100.0, 1000.0, "EPEX SPOT / ENTSO-E 2023 day-ahead weekly maxima (a few hundred)"
    ),
    "hours_at_cap_per_week": Target(0.0, 1.0, "ACER MMR 2023: price-cap hours rare"),
    "unserved_mwh_per_week": Target(
        0.0, 1.0, "ENTSO-E ERAA: LOLE standards of about 3 h/year (about 0.06 h/week)"
    ),
    "reserve_price_eur_per_mw": Target(
        1.0, 50.0, "PJM SOM 2023 §10; regelleistung.net FCR/aFRR 2023 (EUR/MW-h)"
    ),
    "capacity_price_eur_per_mw_day": Target(
        25.0, 270.0, "PJM SOM 2023 §5: RTO BRA $28.92 (2024/25) to $269.92 (2025/26)"
    ),
    "capacity_price_over_net_cone": Target(0.1, 1.0, "PJM SOM 2023 §5: BRA mostly below Net CONE"),
    "markup_energy_weighted": Target(0.0, 0.15, "PJM SOM 2023 §3: marginal units' markup"),
    "members_saving_eur_per_week": Target(
        0.0,
        math.inf,
        "individual rationality: members save (no published report)",
    ),
    "members_worse_off": Target(0.0, 0.0, "individual rationality: no member worse off than alone"),
    "retail_energy_eur_per_mwh": Target(
        50.0, 250.0, "ACER/CEER MMR 2023 retail volume: energy and supply component"
    ),
}

#: (key, header) of the table's columns, in order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("price_mean_eur_per_mwh", "spot mean EUR/MWh"),
    ("price_max_eur_per_mwh", "spot max EUR/MWh"),
    ("hours_at_cap_per_week", "h at cap /wk"),
    ("unserved_mwh_per_week", "unserved MWh/wk"),
    ("reserve_price_eur_per_mw", "reserve EUR/MW-h"),
    ("capacity_price_eur_per_mw_day", "capacity EUR/MW-day"),
    ("capacity_price_over_net_cone", "cap. / Net CONE"),
    ("markup_energy_weighted", "markup (energy-wtd)"),
    ("members_saving_eur_per_week", "saving EUR/wk"),
    ("members_worse_off", "members worse off"),
    ("retail_energy_eur_per_mwh", "retail energy EUR/MWh"),
)


def episode_figures(
    market: dict[str, np.ndarray],
    saving_eur: float,
    *,
    days: int,
    price_cap_eur_per_mwh: float,
    net_cone_eur_per_mw_day: float | None,
    capacity_enabled: bool = True,
    worse_off: float = math.nan,
    retail_energy_eur_per_mwh: float = math.nan,
) -> dict[str, float]:
    """The table's figures of one episode.

    Args:
        market: per-step info series, (T,) each: ``price_eur_per_mwh``,
            ``unserved_energy_mwh``, ``reserve_price_eur_per_mw``,
            ``capacity_price_eur_per_mw_day`` and, when the env publishes it,
            ``markup_energy_weighted``.
        saving_eur: members' saving over the episode, EUR.
        days: episode length, days (figures ``_per_week`` are scaled by 7 / days).
        price_cap_eur_per_mwh: the scenario's spot price cap.
        net_cone_eur_per_mw_day: the config's Net CONE, or None.
        capacity_enabled: False: the capacity figures are NaN (no market).
        worse_off: members worse off over the episode
            (:func:`envs.market.billing.is_worse_off`: a saving below -1e-6 EUR).
        retail_energy_eur_per_mwh: the counterfactual tariff's energy part.

    Returns:
        One value per key of :data:`COLUMNS`; NaN where a figure does not apply.
    """
    week = 7.0 / days
    price = np.asarray(market["price_eur_per_mwh"], dtype=np.float64)
    cap_price = float(np.mean(market["capacity_price_eur_per_mw_day"]))
    if not capacity_enabled:
        cap_price = math.nan
    markup = market.get("markup_energy_weighted")
    ratio = math.nan
    if net_cone_eur_per_mw_day is not None and net_cone_eur_per_mw_day > 0:
        ratio = cap_price / net_cone_eur_per_mw_day
    return {
        "price_mean_eur_per_mwh": float(price.mean()),
        "price_max_eur_per_mwh": float(price.max()),
        # The clearing clips to the cap, so "at the cap" is equality up to rounding.
        "hours_at_cap_per_week": float(np.sum(price >= price_cap_eur_per_mwh - 1e-6)) * week,
        "unserved_mwh_per_week": float(np.sum(market["unserved_energy_mwh"])) * week,
        "reserve_price_eur_per_mw": float(np.mean(market["reserve_price_eur_per_mw"])),
        "capacity_price_eur_per_mw_day": cap_price,
        "capacity_price_over_net_cone": ratio,
        "markup_energy_weighted": math.nan if markup is None else float(np.mean(markup)),
        "members_saving_eur_per_week": float(saving_eur) * week,
        "members_worse_off": float(worse_off),
        "retail_energy_eur_per_mwh": float(retail_energy_eur_per_mwh),
    }


def _flag(key: str, value: float) -> bool | None:
    """True where ``value`` lies outside its target band; None where it is n/a."""
    if not math.isfinite(value):
        return None
    t = TARGETS[key]
    return not (t.low <= value <= t.high)


def build_table(episodes: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, Any]]:
    """Aggregate episodes per scenario and flag figures outside their targets.

    Args:
        episodes: scenario -> one :func:`episode_figures` dict per seed.

    Returns:
        scenario -> key -> ``{"value", "low", "high", "outside"}``: the mean over seeds
        (the maximum for ``price_max_eur_per_mwh``), NaN -> None where n/a; ``outside``
        is True, False, or None (n/a). Scenarios in the given order.
    """
    table: dict[str, dict[str, Any]] = {}
    for scenario, runs in episodes.items():
        row: dict[str, Any] = {}
        for key, _ in COLUMNS:
            vals = np.array([r[key] for r in runs], dtype=np.float64)
            finite = vals[np.isfinite(vals)]
            if finite.size == 0:
                value = math.nan
            elif key == "price_max_eur_per_mwh":
                value = float(finite.max())
            else:
                value = float(finite.mean())
            t = TARGETS[key]
            row[key] = {
                "value": value if math.isfinite(value) else None,
                "low": t.low,
                "high": t.high if math.isfinite(t.high) else None,
                "outside": _flag(key, value),
            }
        table[scenario] = row
    return table


def _cell(entry: dict[str, Any]) -> str:
    v = entry["value"]
    if v is None:
        return "n/a"
    text = f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"
    return text + (" !" if entry["outside"] else "")


def _band(key: str) -> str:
    t = TARGETS[key]
    hi = "inf" if not math.isfinite(t.high) else f"{t.high:g}"
    return f"{t.low:g}-{hi}" if math.isfinite(t.high) else f">= {t.low:g}"


def markdown(table: dict[str, dict[str, Any]]) -> str:
    """The table as Markdown: a row of target bands, one row per scenario, ``!`` marking a
    figure outside its band, and the sources below."""
    head = ["scenario", *(h for _, h in COLUMNS)]
    lines = [
        "| " + " | ".join(head) + " |",
        "|" + "|".join(["---", *("---:" for _ in COLUMNS)]) + "|",
        "| *target* | " + " | ".join(f"*{_band(k)}*" for k, _ in COLUMNS) + " |",
    ]
    for scenario, row in table.items():
        lines.append(f"| {scenario} | " + " | ".join(_cell(row[k]) for k, _ in COLUMNS) + " |")
    lines.append("")
    lines.append("`!`: outside the target band. Targets: " + "; ".join(
        f"{h}: {TARGETS[k].source}" for k, h in COLUMNS
    ) + ".")  # fmt: skip
    return "\n".join(lines)


def plain(table: dict[str, dict[str, Any]]) -> str:
    """The table as fixed-width text for a terminal."""
    keys = [k for k, _ in COLUMNS]
    width = {k: max(len(h), 12) for k, h in COLUMNS}
    name_w = max([8, *(len(s) for s in table)])
    out = [f"{'scenario':{name_w}s}  " + "  ".join(f"{h:>{width[k]}s}" for k, h in COLUMNS)]
    out.append(f"{'target':{name_w}s}  " + "  ".join(f"{_band(k):>{width[k]}s}" for k in keys))
    for scenario, row in table.items():
        cells = "  ".join(f"{_cell(row[k]):>{width[k]}s}" for k in keys)
        out.append(f"{scenario:{name_w}s}  {cells}")
    out.append("! = outside the target band; sources: python -m evaluation.calibrate --help")
    return "\n".join(out)


#: The README's calibration table lies between these lines (rewritten by --write-readme).
BEGIN, END = "<!-- calibrate:begin -->", "<!-- calibrate:end -->"
#: The page that holds the table (the environments page, beside the scenarios).
PAGE = "envs/README.md"


def write_readme(path: Path, table_md: str, args: argparse.Namespace) -> None:
    """Replace the text between :data:`BEGIN` and :data:`END` in ``path`` with the table
    and the command that made it."""
    text = path.read_text()
    if BEGIN not in text or END not in text:
        raise ValueError(f"{path}: no {BEGIN} ... {END} markers to write the table between")
    cmd = f"python -m evaluation.calibrate --seeds {args.seeds} --days {args.days}"
    if args.allocation:
        cmd += f" --allocation {args.allocation}"
    block = f"{BEGIN}\n<!-- written by `{cmd} --write-readme {PAGE}` -->\n{table_md}\n{END}"
    head, rest = text.split(BEGIN, 1)
    path.write_text(head + block + rest.split(END, 1)[1])


class _Recorder:
    """Observer of :func:`evaluation.episode.run_episode`: keeps the market info series
    the episode record does not (the energy-weighted markup, when published)."""

    KEYS = (
        "price_eur_per_mwh",
        "unserved_energy_mwh",
        "reserve_price_eur_per_mw",
        "capacity_price_eur_per_mw_day",
        "markup_energy_weighted",
    )

    def __init__(self) -> None:
        self.series: dict[str, list[float]] = {k: [] for k in self.KEYS}

    def before_step(self, t: int, env: Any, actions: Any) -> None:
        """Nothing to record before the step."""

    def after_step(self, t: int, env: Any, infos: dict[str, Any]) -> None:
        """Record this hour's market figures."""
        from envs.adapters.infos import nested_info
        from envs.adapters.parallel import COALITION_ID

        market = nested_info(infos[COALITION_ID])["market"]
        for k in self.KEYS:
            if k in market:
                self.series[k].append(float(market[k]))

    def market(self) -> dict[str, np.ndarray]:
        """The recorded series; keys the env never published are left out."""
        return {k: np.array(v) for k, v in self.series.items() if v}


def run_scenario(
    scenario: str, seeds: list[int], days: int, bar: Any = None, allocation: str | None = None
) -> list[dict]:
    """Play the ``rule`` policy on ``scenario`` for each seed; one figures dict per seed.
    ``allocation`` overrides ``coalition.allocation``."""
    import envs
    from evaluation.episode import build_policy, run_episode
    from evaluation.metrics import cell_metrics

    runs = []
    overrides = {"coalition.allocation": allocation} if allocation else {}
    for seed in seeds:
        env = envs.make("multimarket_v1", scenario=scenario, days=days, overrides=overrides)
        rec = _Recorder()
        ep = run_episode(env, build_policy("rule"), seed, rec)
        cfg = env.unwrapped.cfg
        saving = cell_metrics(ep.ledger, ep.counterfactual, ep.record, ep.fleet)
        # members_worse_off: envs.market.billing.is_worse_off, the one definition (a
        # member lifted to a zero saving is not worse off, nor "better off").
        worse = saving["members_worse_off"]
        runs.append(
            episode_figures(
                rec.market(), saving["members_saving_eur"], days=days,
                price_cap_eur_per_mwh=cfg.spot.price_cap_eur_per_mwh,
                net_cone_eur_per_mw_day=getattr(cfg.capacity, "net_cone_eur_per_mw_day", None),
                capacity_enabled=cfg.capacity.enabled, worse_off=worse,
                retail_energy_eur_per_mwh=env.unwrapped.core.tariff.energy_eur_per_mwh,
            )
        )  # fmt: skip
        if bar is not None:
            bar.update(1)
    return runs


def _scenarios(arg: str | None) -> list[str]:
    """The scenarios to calibrate: ``--scenarios a,b`` or every shipped scenario of the
    default suite. Raises ValueError naming unknown ones and the valid ones."""
    import envs
    from evaluation import grid

    suite = grid.load_suite("default")
    valid = envs.list_scenarios(suite.env)
    if arg is None:
        return [s for s in (suite.scenarios or valid) if not grid.is_scenario_file(s)]
    scenarios = [s.strip() for s in arg.split(",") if s.strip()]
    bad = [s for s in scenarios if s not in valid]
    if bad or not scenarios:
        raise ValueError(f"--scenarios={arg!r}: unknown {', '.join(bad) or 'none'}; "
                         f"valid scenarios: {', '.join(valid)}")  # fmt: skip
    return scenarios


@cli_main
def main(argv: list[str] | None = None) -> int:
    """Run the calibration; ``--json`` prints one JSON object (progress goes to stderr)."""

    p = argparse.ArgumentParser(
        prog="python -m evaluation.calibrate",
        description=__doc__.splitlines()[0],
        epilog="Sources of the target bands:\n"
        + "\n".join(f"  {k}: {t.source}" for k, t in TARGETS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--scenarios", default=None,
        help="comma-separated shipped scenario names (default: every scenario of the default "
        "suite)",
    )  # fmt: skip
    p.add_argument("--seeds", type=int, default=3, help="seeds per scenario, from 1000 (default 3)")
    p.add_argument("--days", type=int, default=7, help="episode length, days (default 7)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print one JSON object instead")
    fmt.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    p.add_argument(
        "--allocation",
        default=None,
        choices=ALLOCATION_RULES,
        help="override coalition.allocation (default: each scenario's own)",
    )
    p.add_argument("--write-readme", metavar="PATH", default=None,
                   help="also rewrite the Markdown table between the calibration markers of "
                   "this README")  # fmt: skip
    p.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True,
        help="progress bar on stderr, one step per episode (default: on)",
    )  # fmt: skip
    args = p.parse_args(argv)
    if args.seeds < 1 or args.days < 1:
        print(f"error: --seeds={args.seeds} and --days={args.days}; expected at least 1 each",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        scenarios = _scenarios(args.scenarios)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seeds = list(range(1000, 1000 + args.seeds))
    from tqdm import tqdm

    # stderr, so that --json's stdout stays one JSON object.
    bar = tqdm(total=len(scenarios) * len(seeds), desc="calibrate", unit="episode",
               file=sys.stderr, disable=not args.progress)  # fmt: skip
    episodes = {}
    for s in scenarios:
        bar.set_postfix_str(s)
        episodes[s] = run_scenario(s, seeds, args.days, bar, args.allocation)
    bar.close()
    table = build_table(episodes)
    if args.write_readme:
        try:
            write_readme(Path(args.write_readme), markdown(table), args)
        except ValueError as exc:
            print(f"error: --write-readme: {exc}", file=sys.stderr)
            return 2
    if args.json:
        doc = {
            "seeds": seeds,
            "days": args.days,
            "policy": "rule",
            "scenarios": table,
            "targets": {k: t.source for k, t in TARGETS.items()},
        }
        print(json.dumps(doc, indent=2))
    elif args.markdown:
        print(markdown(table))
    else:
        print(plain(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
