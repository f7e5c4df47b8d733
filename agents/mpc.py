"""Model-predictive control of the coalition: one sparse LP, solved by HiGHS every hour.

Dims: N members, H horizon hours. MW (= MWh per hour), MWh, EUR/MWh.

Each hour the coalition plans the next H hours from forecasts only (members' own
net-load forecasts from their observations, a price forecast from
:mod:`agents.forecast`), applies the first hour and plans again (rolling horizon).
The LP, built once and updated in place (objective, bounds and right-hand sides):

- variables per member and hour: charge c, discharge d, state of charge s, load shift f,
  flex debt D, grid import m; per hour: coalition buy b, sell x, reserve offer r;
- state of charge: ``s_h = s_{h-1} + eta c_h - d_h / eta``, ``0 <= s <= E``, ``c, d <= P``;
- flexible load: ``D_h = D_{h-1} - f_h``, ``|f| <= F``, ``|D| <= F * 4 h``, and ``D = 0``
  at the last hour of each day (the env's daily pay-back, which repays the whole debt in
  that hour: there ``|f|`` is bounded by the debt limit only);
- imports (charged network fees and taxes): ``m >= net + c - d + f``, ``m >= 0``;
- balance: ``b - x = sum_i (net + c - d + f)``;
- reserve headroom: ``r <= sum_i (P + c - d)`` and ``r <= sum_i eta s``;
- objective: spot cost ``p (b - x)``, import charges, minus reserve revenue at the last
  reserve price, a small throughput cost on c and d, and stored energy at the horizon
  valued at 90% of the mean forecast price (so batteries are not emptied at the end).

Actions: the first hour's battery and shift set-points for every member; the coalition
bids its planned net position as a price-taker, offers ``r_0`` of reserve at 0 EUR/MW
and, in auction hours, ``capacity_share`` of its firm capacity at 0 EUR/MW-day.
"""

from __future__ import annotations

from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from agents.base import MarketPolicy
from agents.forecast import coalition_price_forecast, make_forecaster
from agents.highs import quiet_highs
from envs.actors.coalition import capacity_entry, reserve_entry, spot_entries
from envs.sim import observe as ob

F64 = NDArray[np.float64]

__all__ = ["CoalitionLP", "MPCPolicy"]

