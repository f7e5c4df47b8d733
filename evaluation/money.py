"""Members' money per scenario: the saving table, and why the coalition loses where it does.

Scenarios differ in members (20 to 200), system size and episode length, so money is
shown per scenario, in EUR per week (the episode's total x 7 / days) and in % of the
members' bills alone, each a mean over seeds with a 95% bootstrap interval over seeds.

Where an agent's members save less than nothing against acting alone, the ledger says
why: the members' saving is exactly their bills alone plus the coalition's cash summed
over the markets of :data:`evaluation.metrics.LEDGER_MARKETS` (the share-out passes the
coalition's whole result on to its members), so the market with the largest cost, or the
one where a losing agent falls furthest behind the best agent, is the reason.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from evaluation.aggregate import stratified_bootstrap
from evaluation.leaderboard import HOURS_PER_WEEK, legend
from evaluation.metrics import ENERGY_MARKETS, LEDGER_MARKETS

__all__ = ["loss_reasons", "scenario_markdown", "scenario_money"]

#: Where every agent loses, its cash is compared with its own on this scenario.
REFERENCE_SCENARIO = "default"

#: What each market's cash is, for the reason lines.
MARKET_MEANING: dict[str, str] = {
    "spot": "energy bought and sold in the day-ahead spot market",
    "reserve": "reserve awards minus penalties for reserve not delivered",
    "capacity": "capacity payments minus non-performance charges plus bonuses in scarcity hours",
    "balancing": "energy delivered when its reserve is activated, at the imbalance price",
    "imbalance": "members' metered deviation from the coalition's cleared position, "
    "settled at the single imbalance price",
    "network": "network charges and taxes on members' imports",
    "ppa": "the PPA's energy at the contract price",
}


def _per_week(df: pd.DataFrame, metric: str) -> pd.Series:
    """``metric`` (an episode total) in units per week."""
    return df[metric].astype(float) * HOURS_PER_WEEK / (24.0 * df.days.astype(float))


def scenario_money(
    df: pd.DataFrame, agents: list[str], *, n_resamples: int = 2000
) -> list[dict[str, Any]]:
    """Members' saving of every agent on every scenario.

    Args:
        df: ``results.csv`` as a frame (columns scenario, split, agent, seed, days, status,
            members_alone_eur, members_saving_eur, members_saving_pct, n_members).
        agents: the agents, in the order the table shows them.
        n_resamples: bootstrap resamples.

    Returns:
        One dict per scenario (sorted by name): ``scenario``, ``split``, ``n_members``,
        ``alone_eur_per_week`` (the members' bills alone, the same for every agent: the
        counterfactual does not depend on the policy) and ``agents``: agent ->
        ``saving_eur_per_week`` and ``saving_pct`` (means over seeds) each with ``_low``/
        ``_high`` (95% bootstrap interval over seeds) and ``seeds`` (finished cells);
        agents without a finished cell are left out.
    """
    ok = df[df.status == "ok"]
    out = []
    for scenario in sorted(df.scenario.unique()):
        mine = ok[ok.scenario == scenario]
        split = df.loc[df.scenario == scenario, "split"].iloc[0]
        entry: dict[str, Any] = {
            "scenario": scenario,
            "split": "" if split is None or split != split else str(split),
            "n_members": float(mine.n_members.iloc[0]) if len(mine) else math.nan,
            "alone_eur_per_week": (
                float(_per_week(mine.drop_duplicates("seed"), "members_alone_eur").mean())
                if len(mine)
                else math.nan
            ),
            "agents": {},
        }
        for agent in agents:
            cells = mine[mine.agent == agent]
            if cells.empty:
                continue
            row: dict[str, Any] = {"seeds": len(cells)}
            for key, values in (
                ("saving_eur_per_week", _per_week(cells, "members_saving_eur")),
                ("saving_pct", cells.members_saving_pct.astype(float)),
            ):
                point, lo, hi = stratified_bootstrap(
                    [values.to_numpy()], "mean", n_resamples=n_resamples
                )
                row |= {key: point, f"{key}_low": lo, f"{key}_high": hi}
            entry["agents"][agent] = row
        out.append(entry)
    return out


def _short(x: float) -> str:
    """Money in a few characters: 1,234 / 12.3k / 48.4M (k = thousand, M = million)."""
    if x is None or not math.isfinite(x):
        return "n/a"
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.1f}M"
    if abs(x) >= 1e4:
        return f"{x / 1e3:,.1f}k"
    return f"{x:,.0f}"


def _market_cash_per_week(cells: pd.DataFrame) -> dict[str, float]:
    """The coalition's mean cash per market, EUR per week (+ = received)."""
    out = {}
    for market in LEDGER_MARKETS:
        col = f"coalition_revenue_{market}_eur"
        if col in cells:
            out[market] = float(_per_week(cells, col).mean())
    return out


