"""What wins where: each agent's gain over ``rule``, per scenario and market.

A lead on the leaderboard is either trading skill or a market rule that pays for
something. The members' saving is their bills alone plus the coalition's cash summed
over the ledger's markets (:data:`evaluation.metrics.LEDGER_MARKETS`; the share-out passes
the coalition's whole result on to its members), and the bills alone do not depend on the
policy. So an agent's gain over ``rule`` on a seed (the same weather, loads and
forecasts: a paired difference) is exactly the sum over markets of its cash less
``rule``'s, and each market's part says where the lead comes from.

Figures are EUR per week (the episode's total x 7 / days), means over the seeds both
agents finished.
"""

from __future__ import annotations

import math

import pandas as pd

from evaluation.leaderboard import HOURS_PER_WEEK, legend
from evaluation.metrics import LEDGER_MARKETS

__all__ = ["REFERENCE", "deviations_markdown", "gains_over_reference", "versus_markdown",
           "wins_markdown"]  # fmt: skip

#: MWh per week a 5 MW day-ahead shortfall leaves to real time (the audit's
#: ``underbuy_5mw``, :mod:`evaluation.deviations`).
UNDERBUY_5MW_MWH_PER_WEEK = 5.0 * 168.0

#: The agent every gain is measured from.
REFERENCE = "rule"


def gains_over_reference(df: pd.DataFrame, agents: list[str],
                         reference: str = REFERENCE) -> pd.DataFrame:  # fmt: skip
    """Each agent's gain over ``reference`` per scenario and market, EUR per week.

    Args:
        df: ``results.csv`` as a frame (scenario, agent, seed, days, status,
            members_saving_eur and ``coalition_revenue_{market}_eur``).
        agents: the agents to show, in order (``reference`` is left out).
        reference: the agent gains are measured from.

    Returns:
        One row per (scenario, agent), in scenario then ``agents`` order: ``scenario``,
        ``agent``, ``seeds`` (paired seeds), ``total`` (members' saving less the
        reference's) and one column per market of :data:`LEDGER_MARKETS` (the coalition's
        cash less the reference's), each a mean over the paired seeds; the markets sum
        to ``total``. Empty when ``reference`` has no finished cell.
    """
    ok = df[df.status == "ok"].copy()
    week = HOURS_PER_WEEK / (24.0 * ok.days.astype(float))
    cols = {"total": "members_saving_eur"} | {
        m: f"coalition_revenue_{m}_eur"
        for m in LEDGER_MARKETS
        if f"coalition_revenue_{m}_eur" in ok
    }
    for name, col in cols.items():
        ok[name] = ok[col].astype(float) * week
    keys = ["scenario", "seed"]
    base = ok[ok.agent == reference].set_index(keys)[list(cols)]
    rows = []
    for scenario in sorted(ok.scenario.unique()):
        for agent in agents:
            if agent == reference:
                continue
            mine = ok[(ok.scenario == scenario) & (ok.agent == agent)].set_index(keys)
            common = mine.index.intersection(base.index)
            paired = mine.loc[common, list(cols)] - base.loc[common]
            if paired.empty:
                continue
            rows.append({"scenario": scenario, "agent": agent, "seeds": len(paired)}
                        | paired.mean().to_dict())  # fmt: skip
    return pd.DataFrame(rows)


def _money(x: float) -> str:
    """A signed EUR/week figure in a few characters (+12.3k, -450)."""
    if not math.isfinite(x):
        return "n/a"
    if abs(x) < 0.5:
        return "0"
    if abs(x) >= 1e4:
        return f"{x / 1e3:+,.1f}k"
    return f"{x:+,.0f}"


def _markets(gains: pd.DataFrame) -> list[str]:
    """The ledger's markets where some agent's cash differs from the reference's."""
    return [m for m in LEDGER_MARKETS if m in gains and (gains[m].abs() > 0.5).any()]


def wins_markdown(gains: pd.DataFrame, reference: str = REFERENCE) -> str:
    """The gains as Markdown: per agent the median over scenarios, then per scenario and
    agent, each market's part in bold where it is the largest in size."""
    if gains.empty:
        return f"No finished `{reference}` cells: no gains to show."
    markets = _markets(gains)
    head = f"| agent | gain over `{reference}` EUR/week | " + " | ".join(markets) + " |"
    rule_line = "|---|" + "---:|" * (len(markets) + 1)
    lines = [f"Median over scenarios of each agent's gain over `{reference}`, EUR/week:", "",
             head, rule_line]  # fmt: skip
    order = list(dict.fromkeys(gains.agent))
    for agent in order:
        med = gains[gains.agent == agent][["total", *markets]].median()
        lines.append(f"| `{agent}` | {_money(med.total)} | "
                     + " | ".join(_money(med[m]) for m in markets) + " |")  # fmt: skip
    lines += ["", "<details><summary>Per scenario and agent</summary>", "",
              "| scenario | agent | gain over `" + reference + "` EUR/week | "
              + " | ".join(markets) + " |", "|---|---|" + "---:|" * (len(markets) + 1)]  # fmt: skip
    for _, r in gains.iterrows():
        top = max(markets, key=lambda m: abs(r[m]))
        cells = [f"**{_money(r[m])}**" if m == top and abs(r[m]) >= 0.5 else _money(r[m])
                 for m in markets]  # fmt: skip
        lines.append(f"| `{r.scenario}` | `{r.agent}` | {_money(r.total)} | "
                     + " | ".join(cells) + " |")  # fmt: skip
    lines += ["", "</details>", ""]
    lines.append(legend([
        (f"gain over `{reference}`", f"members' saving less `{reference}`'s on the same seed "
         "(same weather, loads and forecasts), EUR per week, mean over seeds"),
        ("market columns", f"the coalition's cash in that market less `{reference}`'s (+ = "
         "the agent earns more or pays less there), EUR per week; they sum to the gain (the "
         "members' saving is their bills alone plus the coalition's cash over the markets); "
         "**bold**: the market with the largest part in size; markets where no agent differs "
         f"from `{reference}` are left out"),
    ]))  # fmt: skip
    return "\n".join(lines)


