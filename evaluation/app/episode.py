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
from envs.errors import UnknownNameError
from envs.market.settlement import MARKETS
from envs.market.spot import clear_spot
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
    """What one hour's spot auction was built from (snapshot before the step).

    Attributes:
        step: hour index t.
        bids: the incumbents' bid parameters (E = 1 arrays, :class:`fl.BidParams`).
        prev_dispatch_mw: (1, G) dispatch of the hour before (ramp limits).
        coalition_action: (A,) the coalition's action as stepped, clipped to [-1, 1].
        system_load_mw: total background demand of the hour, MW.
        system_renewables_mw: renewable output offered by the rest of the system, MW.
        soc_mwh: (N,) members' state of charge at the start of the hour.
    """

    step: int
    bids: fl.BidParams
    prev_dispatch_mw: np.ndarray
    coalition_action: np.ndarray
    system_load_mw: float
    system_renewables_mw: float
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
        if "incumbents" in penv.agent_groups:
            raw = np.stack([actions[a] for a in penv.agent_groups["incumbents"]])[None]
            bids = fl.decode_bid_action(
                np.clip(raw.astype(np.float64), -1.0, 1.0),
                core.cfg.fleet,
                reserve=core.layout.reserve,
                capacity=core.layout.capacity,
                capacity_cap_eur_per_mw_day=core.cfg.capacity.price_cap_eur_per_mw_day,
            )
        else:
            bids = core.scripted_incumbent_bids()
        self.books.append(
            HourBook(
                step=t,
                bids=bids,
                prev_dispatch_mw=core.prev_dispatch.copy(),
                coalition_action=np.clip(
                    np.asarray(actions["coalition"], dtype=np.float64), -1.0, 1.0
                ),
                system_load_mw=float(core.sys_load[0, t]),
                system_renewables_mw=float(core.sys_ren[0, t]),
                soc_mwh=core.soc[0].copy(),
            )
        )

    def after_step(self, t: int, env: Any, infos: dict[str, Any]) -> None:
        """Keep the hour's public market info and report progress."""
        self.markets.append(dict(infos["coalition"]["market"]))
        core = env.unwrapped.core
        self.final_soc_mwh = core.soc[0].copy()
        if self.progress is not None:
            self.progress(t + 1, core.T)


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
        env_id: ``multimarket_v0`` or ``spot_v0``.
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
            "q_max_mw": core.q_max_mw,
            "renewable_offer": float(core.cfg.background.renewable_offer_eur_per_mwh),
            # The core's background demand blocks (inelastic share at the cap, then the
            # elastic steps); read, not rebuilt, so there is one definition.
            "demand_prices": core.demand_prices.copy(),
            "demand_shares": core.demand_shares.copy(),
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


def _reserve_award(ep: ViewerEpisode, t: int, n_gen: int) -> np.ndarray:
    """(1, G) reserve each incumbent held in hour t, MW (from the ledger)."""
    led = ep.episode.ledger
    rows = led[(led.step == t) & (led.market == "reserve")]
    held = rows.set_index("participant").reserve_mw
    names = [f"incumbent_{g}" for g in range(n_gen)]
    return held.reindex(names, fill_value=0.0).to_numpy(dtype=np.float64)[None]


def merit_order(ep: ViewerEpisode, t: int) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """The spot auction of hour ``t``: supply and demand blocks and the clearing price.

    Supply: each incumbent's must-run tranche (at the floor) and K priced tranches
    (:func:`fl.energy_offers`, net of the reserve it holds), the rest of the system's
    renewables at their offer price, and the coalition's sell offer; demand: the
    background blocks (an inelastic share at the cap, then elastic steps) and the
    coalition's buy bid (its action decoded as ``envs.multimarket_v0`` documents).

    Returns:
        (supply, demand, price): frames with columns owner, block, quantity_mw,
        price_eur_per_mwh, accepted_mw, sorted in merit order (supply ascending,
        demand descending), and the clearing price EUR/MWh.

    Raises:
        IndexError: ``t`` outside the episode.
    """
    if not 0 <= t < len(ep.books):
        raise IndexError(f"hour {t} is outside the episode (0 to {len(ep.books) - 1})")
    book, sp = ep.books[t], ep.spot_params
    fleet = ep.episode.fleet
    g = len(fleet)
    q, p = fl.energy_offers(
        book.bids, ep.fleet_arrays, book.prev_dispatch_mw, _reserve_award(ep, t, g), sp["floor"]
    )
    a = book.coalition_action
    q_spot = float(a[0]) * sp["q_max_mw"]
    p_spot = float(a[1]) ** 3 * (sp["cap"] if a[1] >= 0.0 else abs(sp["floor"]))
    k1 = q.shape[-1]
    owners = [f"incumbent_{i}" for i in range(g) for _ in range(k1)]
    blocks = ["must-run" if k == 0 else f"tranche {k}" for _ in range(g) for k in range(k1)]
    supply = pd.DataFrame(
        {
            "owner": [*owners, "system_renewables", "coalition"],
            "block": [*blocks, "renewables", "sell offer"],
            "quantity_mw": [*q[0].ravel(), book.system_renewables_mw, max(-q_spot, 0.0)],
            "price_eur_per_mwh": [*p[0].ravel(), sp["renewable_offer"], p_spot],
        }
    )
    shares, d_prices = sp["demand_shares"], sp["demand_prices"]
    demand = pd.DataFrame(
        {
            "owner": ["background_load"] * len(shares) + ["coalition"],
            "block": ["inelastic" if i == 0 else f"elastic {i}" for i in range(len(shares))]
            + ["buy bid"],
            "quantity_mw": [*(book.system_load_mw * shares), max(q_spot, 0.0)],
            "price_eur_per_mwh": [*d_prices, p_spot],
        }
    )
    res = clear_spot(
        supply.quantity_mw.to_numpy()[None],
        supply.price_eur_per_mwh.to_numpy()[None],
        demand.quantity_mw.to_numpy()[None],
        demand.price_eur_per_mwh.to_numpy()[None],
        price_floor_eur_per_mwh=sp["floor"],
        price_cap_eur_per_mwh=sp["cap"],
        pricing=sp["pricing"],
    )
    supply["accepted_mw"] = res.supply_mw[0]
    demand["accepted_mw"] = res.demand_mw[0]
    # Offers and bids are read as clipped to [floor, cap] by the auction (envs.market.spot).
    for frame in (supply, demand):
        frame["price_eur_per_mwh"] = frame.price_eur_per_mwh.clip(sp["floor"], sp["cap"])
    supply = supply.sort_values("price_eur_per_mwh", kind="stable").reset_index(drop=True)
    demand = demand.sort_values("price_eur_per_mwh", ascending=False, kind="stable")
    return supply, demand.reset_index(drop=True), float(res.price_eur_per_mwh[0])


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
