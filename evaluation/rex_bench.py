"""Throughput of the reservation-exchange matching engine (``envs.market.orderbook``).

``bench_orderbook`` replays a random order stream (limit orders around a drifting
mid-price, market orders and cancellations) into 24 books, one per delivery hour, and
reports orders submitted and matched per second on one core. The stream is drawn before
the clock starts, so only the engine is timed.

Run ``python -m evaluation.rex_bench [--orders N] [--seed S]`` to print the figure.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from envs.cli import cli_main
from envs.market.orderbook import BUY, SELL, OrderBook, TickGrid

__all__ = ["bench_orderbook", "main"]

_N_BOOKS = 24  # delivery hours traded at once


def bench_orderbook(n_orders: int = 200_000, seed: int = 0) -> float:
    """Orders per second submitted and matched on a random order stream.

    The stream: 75% limit orders (price normal around a random-walk mid, 1-20 lots),
    10% market orders, 15% cancellations of a random earlier order of the same book;
    owners 0-49; books picked uniformly among 24 delivery hours.

    Args:
        n_orders: stream length (orders and cancellations both count).
        seed: seed of the stream's Generator.

    Returns:
        Orders per second (wall clock, ``time.perf_counter``).
    """
    if n_orders <= 0:
        raise ValueError(f"n_orders={n_orders}; expected a positive count")
    rng = np.random.default_rng(seed)
    grid = TickGrid(price_floor_eur_per_mwh=0.0, price_cap_eur_per_mwh=200.0, tick_eur_per_mwh=0.1)
    n_ticks = grid.n_ticks
    kind = rng.choice(3, size=n_orders, p=[0.75, 0.10, 0.15]).tolist()
    book_ix = rng.integers(0, _N_BOOKS, size=n_orders).tolist()
    owner = rng.integers(0, 50, size=n_orders).tolist()
    side = np.where(rng.random(n_orders) < 0.5, BUY, SELL)
    mid = n_ticks // 2 + np.cumsum(rng.normal(0.0, 2.0, size=n_orders))
    tick = np.clip(np.rint(mid - side * 5 + rng.normal(0.0, 30.0, size=n_orders)), 0, n_ticks - 1)
    lots = rng.integers(1, 21, size=n_orders).tolist()
    pick = rng.random(n_orders).tolist()
    side_l, tick_l = side.tolist(), tick.astype(np.int64).tolist()

    books = [OrderBook(h, grid, opening_auction=False) for h in range(_N_BOOKS)]
    start = time.perf_counter()
    for n in range(n_orders):
        book = books[book_ix[n]]
        k = kind[n]
        if k == 0:
            book.limit(owner[n], side_l[n], tick_l[n], lots[n], n)
        elif k == 1:
            book.market(owner[n], side_l[n], lots[n], n)
        elif book.n_orders:
            book.cancel(int(pick[n] * book.n_orders))
    elapsed = time.perf_counter() - start
    return n_orders / elapsed


@cli_main
def main(argv: list[str] | None = None) -> int:
    """CLI: print the orders/s figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200_000, help="stream length (orders)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random stream")
    args = parser.parse_args(argv)
    rate = bench_orderbook(args.orders, args.seed)
    print(f"rex_orders_per_s: {rate:,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
