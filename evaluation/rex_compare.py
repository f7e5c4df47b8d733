"""The reservation exchange in ``evaluation.compare`` (issue 7): traders and market quality.

``python -m evaluation.compare --suite rex`` (or ``--env reservation_exchange_v0``) runs
the baseline traders of :mod:`agents.rex_traders` on the exchange's scenarios; each
trader drives every prosumer. The leaderboard shows the market-quality metrics of
:mod:`evaluation.rex_metrics`, ranked by allocative efficiency.

Units: prices EUR/MWh, volumes MW (a rate for one delivery hour, so also MWh), money EUR.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evaluation import rex_metrics

__all__ = ["LEADERBOARD_COLUMNS", "REX_AGENTS", "play_cell", "rex_episode_metrics"]

ENV_ID = "reservation_exchange_v0"

#: Trader names -> classes (agents.rex_traders).
REX_AGENTS: dict[str, str] = {
    "zi_c": "agents.rex_traders:ZICTrader",
    "market_maker": "agents.rex_traders:MarketMaker",
    "no_loss": "agents.rex_traders:NoLossTrader",  # the seed's prosumer strategy
}

#: (metric, header, higher is better) shown in the leaderboard, in order.
LEADERBOARD_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("allocative_efficiency", "alloc. efficiency", True),
    ("spread_eur_per_mwh", "spread EUR/MWh", False),
    ("depth_mw", "depth MW", True),
    ("fill_ratio", "fill ratio", True),
    ("volatility_near_gate_eur_per_mwh", "vol. last hour EUR/MWh", False),
    ("volatility_early_eur_per_mwh", "vol. earlier EUR/MWh", False),
    ("imbalance_mwh", "imbalance MWh/agent", False),
    ("traders_net_eur", "traders' net EUR", True),
)


def rex_episode_metrics(env: Any, book_view: list[dict[str, np.ndarray]]) -> dict[str, float]:
    """Market quality of a finished reservation-exchange episode.

    Args:
        env: the env after its last step (``trades()``, ``orders()``,
            ``reservations_mw()``, ``realised_mw()``, ``config``).
        book_view: per step, the public book seen after it: ``best_price`` (D, 2),
            ``depth`` (D, 2), ``time_to_gate`` (D,).

    Returns:
        ``spread_eur_per_mwh`` (mean over steps and open books with both sides),
        ``depth_mw`` (mean resting bid + ask volume per open book), ``fill_ratio``,
        ``volatility_near_gate_eur_per_mwh`` / ``volatility_early_eur_per_mwh`` (mean
        std of trade-to-trade price changes within the last hour before gate closure /
        earlier), ``allocative_efficiency`` (mean over delivery hours with gains from
        trade), ``imbalance_mwh`` (mean per participant of total |imbalance|),
        ``imbalance_max_mwh``, ``n_trades``.
    """
    m = env.config.market
    grid = m.grid
    best = np.stack([v["best_price"] for v in book_view]).astype(np.float64)  # (T, D, 2)
    dep = np.stack([v["depth"] for v in book_view]).astype(np.float64)  # (T, D, 2)
    is_open = np.stack([v["time_to_gate"] for v in book_view]) > 0  # (T, D)
    both = is_open & (dep > 0).all(-1)
    spread = rex_metrics.spread(best[..., 0], best[..., 1])[both]
    depth = rex_metrics.depth(dep)[is_open]

    tr, orders = env.trades(), env.orders()
    gate = (tr.delivery_hour + m.horizon_h) * m.intervals_per_hour - m.gate_lead_intervals
    levels, std = rex_metrics.volatility_to_gate(
        tr.delivery_hour, gate - tr.interval, tr.price_eur_per_mwh
    )
    near = levels <= m.intervals_per_hour
    # Each trade fills two orders (a bid and an ask) by its quantity.
    fill = rex_metrics.fill_ratio(orders["lots"] * grid.lot_mw, np.repeat(tr.qty_mw, 2))
    eff = []
    for h in np.unique(orders["delivery_hour"]):  # one book per delivery hour
        o, k = orders["delivery_hour"] == h, tr.delivery_hour == h
        eff.append(
            rex_metrics.allocative_efficiency(
                orders["side"][o],
                grid.price(orders["tick"][o]),
                orders["lots"][o] * grid.lot_mw,
                tr.buy_order[k],
                tr.sell_order[k],
                tr.qty_mw[k],
            )
        )
    _, total_abs = rex_metrics.imbalance_by_participant(env.reservations_mw(), env.realised_mw())

    def nanmean(x: np.ndarray) -> float:
        x = np.asarray(x, dtype=np.float64)
        return float(np.mean(x[np.isfinite(x)])) if np.isfinite(x).any() else float("nan")

    return {
        "spread_eur_per_mwh": nanmean(spread),
        "depth_mw": nanmean(depth),
        "fill_ratio": fill,
        "volatility_near_gate_eur_per_mwh": nanmean(std[near]),
        "volatility_early_eur_per_mwh": nanmean(std[~near]),
        "allocative_efficiency": nanmean(np.array(eff)),
        "imbalance_mwh": float(total_abs.mean()),
        "imbalance_max_mwh": float(total_abs.max()),
        "n_trades": float(len(tr)),
    }


def play_cell(cell: Any) -> dict[str, Any]:
    """Play one grid cell (:class:`evaluation.grid.Cell`) on the reservation exchange.

    The episode covers ``24 * cell.days`` delivery hours; the trader named ``cell.agent``
    (:data:`REX_AGENTS` or a class path) drives every prosumer.

    Returns:
        ``metrics``: :func:`rex_episode_metrics` plus ``traders_net_eur`` (all
        prosumers' trade cash and settlement, summed) and ``imbalance_by_agent_mwh``.
    """
    import envs
    from evaluation.episode import build_policy, checked_act

    env = envs.make(ENV_ID, scenario=cell.scenario, hours=24 * cell.days)
    policy = build_policy(cell.agent, REX_AGENTS)
    obs, _ = env.reset(seed=cell.seed)
    policy.reset(env, seed=cell.seed)
    view: list[dict[str, np.ndarray]] = []
    net = 0.0
    while env.agents:
        actions = checked_act(policy, obs)
        obs, rewards, _, _, _ = env.step(actions)
        net += float(sum(rewards.values()))
        if obs:
            first = next(iter(obs.values()))
            view.append({k: first[k] for k in ("best_price", "depth", "time_to_gate")})
    metrics = rex_episode_metrics(env, view)
    metrics["traders_net_eur"] = net
    _, total_abs = rex_metrics.imbalance_by_participant(env.reservations_mw(), env.realised_mw())
    agents = env.possible_agents
    return {
        "metrics": metrics,
        "imbalance_by_agent_mwh": dict(zip(agents, total_abs.tolist(), strict=True)),
    }
