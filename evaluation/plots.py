"""PNG plots of a comparison (matplotlib, Agg backend: no display needed).

* ``score.png``: each agent's IQM and mean of the ranking metric with 95% intervals;
* ``heatmap.png``: mean of the ranking metric per scenario x agent;
* ``member_savings.png``: the distribution of members' savings (EUR) per agent;
* ``week.png``: one week (at most 168 h) of spot prices and the coalition's cleared
  position for the best agent.
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

__all__ = ["plot_all"]


def _score(summary: list[dict[str, Any]], key: str, label: str, path: Path) -> None:
    names = [r["agent"] for r in summary]
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(names) + 1.5))
    for offset, stat, marker in ((-0.15, "iqm", "o"), (0.15, "mean", "s")):
        pt = np.array([r[f"{key}_{stat}"] for r in summary], dtype=float)
        lo = np.array([r[f"{key}_{stat}_low"] for r in summary], dtype=float)
        hi = np.array([r[f"{key}_{stat}_high"] for r in summary], dtype=float)
        ax.errorbar(
            pt, y + offset, xerr=[pt - lo, hi - pt], fmt=marker, capsize=3, label=stat.upper()
        )
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel(f"{label} (95% bootstrap CI)")
    ax.legend(loc="best")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _heatmap(df: pd.DataFrame, order: list[str], key: str, label: str, path: Path) -> None:
    ok = df[df.status == "ok"]
    table = ok.pivot_table(index="scenario", columns="agent", values=key, aggfunc="mean")
    # Keep scenarios and agents without any score as blank rows and columns (visible gaps).
    table = table.reindex(index=sorted(df.scenario.unique()), columns=order)
    fig, ax = plt.subplots(figsize=(1.1 * table.shape[1] + 3, 0.45 * table.shape[0] + 1.5))
    im = ax.imshow(table.to_numpy(dtype=float), aspect="auto", cmap="viridis")
    ax.set_xticks(range(table.shape[1]), table.columns, rotation=45, ha="right")
    ax.set_yticks(range(table.shape[0]), table.index)
    for (i, j), v in np.ndenumerate(table.to_numpy(dtype=float)):
        if math.isfinite(v):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="w")
    fig.colorbar(im, ax=ax, label=label)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _savings(results: list[dict[str, Any]], order: list[str], path: Path) -> bool:
    data = {a: [] for a in order}
    for r in results:
        if r.get("status") == "ok" and r.get("member_saving_eur") and r["agent"] in data:
            data[r["agent"]].extend(r["member_saving_eur"].values())
    names = [a for a in order if data[a]]
    if not names:
        return False
    fig, ax = plt.subplots(figsize=(1.0 * len(names) + 3, 4))
    ax.boxplot([data[a] for a in names], showfliers=True)
    ax.set_xticks(range(1, len(names) + 1), names, rotation=30, ha="right")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_ylabel("member's saving vs alone, EUR")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def _week(results: list[dict[str, Any]], best: str, path: Path) -> bool:
    mine = [
        r for r in results if r["agent"] == best and r.get("status") == "ok" and r.get("series")
    ]
    if not mine:
        return False
    # Prefer the default scenario's first seed: the one week readers know best.
    mine.sort(key=lambda r: (r["scenario"] != "default", r["scenario"], r["seed"]))
    r = mine[0]
    s = r["series"]
    hours = np.arange(min(168, len(s["price_eur_per_mwh"])))
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(hours, np.asarray(s["price_eur_per_mwh"])[hours], color="C0", label="spot price")
    ax.set_xlabel("hour")
    ax.set_ylabel("spot price, EUR/MWh", color="C0")
    ax2 = ax.twinx()
    ax2.step(
        hours, np.asarray(s["coalition_position_mw"])[hours], color="C1", where="mid",
        label="coalition position",
    )  # fmt: skip
    ax2.axhline(0.0, color="C1", lw=0.5)
    ax2.set_ylabel("coalition's cleared position, MW (+ = buys)", color="C1")
    ax.set_title(f"{best} on {r['scenario']}, seed {r['seed']}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def plot_all(
    df: pd.DataFrame,
    results: list[dict[str, Any]],
    summary: list[dict[str, Any]],
    key: str,
    label: str,
    out: Path,
) -> list[Path]:
    """Write the plots that the data allow into ``out``; returns the files written.

    Args:
        df: ``results.csv`` as a frame (one row per cell).
        results: the cell results (with member savings and series where present).
        summary: ranked per-agent summary (:func:`evaluation.leaderboard.summarise`).
        key, label: the ranking metric and its axis label.
    """
    out.mkdir(parents=True, exist_ok=True)
    order = [r["agent"] for r in summary]
    written = []
    if key in df:
        _score(summary, key, label, out / "score.png")
        _heatmap(df, order, key, label, out / "heatmap.png")
        written += [out / "score.png", out / "heatmap.png"]
    if _savings(results, order, out / "member_savings.png"):
        written.append(out / "member_savings.png")
    best = next((r["agent"] for r in summary if r["cells"] > r["failed"]), None)
    if best is not None and _week(results, best, out / "week.png"):
        written.append(out / "week.png")
    return written