#: Throughput cost on charge and discharge, EUR/MWh: breaks ties, avoids cycling for nothing.
THROUGHPUT_EUR_PER_MWH = 0.5
#: Share of the mean forecast price at which energy left in storage at the horizon is valued.
TERMINAL_VALUE_SHARE = 0.9


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
        self.N, self.H = n, h
        self.eta = eta
        self.flex_mwh = flex_mwh
        nh = n * h
        self.nh = nh
        self.col = {k: slice(j * nh, (j + 1) * nh) for j, k in enumerate("c d s f D m".split())}
        base = 6 * nh
        self.col.update(b=slice(base, base + h), x=slice(base + h, base + 2 * h),
                        r=slice(base + 2 * h, base + 3 * h))  # fmt: skip
        self.n_col = base + 3 * h
        mi = np.repeat(np.arange(n), h)  # member of each member-hour
        hi = np.tile(np.arange(h), n)  # hour of each member-hour
        k = np.arange(nh)
        prev = np.where(hi > 0, k - 1, -1)
        rows, cols, vals = [], [], []

        def add(r: F64, c: F64, v: F64 | float) -> None:
            r, c = np.asarray(r), np.asarray(c)
            rows.append(r)
            cols.append(c)
            vals.append(np.broadcast_to(np.asarray(v, dtype=float), r.shape))

        c0 = lambda name: self.col[name].start  # noqa: E731 - column offset of a block
        # Rows 0..nh-1: state of charge; nh..2nh-1: flex debt; 2nh..3nh-1: imports.
        has_prev = prev >= 0
        add(k, c0("s") + k, 1.0)
        add(k[has_prev], c0("s") + prev[has_prev], -1.0)
        add(k, c0("c") + k, -eta[mi])
        add(k, c0("d") + k, 1.0 / eta[mi])
        add(nh + k, c0("D") + k, 1.0)
        add(nh + k[has_prev], c0("D") + prev[has_prev], -1.0)
        add(nh + k, c0("f") + k, 1.0)
        add(2 * nh + k, c0("m") + k, 1.0)
        add(2 * nh + k, c0("c") + k, -1.0)
        add(2 * nh + k, c0("d") + k, 1.0)
        add(2 * nh + k, c0("f") + k, -1.0)
        # Rows 3nh..3nh+H-1: balance; then reserve power, then reserve energy.
        bal, rp, re = 3 * nh, 3 * nh + h, 3 * nh + 2 * h
        hours = np.arange(h)
        add(bal + hours, c0("b") + hours, 1.0)
        add(bal + hours, c0("x") + hours, -1.0)
        add(bal + hi, c0("c") + k, -1.0)
        add(bal + hi, c0("d") + k, 1.0)
        add(bal + hi, c0("f") + k, -1.0)
        add(rp + hours, c0("r") + hours, 1.0)
        add(rp + hi, c0("c") + k, -1.0)
        add(rp + hi, c0("d") + k, 1.0)
        add(re + hours, c0("r") + hours, 1.0)
        add(re + hi, c0("s") + k, -eta[mi])
        self.n_row = 3 * nh + 3 * h
        a = sp.csc_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(self.n_row, self.n_col),
        )
        inf = highspy.kHighsInf
        lower, upper = np.zeros(self.n_col), np.full(self.n_col, inf)
        for name, hi_bound in (("c", power_mw[mi]), ("d", power_mw[mi]), ("s", energy_mwh[mi])):
            upper[self.col[name]] = hi_bound
        lower[self.col["f"]], upper[self.col["f"]] = -flex_mw[mi], flex_mw[mi]
        lower[self.col["D"]], upper[self.col["D"]] = -flex_mwh[mi], flex_mwh[mi]
        upper[self.col["b"]] = upper[self.col["x"]] = q_max_mw
        upper[self.col["r"]] = power_mw.sum() if reserve else 0.0
        row_lo, row_hi = np.zeros(self.n_row), np.zeros(self.n_row)
        row_hi[2 * nh : 3 * nh] = inf
        row_lo[rp:], row_hi[rp : rp + h] = -inf, power_mw.sum()
        row_hi[re:] = 0.0
        cost = np.zeros(self.n_col)
        cost[self.col["c"]] = cost[self.col["d"]] = THROUGHPUT_EUR_PER_MWH
        cost[self.col["m"]] = import_charge_eur_per_mwh
        self._d_lower, self._d_upper = lower[self.col["D"]].copy(), upper[self.col["D"]].copy()
        self._f_lower, self._f_upper = lower[self.col["f"]].copy(), upper[self.col["f"]].copy()
        # In pay-back hours the env repays the whole debt, beyond the shift power (kernel).
        self._f_payback = flex_mwh[mi]
        self._mi, self._hi = mi, hi
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_col, self.n_row
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lower, upper
        lp.row_lower_, lp.row_upper_ = row_lo, row_hi
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
        self.h = quiet_highs()
        self.h.passModel(lp)
        self._idx = {k_: np.arange(s.start, s.stop, dtype=np.int32) for k_, s in self.col.items()}
        self._rows = np.arange(self.n_row, dtype=np.int32)
        self._row_lo, self._row_hi = row_lo, row_hi

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
    ) -> dict[str, F64]:
        """Update the LP in place and solve it.

        Args:
            net_mw: (N, H) members' forecast net load.
            soc_mwh, debt_mwh: (N,) current state of charge and flex debt.
            price: (H,) spot price forecast, EUR/MWh.
            reserve_price: expected reserve price, EUR/MW per hour (scalar or (H,)).
            payback: (H,) True where the flex debt must be back to zero.
            terminal_value_share: value of energy stored at the horizon, as a share of
                the mean price (0 when the horizon is the episode's end).
            import_charge: (H,) charge on members' imports by hour, EUR/MWh, replacing
                the constant one given at construction.

        Returns:
            Solution blocks by name, each (N, H) for member variables or (H,).

        Raises:
            RuntimeError: HiGHS did not find an optimal solution.
        """
        n, h, nh = self.N, self.H, self.nh
        lo, hi = self._row_lo.copy(), self._row_hi.copy()
        first = np.arange(n) * h
        lo[first] = hi[first] = soc_mwh
        lo[nh + first] = hi[nh + first] = debt_mwh
        lo[2 * nh : 3 * nh] = net_mw.ravel()
        lo[3 * nh : 3 * nh + h] = hi[3 * nh : 3 * nh + h] = net_mw.sum(0)
        self.h.changeRowsBounds(self.n_row, self._rows, lo, hi)
        zero = payback[self._hi]
        self.h.changeColsBounds(nh, self._idx["D"], np.where(zero, 0.0, self._d_lower),
                                np.where(zero, 0.0, self._d_upper))  # fmt: skip
        self.h.changeColsBounds(nh, self._idx["f"], np.where(zero, -self._f_payback, self._f_lower),
                                np.where(zero, self._f_payback, self._f_upper))  # fmt: skip
        self._set_prices(price, reserve_price, terminal_value_share, import_charge)
        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"MPC LP not solved to optimality: {self.h.getModelStatus()}")
        x = np.asarray(self.h.getSolution().col_value)
        out = {k_: x[s].reshape(n, h) for k_, s in self.col.items() if s.stop - s.start == nh}
        out.update({k_: x[self.col[k_]] for k_ in ("b", "x", "r")})
        return out

    def _set_prices(self, price: F64, reserve_price: float | F64, terminal_value_share: float,
                    import_charge: F64 | None) -> None:  # fmt: skip
        """Write the objective's price-dependent costs (the only statement of them)."""
        nh, h = self.nh, self.H
        value = terminal_value_share * float(np.mean(price))
        terminal = np.where(self._hi == h - 1, -value * self.eta[self._mi], 0.0)
        self.h.changeColsCost(nh, self._idx["s"], terminal)
        if import_charge is not None:
            self.h.changeColsCost(nh, self._idx["m"], np.asarray(import_charge, float)[self._hi])
        self.h.changeColsCost(h, self._idx["b"], price)
        self.h.changeColsCost(h, self._idx["x"], -price)
        reserve_value = np.broadcast_to(np.asarray(reserve_price, dtype=float), (h,))
        self.h.changeColsCost(h, self._idx["r"], -reserve_value)

    def objective_at(
        self,
        plan: dict[str, F64],
        price: F64,
        reserve_price: float | F64,
        terminal_value_share: float = TERMINAL_VALUE_SHARE,
        import_charge: F64 | None = None,
    ) -> float:
        """The LP's objective (EUR) of a solved ``plan`` re-priced at other prices.

        Used to value a plan at the prices its own bids clear at, which differ from the
        forecast it was planned against when the coalition moves the price. Leaves the
        LP's costs at these prices (the next :meth:`solve` overwrites them).
        """
        self._set_prices(price, reserve_price, terminal_value_share, import_charge)
        x = np.zeros(self.n_col)
        for k_, s in self.col.items():
            x[s] = np.ravel(plan[k_])
        return float(np.asarray(self.h.getLp().col_cost_) @ x)


