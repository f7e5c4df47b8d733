"""What a leaderboard must say about itself: a smoke run, ties, a missing baseline, labels.

Used by :mod:`evaluation.compare` before it writes the leaderboard:

* :func:`overlap_groups` and :func:`ranking_notes`: a ``--quick`` run says that it is a smoke
  run, and every run names the agents whose 95% intervals of the ranking metric overlap
  (their order is not significant);
* :func:`present_baseline`: ``P(> mpc)`` compares with the strongest scripted baseline that
  was run when ``mpc`` was not (instead of a column of n/a);
* :func:`scenario_labels`: a scenario given as a YAML path is shown under its ``name:``.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

__all__ = ["BASELINE_ORDER", "overlap_groups", "present_baseline", "ranking_notes",
           "scenario_labels"]  # fmt: skip

#: Scripted baselines, strongest first (the shipped full leaderboard's order): the
#: reference of ``P(> X)`` when the suite's own baseline was not run.
BASELINE_ORDER: tuple[str, ...] = ("mpc", "admm", "individual", "rule")


def _interval(row: dict[str, Any], key: str) -> tuple[float, float] | None:
    low, high = row.get(f"{key}_low"), row.get(f"{key}_high")
    if low is None or high is None or math.isnan(float(low)) or math.isnan(float(high)):
        return None
    return float(low), float(high)


def overlap_groups(summary: list[dict[str, Any]], key: str) -> list[list[str]]:
    """Runs of neighbours in rank order whose ``key`` intervals overlap (2+ agents each).

    ``summary`` is in rank order with ``{key}_low`` / ``{key}_high`` per row; a group grows
    while the next agent's interval overlaps the previous one's, so every adjacent pair in
    a group is a tie at 95%.
    """
    groups: list[list[str]] = []
    current: list[str] = []
    previous: tuple[float, float] | None = None
    for row in summary:
        span = _interval(row, key)
        if span and previous and span[1] >= previous[0] and span[0] <= previous[1]:
            current.append(row["agent"])
        else:
            if len(current) > 1:
                groups.append(current)
            current = [row["agent"]] if span is not None else []
        previous = span
    if len(current) > 1:
        groups.append(current)
    return groups


def ranking_notes(summary: list[dict[str, Any]], key: str, *, quick: bool, grid: str) -> list[str]:
    """The leaderboard's lines on how far its ranking can be trusted.

    Args:
        summary: rows in rank order (:func:`evaluation.leaderboard.summarise`).
        key: the ranked interval's key, e.g. ``normalised_score_iqm``.
        quick: a ``--quick`` (smoke) run.
        grid: the grid in words, e.g. ``3 scenarios x 2 seeds x 2 days``.
    """
    lines = []
    if quick:
        lines.append(
            f"SMOKE RUN (--quick, {grid}): it checks that every agent runs, it cannot rank "
            "them; the order below is not significant where the 95% intervals overlap. "
            "Rank agents with the full grid (python -m evaluation.compare without --quick)."
        )
    ties = overlap_groups(summary, key)
    if ties:
        words = "; ".join(", ".join(f"`{a}`" for a in group) for group in ties)
        lines.append(f"note: overlapping 95% intervals, order not significant between: {words}.")
    return lines


def present_baseline(baseline: str, run: list[str]) -> tuple[str, str | None]:
    """The reference of ``P(> X)``: ``baseline`` when it was run, else the strongest of
    :data:`BASELINE_ORDER` that was, else the first agent run; and a note when it changed."""
    if baseline in run or not run:
        return baseline, None
    chosen = next((b for b in BASELINE_ORDER if b in run), run[0])
    return chosen, (
        f"note: `{baseline}` (the suite's baseline) was not run, so P(> {chosen}) compares "
        f"with `{chosen}` instead; add `{baseline}` to --agents to compare with it."
    )


def _yaml_name(path: str) -> str | None:
    """The top-level ``name:`` of a scenario file, or ``None``."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name.strip() if isinstance(name, str) and name.strip() else None


def scenario_labels(scenarios: list[str], files: set[str], taken: list[str]) -> dict[str, str]:
    """Scenario as given -> its label on the leaderboard.

    A scenario file (in ``files``) is labelled by its ``name:`` unless it has none, the
    name is a scenario of ``taken`` (the env's shipped ones) or another scenario of the run
    has the same label; then its path stays the label. Names pass through unchanged.
    """
    labels = {s: (_yaml_name(s) if s in files else None) or s for s in scenarios}
    counts = Counter(labels.values())
    return {
        s: s if s in files and (label in taken or counts[label] > 1) else label
        for s, label in labels.items()
    }