def deviations_markdown(df: pd.DataFrame, agents: list[str],
                        gains: pd.DataFrame | None = None) -> str:  # fmt: skip
    """Whether each agent plays the exploit audit's flagged deviations, from its cells.

    Under-buying day-ahead (``underbuy_5mw``, ``underbuy_10mw``) shows as energy bought in
    real time at the imbalance price: a 5 MW shortfall is 840 MWh a week. Selling the
    batteries' firm capacity (``capacity_at_zero``, ``capacity_at_cap``: the flag a real
    capacity market pays too) shows as capacity cash above ``rule``'s. Per agent, the
    median over scenarios of the mean over seeds, per week. ``gains``: the agents'
    :func:`gains_over_reference`, when the caller has them already."""
    ok = df[df.status == "ok"].copy()
    week = HOURS_PER_WEEK / (24.0 * ok.days.astype(float))
    ok["rt_mwh"] = ok.coalition_imbalance_bought_mwh.astype(float) * week
    rt = ok.groupby(["agent", "scenario"]).rt_mwh.mean()
    if gains is None:
        gains = gains_over_reference(df, agents)
    lines = ["| agent | bought in real time MWh/week | largest in a scenario | "
             f"capacity cash over `{REFERENCE}` EUR/week |", "|---|---:|---:|---:|"]  # fmt: skip
    for agent in agents:
        if agent not in rt.index.get_level_values(0):
            continue
        cap = gains.capacity[gains.agent == agent].median() if len(gains) else math.nan
        cap_text = "-" if agent == REFERENCE else _money(cap)
        lines.append(f"| `{agent}` | {rt.loc[agent].median():,.0f} | "
                     f"{rt.loc[agent].max():,.0f} | {cap_text} |")  # fmt: skip
    lines += ["", legend([
        ("bought in real time", "energy the coalition bought at the imbalance price (its "
         "members' metered use above its day-ahead position), MWh per week, median over "
         f"scenarios; the audit's `underbuy_5mw` adds {UNDERBUY_5MW_MWH_PER_WEEK:,.0f}"),
        ("largest in a scenario", "the same, in the scenario where it is largest"),
        (f"capacity cash over `{REFERENCE}`", "the coalition's capacity payments less "
         f"non-performance charges, less `{REFERENCE}`'s on the same seed, EUR per week, "
         "median over scenarios (+: it sells more firm capacity or pays fewer charges)"),
    ])]  # fmt: skip
    return "\n".join(lines)


def versus_markdown(df: pd.DataFrame, agent: str, reference: str) -> str:
    """``agent``'s members' saving less ``reference``'s per scenario, split by market, EUR
    per week (paired by seed, :func:`gains_over_reference`), with the median over scenarios
    last; empty text when either agent has no finished cell."""
    gains = gains_over_reference(df, [agent], reference=reference)
    if gains.empty:
        return f"No paired cells of `{agent}` and `{reference}`."
    markets = _markets(gains)
    lines = [f"| scenario | `{agent}` - `{reference}` EUR/week | " + " | ".join(markets) + " |",
             "|---|" + "---:|" * (len(markets) + 1)]  # fmt: skip
    for _, r in gains.iterrows():
        lines.append(f"| `{r.scenario}` | {_money(r.total)} | "
                     + " | ".join(_money(r[m]) for m in markets) + " |")  # fmt: skip
    med = gains[["total", *markets]].median()
    lines.append(f"| median | {_money(med.total)} | "
                 + " | ".join(_money(med[m]) for m in markets) + " |")  # fmt: skip
    lines += ["", legend([
        ("columns", f"members' saving (first) and the coalition's cash in each market of "
         f"`{agent}` less `{reference}`'s on the same seed, EUR per week, mean over seeds; "
         "the markets sum to the first column; the last row: medians over scenarios, which "
         "need not sum"),
    ])]  # fmt: skip
    return "\n".join(lines)
