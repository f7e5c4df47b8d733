"""Market-quality metrics of the reservation exchange (pure functions over arrays).

Dims legend: K trades, O orders, N participants, H delivery hours, L price levels.
Prices in EUR/MWh, quantities in MW (a rate for one delivery hour, so also MWh).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from envs.market.orderbook import uniform_price_clearing

__all__ = [
    "allocative_efficiency",
    "depth",
    "fill_ratio",
    "imbalance_by_participant",
    "spread",
    "volatility_to_gate",
]

FloatArray = NDArray[np.float64]


def spread(best_bid_eur_per_mwh: FloatArray, best_ask_eur_per_mwh: FloatArray) -> FloatArray:
    """Bid-ask spread ``ask - bid``, EUR/MWh; NaN where a side is missing (NaN input).

    >>> spread(np.array([40.0, np.nan]), np.array([42.5, 50.0]))
    array([2.5, nan])
    """
    return np.asarray(best_ask_eur_per_mwh, float) - np.asarray(best_bid_eur_per_mwh, float)


def depth(level_volume_mw: FloatArray, n_levels: int | None = None) -> FloatArray:
    """Resting volume within the best ``n_levels`` price levels, MW.

    Args:
        level_volume_mw: (..., L) volume per level, best level first.
        n_levels: levels counted from the best; None counts all.

    >>> depth(np.array([[1.0, 2.0, 4.0]]), n_levels=2)
    array([3.])
    """
    vol = np.asarray(level_volume_mw, float)
    return vol[..., :n_levels].sum(axis=-1)


def fill_ratio(submitted_mw: FloatArray, filled_mw: FloatArray) -> float:
    """Share of submitted volume that traded: ``sum(filled) / sum(submitted)`` (NaN if none).

    >>> fill_ratio(np.array([1.0, 3.0]), np.array([1.0, 1.0]))
    0.5
    """
    total = float(np.sum(submitted_mw))
    return float(np.sum(filled_mw)) / total if total > 0 else float("nan")


def volatility_to_gate(
    delivery_hour: NDArray[np.int64],
    time_to_gate: NDArray[np.int64],
    price_eur_per_mwh: FloatArray,
) -> tuple[NDArray[np.int64], FloatArray]:
    """Price volatility as gate closure approaches.

    Trades are taken in log order within each delivery hour; the change from one trade
    price to the next is attributed to the later trade's time to gate closure.

    Args:
        delivery_hour: (K,) delivery hour of each trade.
        time_to_gate: (K,) intervals from the trade to its book's gate closure.
        price_eur_per_mwh: (K,) trade prices.

    Returns:
        ``(ttg (M,), std (M,))``: distinct times to gate (descending) and the standard
        deviation of price changes at each, EUR/MWh (NaN with fewer than 2 changes).
    """
    hour = np.asarray(delivery_hour)
    ttg = np.asarray(time_to_gate)
    price = np.asarray(price_eur_per_mwh, float)
    order = np.argsort(hour, kind="stable")
    same = hour[order][1:] == hour[order][:-1]
    change = np.diff(price[order])[same]
    at = ttg[order][1:][same]
    levels = np.unique(at)[::-1]
    std = np.array(
        [np.std(change[at == v], ddof=1) if np.sum(at == v) > 1 else np.nan for v in levels]
    )
    return levels.astype(np.int64), std


def allocative_efficiency(
    side: NDArray[np.int64],
    limit_eur_per_mwh: FloatArray,
    qty_mw: FloatArray,
    trade_buy_order: NDArray[np.int64],
    trade_sell_order: NDArray[np.int64],
    trade_qty_mw: FloatArray,
) -> float:
    """Realised surplus over the surplus of a uniform-price clearing of the same orders.

    Limit prices stand for values (bids) and costs (asks), as in Smith (1962) and Gode &
    Sunder (1993); market orders should be given the cap (buys) or floor (sells). Orders
    and trades are of one book (one delivery hour); sum numerator and denominator over
    books for a market-wide figure.

    Args:
        side: (O,) +1 bid, -1 ask.
        limit_eur_per_mwh: (O,) limit prices.
        qty_mw: (O,) submitted quantities.
        trade_buy_order, trade_sell_order: (K,) order indices of each trade's two sides.
        trade_qty_mw: (K,) traded quantities.

    Returns:
        Efficiency in [0, 1]; NaN when no gains from trade exist.

    >>> allocative_efficiency(np.array([1, -1, -1]), np.array([50.0, 10.0, 30.0]),
    ...     np.array([1.0, 1.0, 1.0]), np.array([0]), np.array([2]), np.array([1.0]))
    0.5
    """
    side = np.asarray(side)
    limit = np.asarray(limit_eur_per_mwh, float)
    qty = np.asarray(qty_mw, float)
    bids, asks = side > 0, side < 0
    # Clear on a grid of 1e-6 MW and the given prices (exact ranks via unique inverse).
    _, ranks = np.unique(limit, return_inverse=True)
    units = np.rint(qty * 1e6).astype(np.int64)
    tick, volume, _ = uniform_price_clearing(ranks[bids], units[bids], ranks[asks], units[asks])
    if tick < 0 or volume == 0:
        return float("nan")
    best = _surplus(
        np.sort(limit[bids])[::-1],
        qty[bids][np.argsort(limit[bids])[::-1]],
        np.sort(limit[asks]),
        qty[asks][np.argsort(limit[asks])],
        volume * 1e-6,
    )
    realised = float(np.sum((limit[trade_buy_order] - limit[trade_sell_order]) * trade_qty_mw))
    return realised / best if best > 0 else float("nan")


def _surplus(
    b_px: FloatArray, b_q: FloatArray, a_px: FloatArray, a_q: FloatArray, v: float
) -> float:
    """Gains from trade of the best ``v`` MW: bids from the highest, asks from the lowest."""

    def area(px: FloatArray, q: FloatArray) -> float:
        cum = np.cumsum(q)
        take = np.clip(v - (cum - q), 0.0, q)
        return float(np.sum(px * take))

    return area(b_px, b_q) - area(a_px, a_q)


def imbalance_by_participant(
    reservation_mw: FloatArray, realised_mw: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Each participant's imbalance against its reservation.

    Args:
        reservation_mw: (N, H) net reservation (bought - sold), MW.
        realised_mw: (N, H) realised net load, MW.

    Returns:
        ``(signed (N, H), total_abs (N,))`` in MWh; positive = short (used more than reserved).

    >>> imbalance_by_participant(np.array([[1.0, 0.0]]), np.array([[1.5, -0.5]]))[1]
    array([1.])
    """
    signed = np.asarray(realised_mw, float) - np.asarray(reservation_mw, float)
    return signed, np.abs(signed).sum(axis=1)
