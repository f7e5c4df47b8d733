"""The coalition's planning LP over H hours: storage, flexible load, spot, reserve with its
activations, and a capacity commitment with PJM-style performance penalties.

Dims: N members, H hours. MW (= MWh per hour), MWh, EUR/MWh, reserve EUR/MW per hour.
One sparse LP, built once and updated in place (objective, bounds, right-hand sides and
the activation shares), solved by HiGHS; the MPC, the oracle and the individual actors
share it with different inputs.

- per member and hour: charge c, discharge d, state of charge s, load shift f, flex debt
  D, grid import m, reserve activation delivered a; per hour: coalition buy b, sell x,
  reserve held r, capacity shortfall u; once: capacity committed K;
- state of charge: ``s_h = s_{h-1} + eta c_h - (d_h + a_h) / eta``, ``0 <= s <= E``,
  ``c, d <= P``; activation is drawn from the batteries (``envs.actors.members.realise_row``)
  within each member's upward headroom, ``a + d - c <= P``;
- flexible load: ``D_h = D_{h-1} - f_h``, ``|f| <= F``, ``|D| <= F * 4 h``, ``D = 0`` at the
  last hour of each day (the env's daily pay-back repays the whole debt in that hour);
- imports (network charges and taxes): ``m >= net + c - d - a + f``, ``m >= 0``;
- balance (the day-ahead position; activation is settled apart at the imbalance price,
  ``envs.sim.kernel``): ``b - x = sum_i (net + c - d + f)``, b and x each in
  :data:`SEGMENTS` equal segments whose marginal prices may rise (fall) with the quantity:
  a coalition large enough to move the price sees what its trade does to it;
- reserve: ``r <= sum_i (P + c - d)``, ``r <= sum_i eta s``, and the share ``alpha_h`` of it
  called in real time, ``sum_i a_h = alpha_h r_h`` (activation is called pro rata to the
  reserve held, ``envs.sim.clearing.activation_share``);
- capacity (PJM Capacity Performance, ``envs.market.capacity.performance_row``): in a
  scarcity hour the coalition delivers its members' own renewables, their discharge and the
  reserve it holds; ``u_h >= K - (ren_h + sum_i (d_h - c_h) + r_h)`` is charged the
  non-performance rate (the balancing ratio taken as 1, the stop-loss ignored: both only
  lower the charge);
- objective: spot cost ``p (b - x)`` (segment by segment), import charges, minus reserve
  revenue at the reserve price and activation energy at the imbalance price, minus
  capacity revenue on K, plus expected non-performance charges ``rate * w_h * u_h``
  (``w_h``: probability that hour h is a scarcity hour), a small throughput cost on c and
  d, and stored energy at the horizon valued at a share of the mean price.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from agents.highs import quiet_highs

F64 = NDArray[np.float64]

__all__ = [
    "SEGMENTS",
    "TERMINAL_VALUE_SHARE",
    "THROUGHPUT_EUR_PER_MWH",
    "CoalitionLP",
    "MarketInputs",
    "impact_prices",
]

#: Throughput cost on charge and discharge, EUR/MWh: breaks ties, avoids cycling for nothing.
THROUGHPUT_EUR_PER_MWH = 0.5
#: Share of the mean forecast price at which energy left in storage at the horizon is valued.
TERMINAL_VALUE_SHARE = 0.9

_MEMBER_BLOCKS = ("c", "d", "s", "f", "D", "m", "a")
_HOUR_BLOCKS = ("b", "x", "r", "u")
#: Segments of the coalition's buy and sell (its price impact is piecewise linear).
SEGMENTS = 8


@dataclass(frozen=True)
class MarketInputs:
    """What a planner expects of its price impact and of the reserve, balancing and
    capacity markets, per hour.

    Attributes:
        activation: (H,) share of the reserve held that is called, in [0, 1].
        balancing_price: (H,) price of activated energy (the imbalance price), EUR/MWh.
        scarcity: (H,) probability that the hour is a performance assessment hour.
        own_renewables: (H,) members' own renewables, MW (count as capacity delivery).
        committed_mw: capacity already committed (used when ``capacity_value`` is None).
        capacity_value: EUR per MW committed over the plan (the auction's price times its
            days); None when the commitment is already fixed.
        firm_mw: the largest commitment (the coalition's accredited capacity).
        penalty_eur_per_mwh: the non-performance charge rate.
        buy_price, sell_price: (H, SEGMENTS) the marginal price of each successive
            ``q_max / SEGMENTS`` MW the coalition buys (sells), EUR/MWh: its own price
            impact, non-decreasing (non-increasing) along the segments; None = the price
            of every segment is the hour's ``price`` (a price-taker).
    """

    activation: F64 | float = 0.0
    balancing_price: F64 | float = 0.0
    scarcity: F64 | float = 0.0
    own_renewables: F64 | float = 0.0
    committed_mw: float = 0.0
    capacity_value: float | None = None
    firm_mw: float = 0.0
    penalty_eur_per_mwh: float = 0.0
    buy_price: F64 | None = None
    sell_price: F64 | None = None


def impact_prices(buy_at: F64, sell_at: F64) -> tuple[F64, F64]:
    """Marginal prices of the buy and sell segments from the clearing prices at positions.

    With uniform pricing, buying ``q`` at the price ``p(q)`` it causes costs ``q p(q)``; the
    segment from ``(j - 1) w`` to ``j w`` then costs ``j p_j - (j - 1) p_{j-1}`` per MW (and
    selling earns ``j p_{-j} - (j - 1) p_{-(j-1)}``). Made monotone (a running max for
    buying, min for selling), so the LP's cost stays convex.

    Args:
        buy_at: (H, SEGMENTS + 1) the price when the coalition buys ``j q_max / SEGMENTS``
            MW, j = 0..SEGMENTS (j = 0: no trade); sell_at: the same for selling.

    Returns:
        (buy, sell): (H, SEGMENTS) EUR/MWh each, for :class:`MarketInputs`.
    """
    j = np.arange(1, SEGMENTS + 1)
    buy = j * buy_at[:, 1:] - (j - 1) * buy_at[:, :-1]
    sell = j * sell_at[:, 1:] - (j - 1) * sell_at[:, :-1]
    return np.maximum.accumulate(buy, axis=1), np.minimum.accumulate(sell, axis=1)


class CoalitionLP:
    """The coalition's storage-and-trading LP over H hours (see module docstring).

    Args:
        power_mw, energy_mwh, eta, flex_mw, flex_mwh: (N,) member parameters.
        horizon_h: H.
        q_max_mw: bound on the coalition's buy and sell.
        import_charge_eur_per_mwh: network charge plus taxes on members' imports.
        reserve: whether the reserve market is open.
    """

    def __init__(self, power_mw: F64, energy_mwh: F64, eta: F64, flex_mw: F64, flex_mwh: F64, *,
                 horizon_h: int, q_max_mw: float, import_charge_eur_per_mwh: float,
                 reserve: bool) -> None:  # fmt: skip
        n, h = power_mw.size, horizon_h
        self.N, self.H, self.eta, self.flex_mwh = n, h, eta, flex_mwh
        self.nh = n * h
        self._mi, self._hi = np.repeat(np.arange(n), h), np.tile(np.arange(h), n)
        self._columns()
        a = self._matrix(eta)
        lower, upper, cost = self._column_bounds(
            power_mw, energy_mwh, flex_mw, flex_mwh, q_max_mw, import_charge_eur_per_mwh, reserve
        )
        self._row_lo, self._row_hi = self._row_bounds(power_mw)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_col, self.n_row
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lower, upper
        lp.row_lower_, lp.row_upper_ = self._row_lo, self._row_hi
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
        self.h = quiet_highs()
        self.h.passModel(lp)
        self._idx = {k_: np.arange(s.start, s.stop, dtype=np.int32) for k_, s in self.col.items()}
        self._rows = np.arange(self.n_row, dtype=np.int32)
        self._alpha = np.ones(h)  # the activation coefficients now in the matrix (as -alpha)
        self._start = 0

    def _columns(self) -> None:
        """Column blocks: member-hour blocks, then b and x (SEGMENTS columns per hour,
        segment-major), r and u (one per hour), then K."""
        nh, h = self.nh, self.H
        self.col = {k: slice(j * nh, (j + 1) * nh) for j, k in enumerate(_MEMBER_BLOCKS)}
        base = len(_MEMBER_BLOCKS) * nh
        for k_, w in {"b": SEGMENTS * h, "x": SEGMENTS * h, "r": h, "u": h}.items():
            self.col[k_] = slice(base, base + w)
            base += w
        self.k_col, self.n_col = base, base + 1

    def _matrix(self, eta: F64) -> sp.csc_matrix:
        """The constraint matrix (module docstring). Rows: member-hour state of charge,
        flex debt, imports and upward headroom; then hour rows balance, reserve power,
        reserve energy, activation and capacity delivery."""
        nh, h, mi, hi = self.nh, self.H, self._mi, self._hi
        k = np.arange(nh)
        prev = np.where(hi > 0, k - 1, -1)
        has_prev = prev >= 0
        hours = np.arange(h)
        rows, cols, vals = [], [], []

        def add(r, c, v) -> None:
            r, c = np.asarray(r), np.asarray(c)
            rows.append(r)
            cols.append(c)
            vals.append(np.broadcast_to(np.asarray(v, dtype=float), r.shape))

        c0 = {name: s.start for name, s in self.col.items()}
        soc, debt, imp, head = 0, nh, 2 * nh, 3 * nh
        add(soc + k, c0["s"] + k, 1.0)
        add(soc + k[has_prev], c0["s"] + prev[has_prev], -1.0)
        add(soc + k, c0["c"] + k, -eta[mi])
        add(soc + k, c0["d"] + k, 1.0 / eta[mi])
        add(soc + k, c0["a"] + k, 1.0 / eta[mi])
        add(debt + k, c0["D"] + k, 1.0)
        add(debt + k[has_prev], c0["D"] + prev[has_prev], -1.0)
        add(debt + k, c0["f"] + k, 1.0)
        for name, v in (("m", 1.0), ("c", -1.0), ("d", 1.0), ("a", 1.0), ("f", -1.0)):
            add(imp + k, c0[name] + k, v)
        for name, v in (("a", 1.0), ("d", 1.0), ("c", -1.0)):
            add(head + k, c0[name] + k, v)
        bal, rp, re, act, cap = (4 * nh + j * h for j in range(5))
        for j in range(SEGMENTS):
            add(bal + hours, c0["b"] + j * h + hours, 1.0)
            add(bal + hours, c0["x"] + j * h + hours, -1.0)
        for name, v in (("c", -1.0), ("d", 1.0), ("f", -1.0)):
            add(bal + hi, c0[name] + k, v)
        add(rp + hours, c0["r"] + hours, 1.0)
        add(rp + hi, c0["c"] + k, -1.0)
        add(rp + hi, c0["d"] + k, 1.0)
        add(re + hours, c0["r"] + hours, 1.0)
        add(re + hi, c0["s"] + k, -eta[mi])
        add(act + hi, c0["a"] + k, 1.0)
        add(act + hours, c0["r"] + hours, -1.0)  # -alpha_h, rewritten by each solve
        add(cap + hours, np.full(h, self.k_col), 1.0)
        add(cap + hi, c0["d"] + k, -1.0)
        add(cap + hi, c0["c"] + k, 1.0)  # net discharge: a round trip delivers nothing
        add(cap + hours, c0["r"] + hours, -1.0)
        add(cap + hours, c0["u"] + hours, -1.0)
        self.n_row = 4 * nh + 5 * h
        self._act_row, self._cap_row = act, cap
        return sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(self.n_row, self.n_col))  # fmt: skip

    def _column_bounds(self, power_mw: F64, energy_mwh: F64, flex_mw: F64, flex_mwh: F64,
                       q_max_mw: float, import_charge: float,
                       reserve: bool) -> tuple[F64, F64, F64]:  # fmt: skip
        """Columns' lower and upper bounds and the price-independent costs; keeps what
        each solve rewrites (flex, debt and the hour blocks' uppers)."""
        mi = self._mi
        lower, upper = np.zeros(self.n_col), np.full(self.n_col, highspy.kHighsInf)
        for name, bound in (("c", power_mw[mi]), ("d", power_mw[mi]), ("s", energy_mwh[mi]),
                            ("a", power_mw[mi])):  # fmt: skip
            upper[self.col[name]] = bound
        lower[self.col["f"]], upper[self.col["f"]] = -flex_mw[mi], flex_mw[mi]
        lower[self.col["D"]], upper[self.col["D"]] = -flex_mwh[mi], flex_mwh[mi]
        upper[self.col["b"]] = upper[self.col["x"]] = q_max_mw / SEGMENTS
        upper[self.col["r"]] = power_mw.sum() if reserve else 0.0
        upper[self.k_col] = 0.0
        cost = np.zeros(self.n_col)
        cost[self.col["c"]] = cost[self.col["d"]] = THROUGHPUT_EUR_PER_MWH
        cost[self.col["m"]] = import_charge
        self._d_lower, self._d_upper = lower[self.col["D"]].copy(), upper[self.col["D"]].copy()
        self._f_lower, self._f_upper = lower[self.col["f"]].copy(), upper[self.col["f"]].copy()
        # In pay-back hours the env repays the whole debt, beyond the shift power (kernel).
        self._f_payback = flex_mwh[mi]
        self._power = power_mw[mi]
        self._hour_upper = {k_: upper[self.col[k_]].copy() for k_ in ("b", "x", "r")}
        return lower, upper, cost

    def _row_bounds(self, power_mw: F64) -> tuple[F64, F64]:
        """Rows' fixed bounds (each solve sets the state, loads and own renewables)."""
        nh, h, inf = self.nh, self.H, highspy.kHighsInf
        imp, head, bal = 2 * nh, 3 * nh, 4 * nh
        rp, re, act, cap = bal + h, bal + 2 * h, self._act_row, self._cap_row
        row_lo, row_hi = np.zeros(self.n_row), np.zeros(self.n_row)
        row_hi[imp:head] = inf
        row_lo[head:bal], row_hi[head:bal] = -inf, power_mw[self._mi]
        row_lo[rp:act] = -inf
        row_hi[rp:re] = power_mw.sum()
        row_lo[cap:] = -inf  # K - delivery - u <= own renewables (set by each solve)
        return row_lo, row_hi

    def solve(
        self,
        net_mw: F64,
        soc_mwh: F64,
        debt_mwh: F64,
        price: F64,
        reserve_price: float | F64,
        payback: NDArray[np.bool_],
        terminal_value_share: float = TERMINAL_VALUE_SHARE,
        import_charge: F64 | None = None,
        market: MarketInputs | None = None,
        start: int = 0,
    ) -> dict[str, F64]:
        """Update the LP in place and solve it.

        Args:
            net_mw: (N, H) members' net load (forecast or actual).
            soc_mwh, debt_mwh: (N,) current state of charge and flex debt.
            price: (H,) spot price, EUR/MWh.
            reserve_price: reserve price, EUR/MW per hour (scalar or (H,)).
            payback: (H,) True where the flex debt must be back to zero.
            terminal_value_share: value of energy stored at the horizon, as a share of
                the mean price (0 when the horizon is the episode's end).
            import_charge: (H,) charge on members' imports by hour, EUR/MWh, replacing
                the constant one given at construction.
            market: activations, balancing prices and capacity (default: none called, no
                capacity committed).
            start: hours before it are past: nothing moves in them, so the state at
                ``start`` is ``soc_mwh, debt_mwh`` (a closed-loop re-plan keeps the LP's
                hours, and HiGHS's basis, where they were; pass zero loads and prices and no
                pay-back for them).

        Returns:
            Solution blocks by name, each (N, H) for member variables or (H,), and ``K``.

        Raises:
            RuntimeError: HiGHS did not find an optimal solution.
        """
        mk = MarketInputs() if market is None else market
        self._set_state(net_mw, soc_mwh, debt_mwh, mk.own_renewables)
        self._set_hours(payback, start)
        self._set_market(mk)
        self._set_prices(price, reserve_price, terminal_value_share, import_charge, mk)
        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"planning LP not solved to optimality: {self.h.getModelStatus()}")
        x = np.asarray(self.h.getSolution().col_value)
        n, h, nh = self.N, self.H, self.nh
        out = {k_: x[s].reshape(n, h) for k_, s in self.col.items() if s.stop - s.start == nh}
        out.update({k_: x[self.col[k_]].reshape(-1, h).sum(0) for k_ in _HOUR_BLOCKS})
        out["K"] = np.asarray(x[self.k_col])
        return out

    def _set_state(self, net_mw: F64, soc_mwh: F64, debt_mwh: F64,
                   own_renewables: F64 | float) -> None:  # fmt: skip
        """Row bounds: the state at the first hour, the net loads, the own renewables."""
        n, h, nh = self.N, self.H, self.nh
        lo, hi = self._row_lo.copy(), self._row_hi.copy()
        first = np.arange(n) * h
        lo[first] = hi[first] = soc_mwh
        lo[nh + first] = hi[nh + first] = debt_mwh
        lo[2 * nh : 3 * nh] = net_mw.ravel()
        bal = 4 * nh
        lo[bal : bal + h] = hi[bal : bal + h] = net_mw.sum(0)
        hi[self._cap_row : self._cap_row + h] = np.broadcast_to(own_renewables, (h,))
        # highspy's stubs omit changeRowsBounds; the binding has it (HiGHS's C++ API).
        self.h.changeRowsBounds(self.n_row, self._rows, lo, hi)  # type: ignore[attr-defined]

    def _set_hours(self, payback: NDArray[np.bool_], start: int) -> None:
        """Column bounds by hour: the daily pay-back of the flex debt, and nothing moving
        in the hours before ``start``."""
        nh, h = self.nh, self.H
        zero = payback[self._hi]
        past = self._hi < start
        self.h.changeColsBounds(nh, self._idx["D"], np.where(zero, 0.0, self._d_lower),
                                np.where(zero, 0.0, self._d_upper))  # fmt: skip
        f_lo = np.where(past, 0.0, np.where(zero, -self._f_payback, self._f_lower))
        f_hi = np.where(past, 0.0, np.where(zero, self._f_payback, self._f_upper))
        self.h.changeColsBounds(nh, self._idx["f"], f_lo, f_hi)
        if start == self._start:
            return
        for name in ("c", "d", "a"):
            self.h.changeColsBounds(nh, self._idx[name], np.zeros(nh),
                                    np.where(past, 0.0, self._power))  # fmt: skip
        hours_past = np.arange(h) < start
        for name in ("b", "x", "r"):
            w = self._hour_upper[name].size
            upper = np.where(np.tile(hours_past, w // h), 0.0, self._hour_upper[name])
            self.h.changeColsBounds(w, self._idx[name], np.zeros(w), upper)
        self._start = start

    def _set_market(self, mk: MarketInputs) -> None:
        """The activation shares in the matrix and the capacity commitment's bounds."""
        alpha = np.broadcast_to(np.asarray(mk.activation, float), (self.H,))
        r0 = self.col["r"].start
        for j in np.flatnonzero(alpha != self._alpha):
            self.h.changeCoeff(int(self._act_row + j), int(r0 + j), -float(alpha[j]))
        self._alpha = alpha.copy()
        if mk.capacity_value is None:
            self.h.changeColBounds(self.k_col, mk.committed_mw, mk.committed_mw)
            self.h.changeColCost(self.k_col, 0.0)
        else:
            self.h.changeColBounds(self.k_col, 0.0, mk.firm_mw)
            self.h.changeColCost(self.k_col, -float(mk.capacity_value))

    def _set_prices(self, price: F64, reserve_price: float | F64, terminal_value_share: float,
                    import_charge: F64 | None, mk: MarketInputs) -> None:  # fmt: skip
        """Write the objective's price-dependent costs (the only statement of them)."""
        nh, h = self.nh, self.H
        value = terminal_value_share * float(np.mean(price))
        terminal = np.where(self._hi == h - 1, -value * self.eta[self._mi], 0.0)
        self.h.changeColsCost(nh, self._idx["s"], terminal)
        if import_charge is not None:
            self.h.changeColsCost(nh, self._idx["m"], np.asarray(import_charge, float)[self._hi])
        seg = SEGMENTS * h
        buy = (
            np.broadcast_to(price[:, None], (h, SEGMENTS)) if mk.buy_price is None else mk.buy_price
        )
        sell = (np.broadcast_to(price[:, None], (h, SEGMENTS)) if mk.sell_price is None
                else mk.sell_price)  # fmt: skip
        self.h.changeColsCost(
            seg, self._idx["b"], np.ascontiguousarray(np.asarray(buy, float).T).ravel()
        )
        self.h.changeColsCost(
            seg, self._idx["x"], -np.ascontiguousarray(np.asarray(sell, float).T).ravel()
        )
        reserve_value = np.broadcast_to(np.asarray(reserve_price, dtype=float), (h,))
        self.h.changeColsCost(h, self._idx["r"], -reserve_value)
        balancing = np.broadcast_to(np.asarray(mk.balancing_price, float), (h,))
        self.h.changeColsCost(nh, self._idx["a"], -balancing[self._hi])
        scarce = np.broadcast_to(np.asarray(mk.scarcity, float), (h,))
        self.h.changeColsCost(h, self._idx["u"], mk.penalty_eur_per_mwh * scarce)
