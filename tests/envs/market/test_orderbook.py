"""Matching rules of envs.market.orderbook (seed 001, §3-3/§3-4)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envs.market.orderbook import (
    BUY,
    CALL,
    CANCELLED,
    CLOSED,
    CONTINUOUS,
    EXPIRED,
    FILLED,
    OPEN,
    SELL,
    OrderBook,
    TickGrid,
    uniform_price_clearing,
)

GRID = TickGrid(price_floor_eur_per_mwh=0.0, price_cap_eur_per_mwh=100.0, tick_eur_per_mwh=1.0)


def book(auction: bool = False) -> OrderBook:
    return OrderBook(7, GRID, opening_auction=auction)


def test_price_then_time_priority() -> None:
    b = book()
    a0 = b.limit(0, SELL, 50, 5)
    a1 = b.limit(1, SELL, 50, 5)
    a2 = b.limit(2, SELL, 49, 3)
    b.limit(3, BUY, 50, 6)
    tr = b.trades()
    assert tr.sell_order.tolist() == [a2, a0]  # better price first, then the older order
    assert tr.price_eur_per_mwh.tolist() == [49.0, 50.0]  # at the resting order's price
    assert np.allclose(tr.qty_mw, [0.3, 0.3])
    assert b.remaining(a0) == 2 and b.remaining(a1) == 5 and b.status(a2) == FILLED
    assert (tr.delivery_hour == 7).all() and (tr.aggressor == 1).all()


def test_partial_fill_rests_remainder() -> None:
    b = book()
    b.limit(0, SELL, 40, 2)
    oid = b.limit(1, BUY, 45, 5)
    assert b.status(oid) == OPEN and b.remaining(oid) == 3
    assert b.best_bid_tick() == 45 and b.best_ask_tick() == -1
    ticks, lots = b.levels(BUY)
    assert ticks.tolist() == [45] and lots.tolist() == [3]


def test_market_order_against_thin_book() -> None:
    b = book()
    b.limit(0, BUY, 30, 2)
    b.limit(1, BUY, 20, 1)
    oid = b.market(2, SELL, 10)
    tr = b.trades()
    assert tr.price_eur_per_mwh.tolist() == [30.0, 20.0] and tr.qty_mw.sum() == pytest.approx(0.3)
    assert b.status(oid) == CANCELLED and b.remaining(oid) == 0  # rest cancelled, never rests
    assert b.best_bid_tick() == -1 and b.best_ask_tick() == -1
    empty = b.market(3, BUY, 4)
    assert b.status(empty) == CANCELLED and b.n_trades == 2


def test_cancellation() -> None:
    b = book()
    a0 = b.limit(0, SELL, 50, 4)
    a1 = b.limit(1, SELL, 50, 4)
    assert b.cancel(a0) == 4 and b.cancel(a0) == 0
    assert b.status(a0) == CANCELLED
    b.limit(2, BUY, 60, 2)
    assert b.trades().sell_order.tolist() == [a1]
    assert b.cancel_owner(1) == 2 and b.best_ask_tick() == -1
    assert b.open_lots(1) == (0, 0)


def test_opening_call_uncrosses_at_one_price() -> None:
    b = book(auction=True)
    assert b.phase == CALL
    b.limit(0, BUY, 60, 5)
    b.limit(1, BUY, 50, 5)
    b.limit(2, SELL, 45, 4)
    b.limit(3, SELL, 55, 4)
    m = b.market(4, SELL, 20)
    assert b.n_trades == 0  # orders only rest during the call
    res = b.open(interval=3)
    tr = b.trades()
    assert b.phase == CONTINUOUS and res.delivery_hour == 7
    assert set(tr.price_eur_per_mwh.tolist()) == {res.price_eur_per_mwh}
    assert tr.qty_mw.sum() == pytest.approx(res.volume_mw) and (tr.aggressor == 0).all()
    assert b.status(m) in (FILLED, CANCELLED) and b.remaining(m) == 0
    assert b.best_bid_tick() < b.best_ask_tick() or -1 in (b.best_bid_tick(), b.best_ask_tick())
    with pytest.raises(ValueError, match="continuous phase; open\\(\\) ends the opening call"):
        b.open()


def test_gate_closure_expires_and_rejects() -> None:
    b = book()
    oid = b.limit(0, BUY, 50, 3)
    assert b.close() == 3 and b.phase == CLOSED and b.status(oid) == EXPIRED
    with pytest.raises(ValueError, match="delivery hour 7 is closed"):
        b.limit(1, SELL, 10, 1)
    with pytest.raises(ValueError, match="no order is accepted after gate closure"):
        b.market(1, SELL, 1)
    assert b.n_trades == 0


def test_bad_orders_raise() -> None:
    b = book()
    with pytest.raises(ValueError, match="side=0"):
        b.limit(0, 0, 10, 1)
    with pytest.raises(ValueError, match="tick=101 is off the grid"):
        b.limit(0, BUY, 101, 1)
    with pytest.raises(ValueError, match="lots=0"):
        b.limit(0, BUY, 10, 0)
    with pytest.raises(ValueError, match="less than one lot"):
        b.submit(0, BUY, 0.01, 10.0)
    with pytest.raises(ValueError, match="tick_eur_per_mwh=0"):
        TickGrid(tick_eur_per_mwh=0.0)


def test_submit_in_physical_units() -> None:
    b = book()
    b.submit(0, SELL, 0.5, 42.4)
    b.submit(1, BUY, 0.29, None)
    tr = b.trades()
    assert tr.price_eur_per_mwh.tolist() == [42.0] and tr.qty_mw.tolist() == [pytest.approx(0.2)]


# ---------------------------------------------------------------- properties
def _reference(ops: list[tuple[int, int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Naive matcher (list scans) for continuous trading: (buy_oid, sell_oid, tick, lots)."""
    resting: list[list[int]] = []  # [oid, side, tick, rem]
    trades, oid = [], 0
    for kind, _owner, side, tick, lots in ops:
        if kind == 2:  # cancel an earlier order
            if oid:
                target = tick % oid
                resting = [r for r in resting if r[0] != target]
            continue
        limit = tick if kind == 0 else (100 if side == BUY else 0)
        while lots:
            opp = [r for r in resting if r[1] == -side and (r[2] - limit) * side <= 0]
            if not opp:
                break
            best = min(opp, key=lambda r: (r[2] * side, r[0]))
            f = min(lots, best[3])
            trades.append((oid, best[0], best[2], f) if side == BUY else (best[0], oid, best[2], f))
            best[3] -= f
            lots -= f
            resting = [r for r in resting if r[3]]
        if lots and kind == 0:
            resting.append([oid, side, tick, lots])
        oid += 1
    return trades


