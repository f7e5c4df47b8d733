"""Limit order book for one delivery hour: continuous double auction with gate closure.

The matching engine of the reservation exchange (seed ``001_*``, §3-3 "Continuous Double
Auction" and §3-4 "Reservation Exchange"): every delivery hour (the trading unit, a *rate*
in MW held for one hour, seed §2-1) has its own limit order book. A book opens with a
periodic double auction (a uniform-price call, seed §3-4 "opening auction, periodic double
auction (PDA)"), then trades continuously with price-time priority until gate closure,
after which nothing trades (seed §3-3 "gate closure"). No agent logic lives here.

Dims legend:
    K  trades in a log, L  resting price levels on one side, O  orders in a book.

Units: prices in EUR/MWh on a tick grid (``TickGrid``), quantities in MW on a lot grid.
Inside the engine prices are integer ticks (``0 .. n_ticks-1``) and quantities integer
lots, so matching is exact and quantity is conserved to the lot. Sides: ``BUY = +1``
(a bid: reserve energy), ``SELL = -1`` (an ask: offer energy).

Rules (all deterministic; ties are broken by arrival sequence, never at random):
    * A limit order trades against the opposite side while it crosses, best price first
      and, within a price level, oldest first; each trade is at the resting order's price.
      What is left rests in the book (partial fills).
    * A market order trades like a limit order with no price limit; what the book cannot
      fill is cancelled (it never rests), so a thin book gives a partial fill.
    * Cancellation removes what is left of a resting order.
    * During the opening call (``phase == CALL``) orders rest without matching (market
      orders as limit orders at the cap / floor); ``open()`` uncrosses the book at one
      uniform price (max volume, then min imbalance, then the middle of the tied
      ticks) and starts continuous trading; market orders left after the call are cancelled.
    * ``close()`` (gate closure) expires every resting order; any later submission raises.

Speed: order attributes live in flat ``list`` columns indexed by order id (CPython reads a
list item about 3x faster than a numpy scalar), each side's price levels in one sorted
list of integer keys (best level last, so removing it is ``list.pop()``, never ``pop(0)``)
with a ``deque`` FIFO per level, and cancellation is O(1) lazy deletion. Logs are turned
into numpy arrays only when asked for (``trades()``).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BUY",
    "CALL",
    "CANCELLED",
    "CLOSED",
    "CONTINUOUS",
    "EXPIRED",
    "FILLED",
    "OPEN",
    "SELL",
    "AuctionResult",
    "OrderBook",
    "TickGrid",
    "Trades",
    "uniform_price_clearing",
]

BUY = 1
SELL = -1
# Order status codes.
OPEN, FILLED, CANCELLED, EXPIRED = 0, 1, 2, 3
# Book phases.
CALL, CONTINUOUS, CLOSED = 0, 1, 2
_PHASE_NAMES = ("call", "continuous", "closed")
_NO_LIMIT = -(1 << 62)  # key threshold that every level passes (market orders)


@dataclass(frozen=True, slots=True)
class TickGrid:
    """Price and quantity grid of a book.

    Attributes:
        price_floor_eur_per_mwh: lowest admissible price (tick 0), EUR/MWh.
        price_cap_eur_per_mwh: highest admissible price, EUR/MWh.
        tick_eur_per_mwh: price step, EUR/MWh.
        lot_mw: quantity step, MW (a rate held for the whole delivery hour).
    """

    price_floor_eur_per_mwh: float = 0.0
    price_cap_eur_per_mwh: float = 200.0
    tick_eur_per_mwh: float = 0.5
    lot_mw: float = 0.1

    def __post_init__(self) -> None:
        """Check that the grid is non-empty and its steps positive."""
        if not self.tick_eur_per_mwh > 0 or not self.lot_mw > 0:
            raise ValueError(
                f"tick_eur_per_mwh={self.tick_eur_per_mwh} and lot_mw={self.lot_mw} "
                "must both be > 0"
            )
        if not self.price_cap_eur_per_mwh > self.price_floor_eur_per_mwh:
            raise ValueError(
                f"price_cap_eur_per_mwh={self.price_cap_eur_per_mwh} must exceed "
                f"price_floor_eur_per_mwh={self.price_floor_eur_per_mwh}"
            )

    @property
    def n_ticks(self) -> int:
        """Number of price levels on the grid (floor and cap included)."""
        span = self.price_cap_eur_per_mwh - self.price_floor_eur_per_mwh
        return int(np.floor(span / self.tick_eur_per_mwh + 1e-9)) + 1

    def to_tick(self, price_eur_per_mwh: float) -> int:
        """Nearest tick of a price in EUR/MWh, clipped to the grid.

        >>> TickGrid(0.0, 100.0, 0.5).to_tick(10.26)
        21
        """
        tick = round((price_eur_per_mwh - self.price_floor_eur_per_mwh) / self.tick_eur_per_mwh)
        return min(max(int(tick), 0), self.n_ticks - 1)

    def price(self, tick: int | NDArray[np.int64]) -> float | NDArray[np.float64]:
        """Price in EUR/MWh of a tick (scalar or array)."""
        return self.price_floor_eur_per_mwh + np.asarray(tick) * self.tick_eur_per_mwh

    def to_lots(self, qty_mw: float) -> int:
        """Whole lots in ``qty_mw`` MW, rounded down (a tiny tolerance absorbs float noise)."""
        return int(np.floor(qty_mw / self.lot_mw + 1e-9))


@dataclass(frozen=True, slots=True)
class Trades:
    """A trade log: K trades, each an exchange of ``qty_mw`` for one delivery hour.

    Attributes:
        delivery_hour: (K,) int64, the book's delivery hour.
        interval: (K,) int64, trading interval in which the trade happened.
        buy_order, sell_order: (K,) int64 order ids within the book.
        buyer, seller: (K,) int64 owner ids (agent indices).
        price_eur_per_mwh: (K,) float64 trade price, EUR/MWh.
        qty_mw: (K,) float64 quantity, MW for the delivery hour (= MWh).
        aggressor: (K,) int8, side of the incoming order (+1 buy, -1 sell), 0 in the call.
    """

    delivery_hour: NDArray[np.int64]
    interval: NDArray[np.int64]
    buy_order: NDArray[np.int64]
    sell_order: NDArray[np.int64]
    buyer: NDArray[np.int64]
    seller: NDArray[np.int64]
    price_eur_per_mwh: NDArray[np.float64]
    qty_mw: NDArray[np.float64]
    aggressor: NDArray[np.int8]

    def __len__(self) -> int:
        """Number of trades K."""
        return int(self.qty_mw.shape[0])

    @staticmethod
    def concat(parts: list[Trades]) -> Trades:
        """Concatenate trade logs in order (an empty list gives an empty log)."""
        if not parts:
            z = np.zeros(0, dtype=np.int64)
            f = np.zeros(0, dtype=np.float64)
            return Trades(z, z, z, z, z, z, f, f, np.zeros(0, dtype=np.int8))
        return Trades(
            *(np.concatenate([getattr(p, name) for p in parts]) for name in Trades.__slots__)
        )


@dataclass(frozen=True, slots=True)
class AuctionResult:
    """Outcome of a book's opening call.

    Attributes:
        delivery_hour: the book's delivery hour.
        price_eur_per_mwh: uniform clearing price, EUR/MWh (NaN when nothing crossed).
        volume_mw: executed volume, MW.
        imbalance_mw: bid minus ask volume that crossed at the price but was not executed, MW.
    """

    delivery_hour: int
    price_eur_per_mwh: float
    volume_mw: float
    imbalance_mw: float


def uniform_price_clearing(
    bid_ticks: NDArray[np.int64],
    bid_lots: NDArray[np.int64],
    ask_ticks: NDArray[np.int64],
    ask_lots: NDArray[np.int64],
) -> tuple[int, int, int]:
    """Uniform-price call: the tick that maximises executed volume.

    Demand at tick p is the bid volume priced at or above p, supply the ask volume at or
    below p; the executed volume is their minimum. Ties go to the smaller imbalance
    ``|demand - supply|``, then to the middle (lower median) of the tied ticks.

    Args:
        bid_ticks, bid_lots: (B,) bid limit ticks and lots, any order.
        ask_ticks, ask_lots: (A,) ask limit ticks and lots, any order.

    Returns:
        ``(tick, volume_lots, imbalance_lots)``; ``tick`` is -1 when no bid crosses an ask.

    >>> uniform_price_clearing(
    ...     np.array([10, 8]), np.array([2, 2]), np.array([7, 9]), np.array([1, 3])
    ... )
    (9, 2, -2)
    """
    bt = np.asarray(bid_ticks, dtype=np.int64)
    bl = np.asarray(bid_lots, dtype=np.int64)
    at = np.asarray(ask_ticks, dtype=np.int64)
    al = np.asarray(ask_lots, dtype=np.int64)
    if bt.size == 0 or at.size == 0 or bt.max() < at.min():
        return -1, 0, 0
    cand = np.unique(np.concatenate([bt, at]))
    cand = cand[(cand >= at.min()) & (cand <= bt.max())]
    b_ord = np.argsort(bt, kind="stable")
    a_ord = np.argsort(at, kind="stable")
    b_sorted, b_cum = bt[b_ord], np.concatenate([[0], np.cumsum(bl[b_ord])])
    a_sorted, a_cum = at[a_ord], np.concatenate([[0], np.cumsum(al[a_ord])])
    demand = b_cum[-1] - b_cum[np.searchsorted(b_sorted, cand, side="left")]
    supply = a_cum[np.searchsorted(a_sorted, cand, side="right")]
    volume = np.minimum(demand, supply)
    imbalance = demand - supply
    best = volume == volume.max()
    best &= np.abs(imbalance) == np.abs(imbalance[best]).min()
    idx = np.flatnonzero(best)
    pick = idx[(len(idx) - 1) // 2]
    return int(cand[pick]), int(volume[pick]), int(imbalance[pick])


class OrderBook:
    """The limit order book of one delivery hour (see the module docstring for the rules).

    Args:
        delivery_hour: index of the delivery hour this book trades.
        grid: price and quantity grid.
        opening_auction: start in the call phase (uncrossed by :meth:`open`); if False
            the book trades continuously from the first order.

    Order ids are consecutive ints from 0 in arrival order; owners are non-negative ints.
    """

    def __init__(self, delivery_hour: int, grid: TickGrid, *, opening_auction: bool = True):
        self.delivery_hour = int(delivery_hour)
        self.grid = grid
        self._n_ticks = grid.n_ticks
        self._phase = CALL if opening_auction else CONTINUOUS
        # Order columns, indexed by order id.
        self._owner: list[int] = []
        self._side: list[int] = []
        self._tick: list[int] = []
        self._qty: list[int] = []
        self._rem: list[int] = []
        self._status: list[int] = []
        self._market: list[bool] = []
        self._by_owner: dict[int, list[int]] = {}
        # Per side (index 0 = bids, 1 = asks): sorted level keys (key = side * tick, so the
        # best level is always the largest key, the last item), FIFO per level, level volume.
        self._keys: tuple[list[int], list[int]] = ([], [])
        self._queues: tuple[dict[int, deque[int]], dict[int, deque[int]]] = ({}, {})
        self._volume: tuple[dict[int, int], dict[int, int]] = ({}, {})
        # (buy_oid, sell_oid, buyer, seller, tick, lots, interval, aggressor)
        self._log: list[tuple[int, int, int, int, int, int, int, int]] = []

    @property
    def phase(self) -> int:
        """``CALL``, ``CONTINUOUS`` or ``CLOSED``."""
        return self._phase

    @property
    def n_orders(self) -> int:
        """Orders received so far (O)."""
        return len(self._rem)

    @property
    def n_trades(self) -> int:
        """Trades executed so far (K)."""
        return len(self._log)

    def best_bid_tick(self) -> int:
        """Tick of the best bid, -1 when there is none."""
        keys = self._keys[0]
        return keys[-1] if keys else -1

    def best_ask_tick(self) -> int:
        """Tick of the best ask, -1 when there is none."""
        keys = self._keys[1]
        return -keys[-1] if keys else -1

    def levels(self, side: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Resting levels of one side, best first: ``(ticks (L,), lots (L,))``."""
        i = 0 if side == BUY else 1
        keys = self._keys[i][::-1]
        vol = self._volume[i]
        lots = np.fromiter((vol[k] for k in keys), dtype=np.int64, count=len(keys))
        return np.abs(np.asarray(keys, dtype=np.int64)), lots

    def remaining(self, oid: int) -> int:
        """Lots of order ``oid`` still resting (0 once filled, cancelled or expired)."""
        return self._rem[oid]

    def status(self, oid: int) -> int:
        """Status code of order ``oid``: ``OPEN``, ``FILLED``, ``CANCELLED`` or ``EXPIRED``."""
        return self._status[oid]

    def open_lots(self, owner: int) -> tuple[int, int]:
        """Lots ``owner`` has resting: ``(bid_lots, ask_lots)``."""
        bid = ask = 0
        live = [o for o in self._by_owner.get(owner, ()) if self._rem[o]]
        for o in live:
            if self._side[o] == BUY:
                bid += self._rem[o]
            else:
                ask += self._rem[o]
        if owner in self._by_owner:
            self._by_owner[owner] = live
        return bid, ask

    def trades(self, start: int = 0) -> Trades:
        """Trades from number ``start`` on, as arrays (K = ``n_trades - start``)."""
        rows = self._log[start:]
        if not rows:
            return Trades.concat([])
        arr = np.array(rows, dtype=np.int64)
        return Trades(
            delivery_hour=np.full(len(rows), self.delivery_hour, dtype=np.int64),
            interval=arr[:, 6],
            buy_order=arr[:, 0],
            sell_order=arr[:, 1],
            buyer=arr[:, 2],
            seller=arr[:, 3],
            price_eur_per_mwh=np.asarray(self.grid.price(arr[:, 4]), dtype=np.float64),
            # int64 lots times a float lot size: float64 (numpy stubs say floating[Any]).
            qty_mw=cast("NDArray[np.float64]", arr[:, 5] * self.grid.lot_mw),
            aggressor=arr[:, 7].astype(np.int8),
        )

    def orders(self) -> dict[str, NDArray[np.int64]]:
        """Every order received as (O,) int64 columns: ``delivery_hour, order_id, owner, side,
        tick, lots, remaining, status, market`` (``market`` 1 for market orders, whose tick is
        the cap for buys and the floor for sells)."""
        cols = {
            "delivery_hour": [self.delivery_hour] * len(self._rem),
            "order_id": range(len(self._rem)),
            "owner": self._owner,
            "side": self._side,
            "tick": self._tick,
            "lots": self._qty,
            "remaining": self._rem,
            "status": self._status,
            "market": self._market,
        }
        return {k: np.asarray(v, dtype=np.int64) for k, v in cols.items()}

    def _new_order(self, owner: int, side: int, tick: int, lots: int, market: bool) -> int:
        if self._phase == CLOSED:
            raise ValueError(
                f"book for delivery hour {self.delivery_hour} is closed (gate closure passed); "
                "no order is accepted after gate closure"
            )
        if side != BUY and side != SELL:
            raise ValueError(f"side={side!r}; expected BUY (+1) or SELL (-1)")
        if not 0 <= tick < self._n_ticks:
            raise ValueError(f"tick={tick!r} is off the grid; expected 0 <= tick < {self._n_ticks}")
        if lots <= 0 or owner < 0:
            raise ValueError(f"lots={lots!r} and owner={owner!r}; expected lots > 0, owner >= 0")
        oid = len(self._rem)
        self._owner.append(owner)
        self._side.append(side)
        self._tick.append(tick)
        self._qty.append(lots)
        self._rem.append(lots)
        self._status.append(OPEN)
        self._market.append(market)
        lst = self._by_owner.get(owner)
        if lst is None:
            self._by_owner[owner] = [oid]
        else:
            lst.append(oid)
        return oid

    def limit(self, owner: int, side: int, tick: int, lots: int, interval: int = 0) -> int:
        """Submit a limit order; it trades while it crosses and the rest rests.

        Args:
            owner: agent index (>= 0).
            side: ``BUY`` (+1) or ``SELL`` (-1).
            tick: limit price tick (0 .. n_ticks-1).
            lots: quantity in lots (> 0).
            interval: trading interval, stamped on the trades.

        Returns:
            The order id.

        Raises:
            ValueError: bad side, tick or lots, or the book is closed.
        """
        oid = self._new_order(owner, side, tick, lots, False)
        left = lots
        if self._phase == CONTINUOUS:
            left = self._take(side, owner, oid, -tick if side == BUY else tick, lots, interval)
        if left:
            self._rest(oid, side, tick, left)
        else:
            self._rem[oid] = 0
            self._status[oid] = FILLED
        return oid

    def market(self, owner: int, side: int, lots: int, interval: int = 0) -> int:
        """Submit a market order: it takes the best prices until filled or the book is empty;
        the unfilled rest is cancelled. In the call phase it waits for the uncross as a limit
        order at the cap (buy) or floor (sell). Returns the order id."""
        tick = self._n_ticks - 1 if side == BUY else 0
        oid = self._new_order(owner, side, tick, lots, True)
        if self._phase == CALL:
            self._rest(oid, side, tick, lots)
            return oid
        left = self._take(side, owner, oid, _NO_LIMIT, lots, interval)
        self._rem[oid] = 0
        self._status[oid] = CANCELLED if left else FILLED
        return oid

    def submit(
        self,
        owner: int,
        side: int,
        qty_mw: float,
        price_eur_per_mwh: float | None = None,
        interval: int = 0,
    ) -> int:
        """Submit in physical units: a limit order at ``price_eur_per_mwh`` (rounded to the
        nearest tick) or a market order when the price is None. ``qty_mw`` is rounded down
        to whole lots and must come to at least one lot. Returns the order id."""
        lots = self.grid.to_lots(qty_mw)
        if lots <= 0:
            raise ValueError(f"qty_mw={qty_mw!r} is less than one lot ({self.grid.lot_mw} MW)")
        if price_eur_per_mwh is None:
            return self.market(owner, side, lots, interval)
        return self.limit(owner, side, self.grid.to_tick(price_eur_per_mwh), lots, interval)

    def cancel(self, oid: int) -> int:
        """Cancel what is left of order ``oid``; returns the lots cancelled (0 if none)."""
        left = self._rem[oid]
        if left == 0:
            return 0
        i = 0 if self._side[oid] == BUY else 1
        key = self._tick[oid] if i == 0 else -self._tick[oid]
        self._rem[oid] = 0
        self._status[oid] = CANCELLED
        vol = self._volume[i]
        level = vol[key] - left
        if level:
            vol[key] = level
        else:  # last live order of the level: drop the level (stale ids go with its deque)
            keys = self._keys[i]
            del keys[bisect_left(keys, key)]
            del vol[key]
            del self._queues[i][key]
        return left

    def cancel_owner(self, owner: int) -> int:
        """Cancel every resting order of ``owner``; returns the lots cancelled."""
        total = 0
        for oid in self._by_owner.pop(owner, ()):
            if self._rem[oid]:
                total += self.cancel(oid)
        return total

    def open(self, interval: int = 0) -> AuctionResult:
        """End the opening call: uncross at one uniform price, cancel unfilled market orders
        and start continuous trading.

        Raises:
            ValueError: the book is not in the call phase.
        """
        if self._phase != CALL:
            raise ValueError(
                f"book for delivery hour {self.delivery_hour} is in the "
                f"{_PHASE_NAMES[self._phase]} phase; open() ends the opening call only"
            )
        bid_ticks, bid_lots = self.levels(BUY)
        ask_ticks, ask_lots = self.levels(SELL)
        tick, volume, imbalance = uniform_price_clearing(bid_ticks, bid_lots, ask_ticks, ask_lots)
        todo = volume
        while todo:  # walk both sides in price-time priority, all at the uniform price
            b_key, a_key = self._keys[0][-1], self._keys[1][-1]
            b_oid = self._front(0, b_key)
            a_oid = self._front(1, a_key)
            f = min(self._rem[b_oid], self._rem[a_oid], todo)
            self._log.append(
                (b_oid, a_oid, self._owner[b_oid], self._owner[a_oid], tick, f, interval, 0)
            )
            self._fill(0, b_key, b_oid, f)
            self._fill(1, a_key, a_oid, f)
            todo -= f
        self._phase = CONTINUOUS
        for oid, is_market in enumerate(self._market):
            if is_market and self._rem[oid]:
                self.cancel(oid)
        lot = self.grid.lot_mw
        price = float(self.grid.price(tick)) if tick >= 0 else float("nan")
        return AuctionResult(self.delivery_hour, price, volume * lot, imbalance * lot)

    def close(self) -> int:
        """Gate closure: expire every resting order; returns the lots expired."""
        total = 0
        for i in (0, 1):
            for key in self._keys[i]:
                for oid in self._queues[i][key]:
                    if self._rem[oid]:
                        total += self._rem[oid]
                        self._rem[oid] = 0
                        self._status[oid] = EXPIRED
            self._keys[i].clear()
            self._queues[i].clear()
            self._volume[i].clear()
        self._by_owner.clear()
        self._phase = CLOSED
        return total

    def _rest(self, oid: int, side: int, tick: int, lots: int) -> None:
        self._rem[oid] = lots
        i = 0 if side == BUY else 1
        key = tick if i == 0 else -tick
        vol = self._volume[i]
        if key in vol:
            vol[key] += lots
            self._queues[i][key].append(oid)
        else:
            insort(self._keys[i], key)
            vol[key] = lots
            self._queues[i][key] = deque((oid,))

    def _front(self, i: int, key: int) -> int:
        """Oldest live order at level ``key`` of side ``i`` (stale ids are dropped)."""
        q = self._queues[i][key]
        while not self._rem[q[0]]:
            q.popleft()
        return q[0]

    def _fill(self, i: int, key: int, oid: int, lots: int) -> None:
        """Take ``lots`` from resting order ``oid`` at level ``key`` of side ``i``."""
        left = self._rem[oid] - lots
        self._rem[oid] = left
        if not left:
            self._status[oid] = FILLED
            self._queues[i][key].popleft()
        vol = self._volume[i]
        level = vol[key] - lots
        if level:
            vol[key] = level
        else:
            self._keys[i].pop()
            del vol[key]
            del self._queues[i][key]

    def _take(self, side: int, owner: int, oid: int, threshold: int, lots: int, t: int) -> int:
        """Match an incoming order against the opposite side while its best level key is
        ``>= threshold``; returns the lots left. The hot loop: locals only, no calls."""
        j = 1 if side == BUY else 0
        keys = self._keys[j]
        queues = self._queues[j]
        vol = self._volume[j]
        rem = self._rem
        status = self._status
        owners = self._owner
        log = self._log
        while lots and keys and keys[-1] >= threshold:
            key = keys[-1]
            q = queues[key]
            level = vol[key]
            tick = -key if j == 1 else key
            while lots and level:
                r_oid = q[0]
                r = rem[r_oid]
                if not r:
                    q.popleft()
                    continue
                f = r if r < lots else lots
                rem[r_oid] = r - f
                lots -= f
                level -= f
                if side == BUY:
                    log.append((oid, r_oid, owner, owners[r_oid], tick, f, t, 1))
                else:
                    log.append((r_oid, oid, owners[r_oid], owner, tick, f, t, -1))
                if r == f:
                    status[r_oid] = FILLED
                    q.popleft()
            if level:
                vol[key] = level
            else:
                keys.pop()
                del vol[key]
                del queues[key]
        return lots
