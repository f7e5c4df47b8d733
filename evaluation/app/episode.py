"""Logic of the episode viewer: run one multi-market episode and take it apart.

:func:`run_viewer_episode` plays the episode with :func:`evaluation.episode.run_episode`
(the loop the leaderboard's cells use) and an observer that keeps, for every hour, what
the bids were made of before the market cleared: the incumbents' bid parameters and
last dispatch, the coalition's action, system load and renewables, and the members'
state of charge. From that, :func:`merit_order` rebuilds the hour's stepwise supply and
demand curves out of the env's own pieces (:func:`envs.actors.fleet.energy_offers`,
the core's background demand blocks) and clears them with
:func:`envs.market.spot.clear_spot`; a test pins the result to the price and dispatch
the env cleared, so this second view of the auction cannot drift from the kernel.

Dims: T hours (steps), G incumbents, K tranches, N members, S supply blocks, B demand
blocks. Energy MWh (one hour: MW = MWh), prices EUR/MWh (spot), EUR/MW (reserve, per
hour) and EUR/MW-day (capacity), money EUR (+ = received).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import envs
from envs.actors import fleet as fl
from envs.adapters.infos import nested_info
from envs.adapters.parallel import COALITION_ID
from envs.errors import UnknownNameError
from envs.market.settlement import MARKETS
from envs.registry import MARKET_FAMILY
from evaluation.episode import Episode, build_policy, run_episode
from evaluation.metrics import cell_metrics, member_savings

__all__ = [
    "HourBook",
    "ViewerEpisode",
    "agent_name",
    "battery_frame",
    "dispatch_frame",
    "ledger_tables",
    "merit_order",
    "prices_frame",
    "run_viewer_episode",
]


@dataclass(frozen=True)
class HourBook:
    """One hour's day-ahead auction as the step clears it (snapshot before the step).

    Attributes:
        step: hour index t.
        day_ahead: :meth:`envs.sim.core.MarketCore.day_ahead_book` of env 0: the offered,
            accepted and priced supply and demand blocks, reserve awards and prices.
        soc_mwh: (N,) members' state of charge at the start of the hour.
    """

    step: int
    day_ahead: dict[str, np.ndarray]
    soc_mwh: np.ndarray


@dataclass
class _Recorder:
    """The :func:`run_episode` observer: snapshots each hour, keeps infos, reports progress."""

    progress: Callable[[int, int], None] | None = None
    books: list[HourBook] = field(default_factory=list)
    markets: list[dict[str, float]] = field(default_factory=list)
    final_soc_mwh: np.ndarray | None = None

    def before_step(self, t: int, env: Any, actions: dict[str, np.ndarray]) -> None:
        """Snapshot the state the auction of hour ``t`` is built from."""
        penv = env.unwrapped
        core = penv.core
        incumbents = None
        if "incumbents" in penv.agent_groups:
            raw = np.stack([actions[a] for a in penv.agent_groups["incumbents"]])[None]
            incumbents = np.clip(raw.astype(np.float64), -1.0, 1.0)
        coalition = np.clip(np.asarray(actions[COALITION_ID], dtype=np.float64), -1.0, 1.0)
        book = core.day_ahead_book(coalition[None], incumbents)
        self.books.append(
            HourBook(
                step=t,
                day_ahead={k: (v if k == "supply_unit" else v[0]) for k, v in book.items()},
                soc_mwh=core.state.soc_mwh[0].copy(),
            )
        )

    def after_step(self, t: int, env: Any, infos: dict[str, Any]) -> None:
        """Keep the hour's public market info and report progress."""
        self.markets.append(dict(nested_info(infos[COALITION_ID])["market"]))
        core = env.unwrapped.core
        self.final_soc_mwh = core.state.soc_mwh[0].copy()
        if self.progress is not None:
            self.progress(t + 1, core.dims.T)


@dataclass(frozen=True)
class ViewerEpisode:
    """One played episode with everything the viewer shows."""

    env_id: str
    scenario: str
    seed: int
    days: int
    agent: str
    episode: Episode
    books: tuple[HourBook, ...]
    markets: pd.DataFrame  # (T rows) the public market info of each hour
    soc_mwh: np.ndarray  # (T + 1, N) members' state of charge at each hour boundary
    battery_mwh: np.ndarray  # (N,) members' battery energy capacity
    metrics: dict[str, float]
    fleet_arrays: fl.FleetArrays  # the core's incumbent parameters (capacity, cost, ramps)
    spot_params: dict[str, Any]  # floor, cap, pricing, renewable offer, background blocks