def plan_actions(
    plan: dict[str, F64], t: int, member_ids: list[str], members: Any, q_max_mw: float,
    layout: Any, capacity_share: float = 0.0,
) -> dict[str, np.ndarray]:  # fmt: skip
    """Normalised actions for hour ``t`` of an LP plan (the env's action layout).

    Members: battery ``(c - d) / P`` and shift ``f / F``. Coalition: the planned net
    position ``b - x`` as a price-taker (buy at the cap, sell at the floor), reserve ``r``
    at 0 EUR/MW when that market is open, and ``capacity_share`` of firm capacity at
    0 EUR/MW-day when the capacity market is open (-1 = no offer).
    """
    m = members
    batt = plan["c"][:, t] - plan["d"][:, t]
    flex = plan["f"][:, t]
    a_b = np.divide(batt, m.battery_mw, out=np.zeros_like(batt), where=m.battery_mw > 0)
    a_f = np.divide(flex, m.flex_mw, out=np.zeros_like(flex), where=m.flex_mw > 0)
    out = {
        a: np.clip([a_b[i], a_f[i]], -1.0, 1.0).astype(np.float32) for i, a in enumerate(member_ids)
    }
    q = float(plan["b"][t] - plan["x"][t])
    act = -np.ones(layout.coalition, dtype=np.float32)  # no offer in unused markets
    act[0], act[1] = spot_entries(q, q_max_mw)
    j = 2
    if layout.reserve:
        act[j] = reserve_entry(plan["r"][t], m.battery_mw)
        j += 2
    if layout.capacity:
        act[j] = capacity_entry(capacity_share)
    out["coalition"] = act
    return out