ORDERS = st.lists(
    st.tuples(
        st.sampled_from([0, 0, 0, 1, 2]),
        st.integers(0, 3),
        st.sampled_from([BUY, SELL]),
        st.integers(40, 60),
        st.integers(1, 8),
    ),
    max_size=60,
)


@settings(derandomize=True, deadline=None, max_examples=100)
@given(ORDERS)
def test_matches_naive_reference_and_conserves(ops: list[tuple[int, int, int, int, int]]) -> None:
    b = book()
    for kind, owner, side, tick, lots in ops:
        if kind == 0:
            b.limit(owner, side, tick, lots)
        elif kind == 1:
            b.market(owner, side, lots)
        elif b.n_orders:
            b.cancel(tick % b.n_orders)
        bid, ask = b.best_bid_tick(), b.best_ask_tick()
        assert bid < 0 or ask < 0 or bid < ask  # never crossed after matching
    tr = b.trades()
    got = list(
        zip(
            tr.buy_order.tolist(),
            tr.sell_order.tolist(),
            (tr.price_eur_per_mwh.astype(int)).tolist(),
            np.rint(tr.qty_mw * 10).astype(int).tolist(),
            strict=True,
        )
    )
    assert got == _reference(ops)
    orders = b.orders()
    filled = np.zeros(b.n_orders, dtype=np.int64)
    lots_traded = np.rint(tr.qty_mw * 10).astype(np.int64)
    np.add.at(filled, tr.buy_order, lots_traded)
    np.add.at(filled, tr.sell_order, lots_traded)
    assert (filled <= orders["lots"]).all()
    is_open = orders["status"] == OPEN
    assert (filled[is_open] + orders["remaining"][is_open] == orders["lots"][is_open]).all()
    assert (filled[orders["status"] == FILLED] == orders["lots"][orders["status"] == FILLED]).all()
    for side in (BUY, SELL):  # level volumes equal the open orders' remainders
        _, lots_by_level = b.levels(side)
        assert lots_by_level.sum() == orders["remaining"][orders["side"] == side].sum()
    b.close()
    assert b.remaining(0) == 0 if b.n_orders else True
    with pytest.raises(ValueError, match="closed"):
        b.limit(0, BUY, 50, 1)
    assert b.n_trades == len(tr)


@settings(derandomize=True, deadline=None, max_examples=100)
@given(ORDERS)
def test_opening_call_is_max_volume_and_uncrossed(
    ops: list[tuple[int, int, int, int, int]],
) -> None:
    b = book(auction=True)
    for kind, owner, side, tick, lots in ops:
        if kind == 0:
            b.limit(owner, side, tick, lots)
        elif kind == 1:
            b.market(owner, side, lots)
    bt, bl = b.levels(BUY)
    at, al = b.levels(SELL)
    brute = max((min(bl[bt >= p].sum(), al[at <= p].sum()) for p in range(GRID.n_ticks)), default=0)
    res = b.open()
    tr = b.trades()
    assert round(res.volume_mw * 10) == brute == round(tr.qty_mw.sum() * 10)
    if len(tr):
        p = GRID.to_tick(res.price_eur_per_mwh)
        assert bl[bt >= p].sum() >= brute and al[at <= p].sum() >= brute
    bid, ask = b.best_bid_tick(), b.best_ask_tick()
    assert bid < 0 or ask < 0 or bid < ask


def test_uniform_price_clearing_no_cross() -> None:
    assert uniform_price_clearing(np.array([10]), np.array([1]), np.array([11]), np.array([1])) == (
        -1,
        0,
        0,
    )