def _bought(cells: pd.DataFrame, market: str) -> tuple[float, float] | None:
    """(MWh per week, mean EUR/MWh) the coalition bought in an energy market."""
    if f"coalition_{market}_bought_mwh" not in cells or cells.empty:
        return None
    mwh = float(_per_week(cells, f"coalition_{market}_bought_mwh").mean())
    eur = float(_per_week(cells, f"coalition_{market}_bought_eur").mean())
    return (mwh, eur / mwh) if mwh > 0.0 else (0.0, math.nan)


def _bought_detail(
    cells: pd.DataFrame, market: str, base: pd.DataFrame | None = None, label: str = ""
) -> str:
    """'; it bought 195 MWh/week there at 2,186 EUR/MWh on average (on `default`: ...)'."""
    mine = _bought(cells, market)
    if mine is None or mine[0] <= 0.0:
        return ""
    text = f"; it bought {mine[0]:,.0f} MWh/week there at {mine[1]:,.0f} EUR/MWh on average"
    theirs = _bought(base, market) if base is not None else None
    if theirs is not None:
        price = "" if theirs[0] <= 0.0 else f" at {theirs[1]:,.0f} EUR/MWh"
        text += f" ({label}: {theirs[0]:,.0f} MWh/week{price})"
    return text


def _worst_market(
    cash: dict[str, float], reference: dict[str, float] | None = None
) -> tuple[str, float]:
    """The market with the lowest cash (EUR/week), or with the largest fall below
    ``reference``'s, and that amount (negative)."""
    gap = cash if reference is None else {m: cash[m] - reference[m] for m in cash}
    market = min(gap, key=gap.__getitem__)
    return market, gap[market]


def loss_reasons(df: pd.DataFrame, agents: list[str]) -> list[dict[str, Any]]:
    """One reason, from the ledger, for each scenario where some agent's members lose.

    An agent loses on a scenario when its mean saving over seeds is negative. If some
    agents save there, the reason is the market where the worst agent's cash falls
    furthest below the best agent's. If every agent loses, it is the market where the
    best agent's cash falls furthest below its own on ``default`` (same members; the
    members' saving differs by the change in bills alone plus the change in market cash),
    or, without ``default`` in the grid, its largest cost.

    Returns:
        One dict per such scenario: ``scenario``, ``losers`` (agents), ``agent`` (whose
        ledger is read), ``reference_agent`` and ``reference_scenario`` (what it is
        compared with; None for the largest cost), ``market``, ``amount_eur_per_week``
        (the cash gap, or the cost; negative) and ``line`` (the sentence for the
        leaderboard).
    """
    ok = df[df.status == "ok"]
    out = []
    for scenario in sorted(ok.scenario.unique()):
        mine = ok[ok.scenario == scenario]
        names = [a for a in agents if a in set(mine.agent)]
        saving = {a: float(_per_week(mine[mine.agent == a], "members_saving_eur").mean())
                  for a in names}  # fmt: skip
        losers = [a for a in names if saving[a] < 0.0]
        if not losers:
            continue
        best = max(names, key=lambda a: saving[a])
        if saving[best] < 0.0:
            agent = best
            market, amount, line, base = _all_lose(ok, mine, scenario, best, saving[best],
                                                   len(names))  # fmt: skip
            ref_agent, ref_scenario = (None, None) if base is None else (best, REFERENCE_SCENARIO)
        else:
            agent, ref_agent, ref_scenario = min(losers, key=lambda a: saving[a]), best, scenario
            worst, ref = (_market_cash_per_week(mine[mine.agent == a]) for a in (agent, best))
            market, amount = _worst_market(worst, ref)
            who = ", ".join(f"`{a}`" for a in losers)
            line = (
                f"`{scenario}`: {who} lose{'s' if len(losers) == 1 else ''} against acting "
                f"alone (the worst, `{agent}`, by {_short(-saving[agent])} EUR/week; "
                f"`{best}` saves {_short(saving[best])}). `{agent}` falls furthest behind "
                f"`{best}` in {market}: {_short(amount)} EUR/week ({MARKET_MEANING[market]})"
            )
            base = None
        if market in ENERGY_MARKETS:
            label = f"on `{REFERENCE_SCENARIO}`" if base is not None else f"`{best}`"
            if base is None and agent != best:
                base = mine[mine.agent == best]
            line += _bought_detail(mine[mine.agent == agent], market, base, label)
        out.append(
            {
                "scenario": scenario,
                "losers": losers,
                "agent": agent,
                "reference_agent": ref_agent,
                "reference_scenario": ref_scenario,
                "market": market,
                "amount_eur_per_week": amount,
                "line": line + ".",
            }
        )
    return out


