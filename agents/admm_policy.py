"""``admm``: the ADMM negotiator (DESIGN §5) as a policy of ``multimarket_v1``/``spot_v1``.

Every ``replan_h`` hours the coalition negotiates the members' battery schedules for the
next ``horizon_h`` hours with the ADMM sharing iteration of :mod:`agents.admm` (the same
member problem, :func:`agents.admm.member_qp`, and the same coordinator):

- each member builds its private risk-aware problem from what it observes (its own
  net-load forecast and state of charge) and its own static battery sizes:
  ``(1 - beta) E[cost] + beta CVaR_alpha(cost)`` over ``scenarios`` price scenarios
  (the coalition's price forecast times lognormal noise), plus the network charges and
  taxes it pays on imports;
- the coordinator sees only the proposed net-exchange schedules and answers with the
  common signal and shadow prices that flatten the coalition's net load
  (``flatness_weight``);
- the coalition then bids the members' agreed net position for the hour as a
  price-taker, offers the upward reserve the agreed set-points leave deliverable this hour
  (:func:`envs.actors.members.reserve_headroom`, at 0 EUR/MW: the co-optimised auction
  prices the opportunity cost, and an award within it is always delivered), and offers
  a fixed share of its firm capacity (``capacity_share``; the MPC chooses its offer in its
  plan instead, :mod:`agents.capacity_offer`).

Units inside the negotiation are kW, kWh and EUR/kWh (the members' scale; the env's MW
and EUR/MWh are converted at the edge), so the solver sees well-scaled numbers.

The members' local problems are independent, so one call of OSQP (Stellato et al. 2020,
an ADMM solver for QPs, factorised once per negotiation and warm-started each round)
solves all of them together as a block-diagonal QP: the same result as N separate
solves, and fast enough for every hour of a 200-member coalition. The command-line
negotiation (``python -m agents.admm``) solves each member with HiGHS instead, to its
tighter tolerance.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import osqp
import scipy.sparse as sp
from numpy.typing import NDArray

from agents.admm import Coordinator, PersonaSpec, iterate, member_qp
from agents.base import MarketPolicy
from agents.forecast import coalition_price_forecast, make_forecaster
from agents.mpc import plan_actions
from envs.actors.members import battery_bounds, reserve_headroom
from envs.adapters.parallel import COALITION_ID
from envs.sim import observe as ob

F64 = NDArray[np.float64]
KW_PER_MW = 1000.0

__all__ = ["AdmmPolicy", "BatchedMembers"]


class BatchedMembers:
    """All members' x-updates in one block-diagonal OSQP problem.

    Args:
        qps: the members' :class:`agents.admm.MemberQP` (same horizon and scenarios).
        rho: ADMM penalty, EUR/kW^2.
        eps: OSQP's absolute and relative tolerances.
    """

    def __init__(self, qps: list[Any], rho: float, eps: float = 1e-3) -> None:
        h, n_col = qps[0].h, qps[0].cost.size
        self.n, self.h, self.n_col, self.rho = len(qps), h, n_col, rho
        self.expected = np.stack([q.cost[:h] for q in qps])  # (N, H) EUR/kW
        self.cost = np.concatenate([q.cost for q in qps])
        blocks = sp.block_diag([q.a for q in qps], format="csc")
        a = sp.vstack([blocks, sp.identity(blocks.shape[1])], format="csc")
        lo = np.concatenate([q.row_lo for q in qps] + [q.col_lo for q in qps])
        hi = np.concatenate([q.row_hi for q in qps] + [q.col_hi for q in qps])
        diag = np.zeros(self.cost.size)
        self._x = (np.arange(self.n)[:, None] * n_col + np.arange(h)).ravel()  # x columns
        diag[self._x] = rho
        self.solver = osqp.OSQP()
        self.solver.setup(sp.diags(diag, format="csc"), self.cost, a, lo, hi, eps_abs=eps,
                          eps_rel=eps, max_iter=20_000, polishing=False, verbose=False)  # fmt: skip
        self.failures = 0
        self.x = self.solve(None)

    def solve(self, target: F64 | None) -> F64:
        """Minimise sum_i f_i(x_i) + rho/2 ||x_i - target_i||^2; returns x (N, H) kW.

        ``target`` (N, H) kW; ``None`` keeps x near 0 (the first proposal). Each block is
        a member's own problem: they share nothing but the solver call.
        """
        q = self.cost.copy()
        if target is not None:
            q[self._x] = (self.expected - self.rho * target).ravel()
        self.solver.update(q=q)
        res = self.solver.solve(raise_error=False)
        if res.info.status_val not in (osqp.SolverStatus.OSQP_SOLVED,
                                       osqp.SolverStatus.OSQP_SOLVED_INACCURATE):  # fmt: skip
            raise RuntimeError(f"members' problems not solved: {res.info.status}")
        self.col = res.x.reshape(self.n, self.n_col)
        return self.col[:, : self.h].copy()

    def respond(self, signal: F64) -> F64:
        """ADMM x-update of every member for the broadcast signal (H,) kW.

        If OSQP fails (numerical trouble), the members keep their last schedules for this
        round; ``failures`` counts such rounds.
        """
        previous = self.x
        try:
            self.x = self.solve(previous - signal)
        except RuntimeError:
            self.failures += 1
        return self.x

    @property
    def battery_kw(self) -> F64:
        """Charge minus discharge of the last solution, (N, H) kW (+ charging)."""
        h = self.h
        return self.col[:, h : 2 * h] - self.col[:, 2 * h : 3 * h]


class AdmmPolicy(MarketPolicy):
    """Members' batteries coordinated by ADMM shadow prices; the coalition bids the result.

    Args:
        beta: members' risk weight: ``None`` = each persona's ``risk_weight`` (DESIGN §4),
            a float for all, or a dict persona name -> beta.
        alpha: CVaR confidence level.
        scenarios: price scenarios per negotiation.
        price_noise: lognormal sigma of the price scenarios around the forecast.
        rho: ADMM penalty, EUR/kW^2 per hour.
        flatness_weight: coordinator's weight on a flat coalition net load, EUR/kW^2.
        horizon_h: hours negotiated (at most the env's forecast horizon).
        replan_h: hours between negotiations (the agreed schedule is followed in between).
        max_iterations, tolerance: ADMM stopping rule: primal residual below ``tolerance``
            times the members' total battery power (kW; 1e-4 of 15 MW is 1.5 kW).
        forecaster: ``ridge`` or ``seasonal_naive`` price forecast (agents/forecast.py).
        capacity_share: share of firm capacity offered in capacity auctions.
        controls: agent ids (default: the coalition and every member).
    """

    def __init__(self, beta: float | dict[str, float] | None = None, alpha: float = 0.95,
                 scenarios: int = 8, price_noise: float = 0.2, rho: float = 2e-4,
                 flatness_weight: float = 1e-6, horizon_h: int = 24, replan_h: int = 4,
                 max_iterations: int = 20, tolerance: float = 1e-4,
                 forecaster: str = "ridge", capacity_share: float = 0.5,
                 controls: list[str] | None = None) -> None:  # fmt: skip
        super().__init__(controls)
        make_forecaster(forecaster, 1)  # fail at construction on a bad name
        if not 0.0 < alpha < 1.0 or scenarios < 1 or rho <= 0 or replan_h < 1:
            raise ValueError(
                f"alpha={alpha}, scenarios={scenarios}, rho={rho}, replan_h={replan_h}; "
                "expected 0 < alpha < 1, scenarios >= 1, rho > 0, replan_h >= 1"
            )
        self.beta, self.alpha, self.scenarios, self.noise = beta, alpha, scenarios, price_noise
        self.rho, self.gamma, self.horizon_h, self.replan_h = (
            rho,
            flatness_weight,
            horizon_h,
            replan_h,
        )
        self.max_iterations, self.tolerance = max_iterations, tolerance
        self.forecaster_name, self.capacity_share = forecaster, capacity_share

    def reset(self, env: Any, seed: int | None = None) -> None:
        """Read each member's static battery sizes and the tariff; reset the forecaster."""
        super().reset(env, seed)
        core = self.env.core
        if "members" not in self.env.agent_groups:
            raise ValueError("AdmmPolicy needs members as agents (members.agents: true)")
        if not 2 <= self.horizon_h <= core.dims.H:
            raise ValueError(
                f"horizon_h={self.horizon_h}; expected 2..{core.dims.H} (forecast horizon)"
            )
        m, cfg = core.members, core.cfg
        self.m, self.cfg, self.at = m, cfg, ob.index(core.dims.H)
        self.q_max, self.layout = core.coalition.q_max_mw, core.layout
        self.member_ids = self.env.agent_groups["members"]
        if self.beta is None:
            betas = list(m.risk_weight)
        elif isinstance(self.beta, dict):
            betas = [self.beta.get(p, r) for p, r in zip(m.persona, m.risk_weight, strict=True)]
        else:
            betas = [self.beta] * len(m.persona)
        self.personas = [
            PersonaSpec(
                name=a,
                battery_kwh=float(m.battery_mwh[i]) * KW_PER_MW,
                battery_kw=float(m.battery_mw[i]) * KW_PER_MW,
                beta=float(betas[i]),
                efficiency=float(m.eta[i]) ** 2,
            )
            for i, a in enumerate(self.member_ids)
        ]
        self.tolerance_kw = self.tolerance * max(float(m.battery_mw.sum()) * KW_PER_MW, 1.0)
        self.import_charge = (
            cfg.tariff.network_eur_per_mwh + cfg.tariff.taxes_eur_per_mwh
        ) / KW_PER_MW
        self.forecaster = make_forecaster(self.forecaster_name, self.horizon_h)
        self._first, self._k = True, 0
        self._plan: F64 | None = None  # (N, H) agreed battery set-points, MW
        self.history: list[dict[str, Any]] = []

    def negotiate(self, net_kw: F64, soc_kwh: F64, price_eur_per_mwh: F64) -> F64:
        """One negotiation from the members' forecasts; returns batteries (N, H) kW."""
        h = self.horizon_h
        base = np.maximum(price_eur_per_mwh, 0.0) / KW_PER_MW  # EUR/kWh
        prices = base * self.rng.lognormal(
            -0.5 * self.noise**2, self.noise, (self.scenarios, h)
        )  # fmt: skip
        qps = [
            member_qp(net_kw[i], prices, p, self.alpha, soc_kwh[i], self.import_charge)
            for i, p in enumerate(self.personas)
        ]
        members = BatchedMembers(qps, self.rho)
        coord = Coordinator(len(qps), h, self.rho, self.gamma)
        _, hist, conv = iterate(
            members.respond, members.x, coord, self.max_iterations, self.tolerance_kw
        )
        self.history.append({"iterations": len(hist), "converged": conv is not None,
                             "primal_residual_kw": hist[-1]["primal_residual"],
                             "solver_failures": members.failures})  # fmt: skip
        return members.battery_kw

    def act(self, observations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Negotiate every ``replan_h`` hours; follow the agreed schedule in between."""
        if COALITION_ID not in observations:
            return {}
        m, am, h = self.m, self.at["members"], self.horizon_h
        co = observations[COALITION_ID].astype(np.float64)
        cap = self.cfg.spot.price_cap_eur_per_mwh
        price = coalition_price_forecast(
            self.forecaster, co, self.at["coalition"], ob.hour_of_day(co), h, cap, self._first
        )
        self._first = False
        obs_m = np.stack([observations[a] for a in self.member_ids]).astype(np.float64)
        net_mw = obs_m[:, am["net_fc"] : am["net_fc"] + h] * m.peak_load_mw[:, None]
        soc = obs_m[:, am["soc"]] * m.battery_mwh
        if self._plan is None or self._k >= min(self.replan_h, h):
            self._plan = self.negotiate(net_mw * KW_PER_MW, soc * KW_PER_MW, price) / KW_PER_MW
            self._k = 0
        # The QP solver meets the limits to its tolerance (1e-3); keep set-points exactly
        # within this hour's power and energy limits so the env never has to project them.
        charge, discharge = battery_bounds(soc, m)
        batt = np.clip(self._plan[:, self._k], -discharge, charge)
        self._k += 1
        # The coalition's position: the members' agreed net exchange this hour (MW).
        q = float((net_mw[:, 0] + batt).sum())
        head = reserve_headroom(batt, soc, m) if self.layout.reserve else 0.0
        plan = {"c": np.maximum(batt, 0.0)[:, None], "d": np.maximum(-batt, 0.0)[:, None],
                "f": np.zeros((len(batt), 1)), "b": np.array([max(q, 0.0)]),
                "x": np.array([max(-q, 0.0)]),
                "r": np.array([head])}  # fmt: skip
        out = plan_actions(
            plan, 0, self.member_ids, m, self.q_max, self.layout, self.capacity_share
        )
        return {a: v for a, v in out.items() if a in self.controls}
