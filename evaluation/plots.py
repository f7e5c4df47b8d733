"""PNG plots of a comparison (matplotlib, Agg backend: no display needed).

* ``score.png``: each agent's IQM and mean of the ranking metric with 95% intervals;
* ``heatmap.png``: mean of the ranking metric per scenario x agent, every cell labelled
  (n/a where there is no score);
* ``member_savings.png``: each member's saving against acting alone, EUR per member and
  week, one panel per scenario with its own scale (multi-market envs);
* ``week.png``: the first week (at most 168 h) of one agent's episode: the prices of every
  market, the spot dispatch by unit and the coalition's cleared position.

Every title names the suite, the seeds and the episode length.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; never open a window (CI, workers, ssh)

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from evaluation.leaderboard import describe_runs

__all__ = ["plot_all", "week_agent"]

DPI = 120


def _grid_label(cfg: Any, suite: str) -> str:
    """'suite default, seeds 1000-1004, 7-day episodes' (cfg: an EvalConfig or None)."""
    if cfg is None:
        return f"suite {suite}" if suite else ""
    seeds = cfg.seeds
    span = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {seeds[0]}-{seeds[-1]}"
    return f"{'suite ' + suite + ', ' if suite else ''}{span}, {_length(cfg.days * 24)} episodes"


def _length(hours: int) -> str:
    """'7-day' for whole days, else '36 h'."""
    return f"{hours // 24}-day" if hours % 24 == 0 else f"{hours} h"


def _save(fig: Any, path: Path) -> None:
    # bbox_inches="tight" keeps colour-bar labels and long tick labels inside the image.
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)


def _score(summary: list[dict[str, Any]], key: str, label: str, title: str, path: Path) -> None:
    names = [r["agent"] for r in summary]
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7.5, 0.5 * len(names) + 1.8))
    for offset, stat, marker in ((-0.15, "iqm", "o"), (0.15, "mean", "s")):
        pt = np.array([r[f"{key}_{stat}"] for r in summary], dtype=float)
        lo = np.array([r[f"{key}_{stat}_low"] for r in summary], dtype=float)
        hi = np.array([r[f"{key}_{stat}_high"] for r in summary], dtype=float)
        ax.errorbar(
            pt, y + offset, xerr=[pt - lo, hi - pt], fmt=marker, capsize=3, label=stat.upper()
        )
    for i, r in enumerate(summary):  # say why a row has no point
        if not math.isfinite(r[f"{key}_iqm"]):
            ax.annotate("n/a", (0.0, i), xycoords=("axes fraction", "data"), xytext=(4, -4),
                        textcoords="offset points", color="0.35", fontsize=8)  # fmt: skip
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel(f"{label} (95% stratified bootstrap CI)")
    ax.legend(loc="best")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title, fontsize=10)
    _save(fig, path)


def _text_colour(rgba: tuple[float, ...] | np.ndarray) -> str:
    """Black on light cells, white on dark ones (relative luminance, ITU-R BT.709)."""
    r, g, b = rgba[:3]
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "white"


def _heatmap(
    df: pd.DataFrame, order: list[str], key: str, label: str, title: str,
    excluded: list[tuple[str, int]], path: Path,
) -> None:  # fmt: skip
    ok = df[df.status == "ok"]
    table = ok.pivot_table(index="scenario", columns="agent", values=key, aggfunc="mean")
    table = table.reindex(index=sorted(df.scenario.unique()), columns=order)
    values = table.to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(1.05 * table.shape[1] + 4.5, 0.42 * table.shape[0] + 2.0))
    cmap = plt.get_cmap("viridis").with_extremes(bad="0.88")  # n/a: light grey, labelled
    finite = values[np.isfinite(values)]
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    im = ax.imshow(np.ma.masked_invalid(values), aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xticks(range(table.shape[1]), table.columns, rotation=35, ha="right")
    ax.set_yticks(range(table.shape[0]), table.index)
    for (i, j), v in np.ndenumerate(values):
        if math.isfinite(v):
            colour = _text_colour(cmap(im.norm(v)))
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8, color=colour)
        else:
            ax.text(j, i, "n/a", ha="center", va="center", fontsize=8, color="0.25")
    cbar = fig.colorbar(im, ax=ax, pad=0.02)
    cbar.set_label(label)
    ax.set_title(title, fontsize=10)
    if excluded:
        ax.set_xlabel(
            "no score scale (the oracle saves no more than the individual actors) in "
            f"{describe_runs(excluded).replace('`', '')};\na cell is the mean over the seeds "
            "that have a score, n/a where none has", fontsize=8,
        )  # fmt: skip
    _save(fig, path)


def _eur(x: float, _pos: int | None = None) -> str:
    """Axis ticks in EUR: 950, 12k, 1.5M."""
    if abs(x) >= 1e6:
        return f"{x / 1e6:g}M"
    if abs(x) >= 1e3:
        return f"{x / 1e3:g}k"
    return f"{x:g}"


def _savings(results: list[dict[str, Any]], order: list[str], title: str, path: Path) -> bool:
    """Small multiples: one panel per scenario, each member's saving in EUR per week."""
    per: dict[str, dict[str, list[float]]] = {}
    for r in results:
        if r.get("status") != "ok" or not r.get("member_saving_eur"):
            continue
        week = 7.0 / float(r["days"])
        values = [v * week for v in r["member_saving_eur"].values()]
        per.setdefault(r["scenario"], {}).setdefault(r["agent"], []).extend(values)
    if not per:
        return False
    scenarios = sorted(per)
    ncols = min(4, len(scenarios))
    nrows = math.ceil(len(scenarios) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.9 * nrows + 0.8), squeeze=False)
    for ax, scenario in zip(axes.flat, scenarios, strict=False):
        names = [a for a in order if per[scenario].get(a)]
        ax.boxplot([per[scenario][a] for a in names], showfliers=False, widths=0.6)
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_xticks(range(1, len(names) + 1), names, rotation=45, ha="right", fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
        ax.yaxis.set_major_formatter(FuncFormatter(_eur))
        ax.set_title(scenario, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes.flat[len(scenarios) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("EUR per member-week", fontsize=8)
    fig.suptitle(
        "Each member's saving against acting alone (boxes: quartiles, whiskers 1.5 IQR, "
        f"outliers not drawn; each panel its own scale)\n{title}", fontsize=10,
    )  # fmt: skip
    fig.tight_layout()
    _save(fig, path)
    return True


def week_agent(summary: list[dict[str, Any]], high: str | None) -> str | None:
    """The agent the week plot shows by default: the best-ranked agent with a finished
    cell other than ``high`` (the perfect-foresight oracle, first by construction)."""
    ranked = [r["agent"] for r in summary if r["cells"] > r["failed"]]
    others = [a for a in ranked if a != high]
    return (others or ranked or [None])[0]


def _week(results: list[dict[str, Any]], agent: str, grid_label: str, path: Path) -> bool:
    mine = [
        r for r in results if r["agent"] == agent and r.get("status") == "ok" and r.get("series")
    ]
    if not mine:
        return False
    # Prefer the default scenario's first seed: the one week readers know best.
    mine.sort(key=lambda r: (r["scenario"] != "default", r["scenario"], r["seed"]))
    r = mine[0]
    s = r["series"]
    n = min(168, len(s["price_eur_per_mwh"]))
    hours = np.arange(n)
    fig, (ax_p, ax_d, ax_c) = plt.subplots(
        3, 1, figsize=(11, 8.5), sharex=True, gridspec_kw={"height_ratios": [1.0, 1.4, 0.8]}
    )
    # Prices: spot (EUR/MWh) left, reserve (EUR/MW per hour) right, capacity in the title
    # (cleared once for the delivery period, EUR/MW-day).
    ax_p.plot(hours, np.asarray(s["price_eur_per_mwh"])[:n], color="C0", lw=1.2)
    ax_p.set_ylabel("spot price\nEUR/MWh", color="C0")
    ax_p.tick_params(axis="y", colors="C0")
    ax_r = ax_p.twinx()
    if "reserve_price_eur_per_mw" in s:
        ax_r.step(hours, np.asarray(s["reserve_price_eur_per_mw"])[:n], color="C3",
                  where="mid", lw=1.0)  # fmt: skip
    ax_r.set_ylabel("reserve price\nEUR/MW per h", color="C3")
    ax_r.tick_params(axis="y", colors="C3")
    cap = np.asarray(s.get("capacity_price_eur_per_mw_day", []), dtype=float)[:n]
    cap_text = ""
    if cap.size:
        cap_text = (
            f"capacity price {cap[0]:,.0f} EUR/MW-day"
            if np.ptp(cap) == 0
            else f"capacity price {cap.min():,.0f} to {cap.max():,.0f} EUR/MW-day"
        )
    ax_p.set_title(f"prices: spot (blue), reserve (red); {cap_text}", fontsize=9, loc="left")
    ax_p.grid(alpha=0.3)

    dispatch = s.get("dispatch_mw") or {}
    supply = {k: np.asarray(v)[:n] for k, v in dispatch.items() if k != "background_load"}
    if supply:
        # Renewables first (zero marginal cost), then incumbents in fleet order.
        names = sorted(supply, key=lambda k: (k != "system_renewables", k))
        colours = plt.get_cmap("tab20")(np.linspace(0, 1, 20))[: len(names)]
        ax_d.stackplot(hours, *(supply[k] for k in names), labels=names, colors=colours,
                       alpha=0.9, step="mid")  # fmt: skip
        if "background_load" in dispatch:
            label = "background demand\n(the coalition's purchases\ncome on top)"
            ax_d.plot(hours, np.asarray(dispatch["background_load"])[:n], color="k", lw=1.0,
                      ls="--", label=label)  # fmt: skip
        ax_d.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, frameon=False)
    ax_d.set_ylabel("spot dispatch\nMW")
    ax_d.set_title("spot energy sold by unit (stacked) and background demand", fontsize=9,
                   loc="left")  # fmt: skip
    ax_d.grid(alpha=0.3)

    pos = np.asarray(s["coalition_position_mw"])[:n]
    ax_c.fill_between(hours, pos, 0.0, where=pos >= 0, step="mid", color="C1", alpha=0.7,
                      label="buys")  # fmt: skip
    ax_c.fill_between(hours, pos, 0.0, where=pos < 0, step="mid", color="C2", alpha=0.7,
                      label="sells")  # fmt: skip
    ax_c.axhline(0.0, color="k", lw=0.8)
    # Zero always inside the axis, with room for both buying and selling.
    top = max(float(pos.max()), 0.0)
    bottom = min(float(pos.min()), 0.0)
    pad = 0.15 * max(top - bottom, 1e-3)
    ax_c.set_ylim(bottom - pad, top + pad)
    ax_c.set_ylabel("coalition's\ncleared position, MW")
    ax_c.legend(loc="upper right", fontsize=7)
    ax_c.set_xlabel("hour of the episode")
    ax_c.grid(alpha=0.3)
    ax_c.set_xlim(0, n - 1)
    total = int(r["days"]) * 24
    span = "the whole" if n == total else f"the first {n} h of the"
    fig.suptitle(
        f"{agent} on {r['scenario']}, seed {r['seed']}: {span} {total} h "
        f"({r['days']}-day) episode\n{grid_label}", fontsize=11,
    )  # fmt: skip
    fig.tight_layout()
    _save(fig, path)
    return True


def plot_all(
    df: pd.DataFrame,
    results: list[dict[str, Any]],
    summary: list[dict[str, Any]],
    key: str,
    label: str,
    out: Path,
    *,
    cfg: Any = None,
    suite: str = "",
    week_agent: str | None = None,
    excluded: list[tuple[str, int]] | tuple[tuple[str, int], ...] = (),
) -> list[Path]:
    """Write the plots that the data allow into ``out``; returns the files written.

    Args:
        df: ``results.csv`` as a frame (one row per cell).
        results: the cell results (with member savings and series where present).
        summary: ranked per-agent summary (:func:`evaluation.leaderboard.summarise`).
        key, label: the ranking metric and its axis label.
        out: the folder.
        cfg: the suite (:class:`evaluation.grid.EvalConfig`), for titles and the
            reference agent the week plot skips by default.
        suite: the suite's name or file, for titles.
        week_agent: the agent of ``week.png`` (default: :func:`week_agent`).
        excluded: (scenario, seed) runs without a score scale (named under the heat map).
    """
    out.mkdir(parents=True, exist_ok=True)
    order = [r["agent"] for r in summary]
    grid_label = _grid_label(cfg, suite)
    written = []
    if key in df:
        _score(summary, key, label, f"{label} by agent\n{grid_label}", out / "score.png")
        _heatmap(df, order, key, label, f"mean {label} per scenario (over seeds)\n{grid_label}",
                 list(excluded), out / "heatmap.png")  # fmt: skip
        written += [out / "score.png", out / "heatmap.png"]
    if _savings(results, order, grid_label, out / "member_savings.png"):
        written.append(out / "member_savings.png")
    agent = week_agent or _default_week_agent(summary, cfg)
    if agent is not None and _week(results, agent, grid_label, out / "week.png"):
        written.append(out / "week.png")
    return written


def _default_week_agent(summary: list[dict[str, Any]], cfg: Any) -> str | None:
    return week_agent(summary, getattr(cfg, "high", None))