def _all_lose(
    ok: pd.DataFrame, mine: pd.DataFrame, scenario: str, agent: str, saving: float, n: int
) -> tuple[str, float, str, pd.DataFrame | None]:
    """:func:`loss_reasons` where all ``n`` agents lose: the best one, ``agent``, against its
    own result on ``default`` (same members), or else its largest cost.

    Returns:
        (market, amount EUR/week, line, ``agent``'s cells on ``default`` or None where it
        is compared with nothing).
    """
    alone = float(_per_week(mine.drop_duplicates("seed"), "members_alone_eur").mean())
    cash = _market_cash_per_week(mine[mine.agent == agent])
    head = (
        f"`{scenario}`: all {n} agents lose against acting alone; the best, "
        f"`{agent}`, by {_short(-saving)} EUR/week (bills alone {_short(alone)} EUR/week)."
    )
    other = ok[(ok.scenario == REFERENCE_SCENARIO) & (ok.agent == agent)]
    if (
        scenario != REFERENCE_SCENARIO
        and not other.empty
        and (set(other.n_members) == set(mine.n_members))
    ):
        market, amount = _worst_market(cash, _market_cash_per_week(other))
        ref_saving = float(_per_week(other, "members_saving_eur").mean())
        line = (
            f"{head} Against its own result on `{REFERENCE_SCENARIO}` (saving "
            f"{_short(ref_saving)} EUR/week), its cash falls most in {market}: "
            f"{_short(amount)} EUR/week ({MARKET_MEANING[market]})"
        )
        return market, amount, line, other
    market, amount = _worst_market(cash)
    line = (
        f"{head} Its largest cost in the ledger is {market}, {_short(amount)} "
        f"EUR/week ({MARKET_MEANING[market]})"
    )
    return market, amount, line, None


def scenario_markdown(
    money: list[dict[str, Any]], agents: list[str], reasons: list[dict[str, Any]]
) -> str:
    """The per-scenario money table, its legend and the reasons for losses, as Markdown."""
    shown = [a for a in agents if any(a in m["agents"] for m in money)]
    headers = ["scenario", "split", "members", "bills alone EUR/week", *(f"`{a}`" for a in shown)]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for m in money:
        cells = [f"`{m['scenario']}`", m["split"] or "",
                 "n/a" if not math.isfinite(m["n_members"]) else f"{m['n_members']:.0f}",
                 _short(m["alone_eur_per_week"])]  # fmt: skip
        for a in shown:
            r = m["agents"].get(a)
            if r is None:
                cells.append("n/a")
                continue
            lo, hi = r["saving_eur_per_week_low"], r["saving_eur_per_week_high"]
            cells.append(
                f"{_short(r['saving_eur_per_week'])} [{_short(lo)}, {_short(hi)}] "
                f"({r['saving_pct']:,.0f}%)"
                if np.isfinite(r["saving_pct"])
                else f"{_short(r['saving_eur_per_week'])} [{_short(lo)}, {_short(hi)}]"
            )
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        legend(
            [
                ("members", "members of the coalition in the scenario"),
                ("bills alone EUR/week", "what the members would pay acting alone (retail "
                 "tariff, own battery for self-consumption, feed-in tariff), EUR per week = "
                 "episode total x 7 / days, mean over seeds; the same for every agent"),
                ("agent columns", "members' saving against acting alone, EUR per week, mean "
                 "over seeds [95% bootstrap CI over seeds] (% of the bills alone); negative = "
                 "the members pay more in the coalition than alone; k = thousand, M = million"),
            ]
        ),
    ]  # fmt: skip
    if reasons:
        lines += ["", "Where the coalition loses against acting alone (from the ledger):", ""]
        lines += [f"- {r['line']}" for r in reasons]
    return "\n".join(lines)
