"""Metrics of one multi-market episode: pure functions of its ledger, counterfactual and record.

One source of truth: every money and energy figure comes from ``env.ledger()`` (columns
step, market, participant, energy_mwh, reserve_mw, capacity_mw, cash_eur; cash + =
received) and ``env.counterfactual_bills()`` (step, member, bill_eur). What the ledger
does not hold (emissions, hourly CFE, the Lerner index, unserved energy, prices) comes
from the episode *record*: one row per step with the env's info keys of that step
(:func:`evaluation.episode.run_episode` writes it). The fleet table gives each incumbent's
static marginal cost (participant, marginal_cost_eur_per_mwh).

Dims legend: T steps (hours), N members, G incumbents. Money in EUR, energy in MWh,
emissions in t CO2, shares in % where the name ends in ``_pct``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# One definition of "worse off than alone", the simulator's own (envs.market.billing).
from envs.market.billing import is_worse_off

# Stated with the ledger it reads (training's held-out check uses it too).
from envs.sim.ledger import member_savings

__all__ = [
    "ENERGY_MARKETS",
    "LEDGER_MARKETS",
    "REVENUE_MARKETS",
    "cell_metrics",
    "gini",
    "incumbent_markup",
    "is_worse_off",
    "member_savings",
    "normalised_score",
]

#: Markets whose coalition revenue is reported (issue 5).
REVENUE_MARKETS: tuple[str, ...] = ("spot", "reserve", "capacity")
#: Every market where the coalition's cash can move (the ledger's markets but the
#: share-out ``allocation``). The members' saving is the bills alone plus the sum of the
#: coalition's cash over these, so they explain where a saving or a loss comes from.
LEDGER_MARKETS: tuple[str, ...] = (
    "spot", "reserve", "capacity", "balancing", "imbalance", "network", "ppa",
)  # fmt: skip
#: Markets where the coalition buys energy (MWh), reported with what it paid.
ENERGY_MARKETS: tuple[str, ...] = ("spot", "imbalance")


def gini(values: np.ndarray) -> float:
    """Gini coefficient of ``values`` (mean absolute difference over twice the mean).

    ``G = sum_ij |x_i - x_j| / (2 n^2 mean(x))``: 0 when all are equal, towards 1 when
    one member takes everything. Savings may be negative; the coefficient is then not
    bounded by 1, and it is undefined (NaN) when the mean is not positive.

    Args:
        values: (N,) values, e.g. members' savings in EUR.

    >>> gini(np.array([1.0, 1.0, 1.0]))
    0.0
    >>> gini(np.array([0.0, 0.0, 0.0, 4.0]))
    0.75
    """
    x = np.asarray(values, dtype=np.float64)
    mean = x.mean() if x.size else 0.0
    if mean <= 0.0:
        return float("nan")
    # Sorted form of the mean absolute difference: O(N log N) instead of O(N^2).
    xs = np.sort(x)
    n = xs.size
    ranks = np.arange(1, n + 1)
    return float(np.sum((2 * ranks - n - 1) * xs) / (n * n * mean))


def incumbent_markup(ledger: pd.DataFrame, record: pd.DataFrame, fleet: pd.DataFrame) -> float:
    """Incumbents' offer markup over marginal cost: each hour's energy-weighted markup of
    the fleet's accepted offers (``markup_energy_weighted``, :mod:`envs.market.metrics`:
    what they asked above cost, not the inframarginal rent of a competitive market),
    averaged over hours weighted by the fleet's spot energy.

    Args: ``record`` needs ``step`` and ``markup_energy_weighted``; ``fleet``
    ``participant``. Returns NaN when nothing was sold.
    """
    spot = ledger[(ledger.market == "spot") & ledger.participant.isin(fleet.participant)]
    sold = spot.groupby("step").energy_mwh.sum().reindex(record.step, fill_value=0.0)
    if sold.sum() <= 1e-6:
        return float("nan")
    return float(np.average(record.markup_energy_weighted.to_numpy(), weights=sold.to_numpy()))


def cell_metrics(
    ledger: pd.DataFrame,
    counterfactual: pd.DataFrame,
    record: pd.DataFrame,
    fleet: pd.DataFrame,
) -> dict[str, float]:
    """Every scalar metric of one episode (issue 5); keys carry their units.

    Args:
        ledger, counterfactual: as returned by the env.
        record: (T rows) step, price_eur_per_mwh, emissions_t, coalition_emissions_t,
            coalition_cfe (0-1), lerner_index, unserved_energy_mwh.
        fleet: (G rows) participant, marginal_cost_eur_per_mwh.

    Returns:
        ``members_alone_eur``, ``members_cost_eur``, ``members_saving_eur``,
        ``members_saving_pct`` (of the bill alone), ``share_better_off_pct`` (members
        with a positive saving), ``members_worse_off`` (members worse off than alone over
        the episode, :func:`envs.market.billing.is_worse_off`: a saving below -1e-6 EUR),
        ``gini_savings``, ``n_members``,
        ``coalition_revenue_<market>_eur`` for every market of :data:`LEDGER_MARKETS`
        (cash received, negative = paid), ``coalition_<market>_bought_mwh`` and
        ``coalition_<market>_bought_eur`` for each of :data:`ENERGY_MARKETS` (energy the
        coalition bought there and what it paid, both >= 0),
        ``emissions_t`` (system), ``coalition_emissions_t``, ``cfe_pct`` (mean hourly CFE
        score of the coalition), ``lerner_index`` (mean over hours),
        ``incumbent_markup`` (see :func:`incumbent_markup`), ``price_markup_competitive``
        (mean over hours of the price's excess over the competitive rerun's,
        :mod:`envs.market.metrics`; NaN where the record lacks it), ``unserved_energy_mwh``.
    """
    sav = member_savings(ledger, counterfactual)
    alone, cost = float(sav.alone_eur.sum()), float(sav.cost_eur.sum())
    saving = alone - cost
    coal = ledger[ledger.participant == "coalition"].groupby("market").cash_eur.sum()
    out = {
        "members_alone_eur": alone,
        "members_cost_eur": cost,
        "members_saving_eur": saving,
        "members_saving_pct": 100.0 * saving / alone if alone > 0 else float("nan"),
        "share_better_off_pct": 100.0 * float(np.mean(sav.saving_eur > 0.0)),
        "members_worse_off": float(np.sum(is_worse_off(sav.saving_eur.to_numpy(np.float64)))),
        "gini_savings": gini(sav.saving_eur.to_numpy()),
        "n_members": float(len(sav)),
    }
    for market in LEDGER_MARKETS:
        out[f"coalition_revenue_{market}_eur"] = float(coal.get(market, 0.0))
    # Ledger sign: energy + = delivered to the market, so purchases are the negative rows.
    mine = ledger[(ledger.participant == "coalition") & (ledger.energy_mwh < 0)]
    for market in ENERGY_MARKETS:
        buys = mine[mine.market == market]
        out[f"coalition_{market}_bought_mwh"] = float(-buys.energy_mwh.sum())
        out[f"coalition_{market}_bought_eur"] = float(-buys.cash_eur.sum())
    out |= {
        "emissions_t": float(record.emissions_t.sum()),
        "coalition_emissions_t": float(record.coalition_emissions_t.sum()),
        "cfe_pct": 100.0 * float(record.coalition_cfe.mean()),
        "lerner_index": float(record.lerner_index.mean()),
        "incumbent_markup": incumbent_markup(ledger, record, fleet),
        "price_markup_competitive": float(record.price_markup_competitive.mean())
        if "price_markup_competitive" in record
        else float("nan"),
        "unserved_energy_mwh": float(record.unserved_energy_mwh.sum()),
    }
    return out


def normalised_score(
    results: pd.DataFrame,
    *,
    low: str = "individual",
    high: str = "oracle",
    value: str = "members_saving_eur",
) -> pd.Series:
    """Members' saving rescaled per (scenario, seed): 0 = ``low`` agent, 1 = ``high`` agent.

    ``score = (s_agent - s_low) / (s_high - s_low)`` with ``s`` the saving of the same
    scenario and seed. NaN where either reference cell is missing or failed, and where
    ``s_high <= s_low``: the scale needs the upper reference above the lower one (a
    negative span would rank agents backwards; the price-taking oracle falls below the
    individual actors where the coalition moves the price, e.g. ``large_coalition``).

    Args:
        results: one row per cell with columns agent, scenario, seed, status and ``value``.

    Returns:
        Score aligned with ``results.index``.
    """
    ok = results[results.status == "ok"]
    ref = ok.pivot_table(index=["scenario", "seed"], columns="agent", values=value)
    keys = pd.MultiIndex.from_frame(results[["scenario", "seed"]])
    lo = ref[low].reindex(keys) if low in ref else pd.Series(np.nan, index=keys)
    hi = ref[high].reindex(keys) if high in ref else pd.Series(np.nan, index=keys)
    span = (hi - lo).to_numpy()
    own = results[value].where(results.status == "ok").to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(span > 1e-9, (own - lo.to_numpy()) / span, np.nan)
    return pd.Series(score, index=results.index, name="normalised_score")