def agent_name(kind: str, value: str, checkpoint: str = "") -> str:
    """The name :func:`evaluation.episode.build_policy` takes for the viewer's agent choice.

    Args:
        kind: ``"built-in"`` (``value`` is a name of ``agents.BUILTINS``), ``"class path"``
            (``value`` is ``pkg.mod:Class``) or ``"checkpoint"`` (``value`` is a learned
            policy's name, e.g. ``mappo``, and ``checkpoint`` the weights' path).

    Raises:
        ValueError: an empty value or checkpoint, or an unknown kind.
    """
    value, checkpoint = value.strip(), checkpoint.strip()
    if not value:
        raise ValueError(f"the agent's {kind} is empty; enter one")
    if kind in ("built-in", "class path"):
        if kind == "class path" and ":" not in value:
            raise ValueError(f"class path {value!r} has no ':'; expected 'package.module:Class'")
        return value
    if kind == "checkpoint":
        if not checkpoint:
            raise ValueError("the checkpoint path is empty; enter the path of a .pt file")
        return f"{value}={checkpoint}"
    raise ValueError(f"agent kind {kind!r}; expected 'built-in', 'class path' or 'checkpoint'")


def run_viewer_episode(
    env_id: str,
    scenario: str,
    seed: int,
    days: int,
    agent: str,
    progress: Callable[[int, int], None] | None = None,
) -> ViewerEpisode:
    """Build the env and the agent, play one deterministic episode and record it.

    Args:
        env_id: ``multimarket_v1`` or ``spot_v1``.
        scenario: a shipped scenario of that env.
        seed: seeds the env and the policy.
        days: episode length, days (24 steps each).
        agent: a :func:`evaluation.episode.build_policy` name (built-in, ``pkg.mod:Class``
            or ``NAME=CHECKPOINT``).
        progress: called with (hours done, hours in total) after every step.

    Raises:
        UnknownNameError: an unknown env, scenario or agent (the message lists valid names).
        ValueError, ConfigError, ImportError, OSError: a bad value, class or checkpoint.
    """
    if env_id not in MARKET_FAMILY:
        raise UnknownNameError(
            f"unknown env {env_id!r} for the viewer; valid envs: {', '.join(MARKET_FAMILY)}"
        )
    if days < 1:
        raise ValueError(f"days={days}; expected at least 1")
    env = envs.make(env_id, scenario=scenario, days=days)
    policy = build_policy(agent)
    rec = _Recorder(progress=progress)
    ep = run_episode(env, policy, seed, observer=rec)
    core = env.unwrapped.core
    sp = core.cfg.spot
    assert rec.final_soc_mwh is not None  # set by every step, and days >= 1
    soc = np.vstack([*(b.soc_mwh for b in rec.books), rec.final_soc_mwh])
    return ViewerEpisode(
        env_id=env_id,
        scenario=scenario,
        seed=seed,
        days=days,
        agent=agent,
        episode=ep,
        books=tuple(rec.books),
        markets=pd.DataFrame(rec.markets),
        soc_mwh=soc,
        battery_mwh=core.members.battery_mwh.copy(),
        metrics=cell_metrics(ep.ledger, ep.counterfactual, ep.record, ep.fleet),
        fleet_arrays=core.fleet,
        spot_params={
            "floor": float(sp.price_floor_eur_per_mwh),
            "cap": float(sp.price_cap_eur_per_mwh),
            "pricing": sp.pricing,
            "q_max_mw": core.coalition.q_max_mw,
            "renewable_offer": float(core.cfg.background.renewable_offer_eur_per_mwh),
            # The core's background demand blocks (inelastic share at the cap, then the
            # elastic steps); read, not rebuilt, so there is one definition.
            "demand_prices": core.book.demand_prices.copy(),
            "demand_shares": core.book.demand_shares.copy(),
        },
    )


def prices_frame(ep: ViewerEpisode) -> pd.DataFrame:
    """(T rows) hour, spot EUR/MWh, reserve EUR/MW, capacity EUR/MW-day (the auction's price,
    standing between auctions), reserve requirement MW, unserved energy MWh."""
    m = ep.markets
    return pd.DataFrame(
        {
            "hour": np.arange(len(m)),
            "spot_eur_per_mwh": m.price_eur_per_mwh,
            "reserve_eur_per_mw": m.reserve_price_eur_per_mw,
            "capacity_eur_per_mw_day": m.capacity_price_eur_per_mw_day,
            "reserve_requirement_mw": m.reserve_requirement_mw,
            "unserved_energy_mwh": m.unserved_energy_mwh,
        }
    )