class MPCPolicy(MarketPolicy):
    """Rolling-horizon MPC of the coalition and its members (controls both groups).

    Args:
        horizon_h: planning horizon H (at most the env's forecast horizon).
        forecaster: ``ridge`` or ``seasonal_naive`` price forecast.
        capacity_share: share of firm capacity offered in capacity auctions.
        controls: agent ids (default: the coalition and every member).
    """

    def __init__(self, horizon_h: int = 24, forecaster: str = "ridge", capacity_share: float = 0.5,
                 controls: list[str] | None = None) -> None:  # fmt: skip
        super().__init__(controls)
        make_forecaster(forecaster, 1)  # fail at construction on a bad name
        self.horizon_h, self.forecaster_name, self.capacity_share = (
            horizon_h,
            forecaster,
            capacity_share,
        )

    def reset(self, env: Any, seed: int | None = None) -> None:
        """Read static constants, build the LP once and reset the forecaster."""
        super().reset(env, seed)
        core = self.env.core
        if "members" not in self.env.agent_groups:
            raise ValueError("MPCPolicy needs members as agents (members.agents: true)")
        if not 1 <= self.horizon_h <= core.H:
            raise ValueError(
                f"horizon_h={self.horizon_h}; expected 1..{core.H} (the forecast horizon)"
            )
        m, cfg = core.members, core.cfg
        self.m, self.cfg, self.at = m, cfg, ob.index(core.H)
        self.q_max, self.layout = core.q_max_mw, core.layout
        self.member_ids = self.env.agent_groups["members"]
        charge = cfg.tariff.network_eur_per_mwh + cfg.tariff.taxes_eur_per_mwh
        self.lp = CoalitionLP(
            m.battery_mw, m.battery_mwh, m.eta, m.flex_mw, m.flex_mwh, horizon_h=self.horizon_h,
            q_max_mw=self.q_max, import_charge_eur_per_mwh=charge, reserve=core.layout.reserve,
        )  # fmt: skip
        self.forecaster = make_forecaster(self.forecaster_name, self.horizon_h)
        self._first = True

    def act(self, observations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Plan H hours, act on the first."""
        if "coalition" not in observations:
            return {}
        cfg, m, am, h = self.cfg, self.m, self.at["members"], self.horizon_h
        co = observations["coalition"].astype(np.float64)
        hour = ob.hour_of_day(co)
        price = coalition_price_forecast(self.forecaster, co, self.at["coalition"], hour, h,
                                         cfg.spot.price_cap_eur_per_mwh, self._first)  # fmt: skip
        self._first = False
        obs_m = np.stack([observations[a] for a in self.member_ids]).astype(np.float64)
        net = obs_m[:, am["net_fc"] : am["net_fc"] + h] * m.peak_load_mw[:, None]
        soc = obs_m[:, am["soc"]] * m.battery_mwh
        debt = obs_m[:, am["flex_debt"]] * m.flex_mwh
        res_price = (
            float(co[self.at["coalition"]["reserve_price"]]) * cfg.reserve.scarcity_price_eur_per_mw
        )
        payback = (hour + np.arange(h)) % 24 == 23
        sol = self.lp.solve(net, soc, debt, price, res_price, payback)
        out = plan_actions(sol, 0, self.member_ids, m, self.q_max, self.layout, self.capacity_share)
        return {a: v for a, v in out.items() if a in self.controls}