def merit_order(ep: ViewerEpisode, t: int) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """The day-ahead auction of hour ``t`` as the step cleared it
    (:meth:`envs.sim.core.MarketCore.day_ahead_book`): supply and demand blocks and the
    clearing price.

    Supply: each incumbent's must-run tranche (at the floor) and K priced tranches, the rest
    of the system's renewables at their offer price, and the coalition's sell offer; demand:
    the background blocks (an inelastic share at the cap, then elastic steps) and the
    coalition's buy bid. Under co-optimisation a unit's tranches are its whole energy offer
    (what it holds as reserve is decided in the same LP); under sequential clearing they are
    net of the reserve it holds.

    Returns:
        (supply, demand, price): frames with columns owner, block, quantity_mw,
        price_eur_per_mwh, accepted_mw, sorted in merit order (supply ascending,
        demand descending), and the clearing price EUR/MWh.

    Raises:
        IndexError: ``t`` outside the episode.
    """
    if not 0 <= t < len(ep.books):
        raise IndexError(f"hour {t} is outside the episode (0 to {len(ep.books) - 1})")
    da, sp = ep.books[t].day_ahead, ep.spot_params
    g = len(ep.episode.fleet)
    k1 = (len(da["supply_q"]) - 2) // g
    owners = [f"incumbent_{i}" for i in range(g) for _ in range(k1)]
    blocks = ["must-run" if k == 0 else f"tranche {k}" for _ in range(g) for k in range(k1)]
    supply = pd.DataFrame(
        {
            "owner": [*owners, "system_renewables", "coalition"],
            "block": [*blocks, "renewables", "sell offer"],
            "quantity_mw": da["supply_q"],
            "price_eur_per_mwh": da["supply_p"],
            "accepted_mw": da["supply_acc"],
        }
    )
    n_bg = len(da["demand_q"]) - 1
    demand = pd.DataFrame(
        {
            "owner": ["background_load"] * n_bg + ["coalition"],
            "block": ["inelastic" if i == 0 else f"elastic {i}" for i in range(n_bg)] + ["buy bid"],
            "quantity_mw": da["demand_q"],
            "price_eur_per_mwh": da["demand_p"],
            "accepted_mw": da["demand_acc"],
        }
    )
    # Offers and bids are read as clipped to [floor, cap] by the auction (envs.market.spot).
    for frame in (supply, demand):
        frame["price_eur_per_mwh"] = frame.price_eur_per_mwh.clip(sp["floor"], sp["cap"])
    supply = supply.sort_values("price_eur_per_mwh", kind="stable").reset_index(drop=True)
    demand = demand.sort_values("price_eur_per_mwh", ascending=False, kind="stable")
    return supply, demand.reset_index(drop=True), float(da["price"])


def dispatch_frame(ep: ViewerEpisode) -> pd.DataFrame:
    """(T x sellers) energy sold in the spot market per hour by each unit, MWh: every
    incumbent, the system's renewables and the coalition (when it sells)."""
    led = ep.episode.ledger
    spot = led[(led.market == "spot") & (led.energy_mwh > 0.0)]
    table = spot.pivot_table(
        index="step", columns="participant", values="energy_mwh", aggfunc="sum", fill_value=0.0
    )
    hours = pd.RangeIndex(len(ep.books), name="hour")
    return table.reindex(hours, fill_value=0.0).rename_axis(columns=None)


def battery_frame(ep: ViewerEpisode) -> pd.DataFrame:
    """(T + 1 rows, hour boundary) members' state of charge, % of battery energy capacity
    (NaN for members without a battery), plus ``total_mwh`` over all members."""
    cap = ep.battery_mwh
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(cap > 0, 100.0 * ep.soc_mwh / cap, np.nan)
    names = [f"member_{i}" for i in range(cap.size)]
    out = pd.DataFrame(pct, columns=names)
    out["total_mwh"] = ep.soc_mwh.sum(axis=1)
    return out.rename_axis("hour")


def ledger_tables(ep: ViewerEpisode) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ledger by market and participant, and the counterfactual beside it.

    Returns:
        (cash, members): ``cash`` is participant x market cash over the episode, EUR
        (+ = received; markets in ledger order, a ``total`` column); ``members`` is one
        row per member: bill alone (counterfactual), cost in the coalition and saving,
        EUR (:func:`evaluation.metrics.member_savings`).
    """
    led = ep.episode.ledger
    cash = led.pivot_table(
        index="participant", columns="market", values="cash_eur", aggfunc="sum", fill_value=0.0
    )
    cash = cash.reindex(columns=[m for m in MARKETS if m in cash.columns])
    order = list(dict.fromkeys([*ep.episode.fleet.participant, "coalition"]))
    rest = [p for p in cash.index if p not in order]
    members = sorted((p for p in rest if p.startswith("member_")), key=lambda s: int(s[7:]))
    others = [p for p in rest if not p.startswith("member_")]
    cash = cash.reindex([p for p in [*order, *members, *others] if p in cash.index])
    cash["total"] = cash.sum(axis=1)
    return cash, member_savings(led, ep.episode.counterfactual)
