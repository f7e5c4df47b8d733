"""The ADMM negotiator (DESIGN §5, seed ``004_*``): shadow prices flatten a neighbourhood.

Units: kW and kWh (the seed's household scale), EUR/kWh, hours. Dims: N members, H hours,
S price scenarios.

Members schedule their batteries privately; the coordinator sees only the proposed
net-exchange schedules ``x_i`` (H,) and sends back a common signal and the shadow price
``lambda = rho * u``; it never sees loads, PV or states of charge. This is ADMM for the
sharing problem (Boyd et al. 2011, *Distributed Optimization and Statistical Learning via
ADMM*, §7.3):

    minimise  sum_i f_i(x_i) + g(sum_i x_i),
    x_i <- argmin f_i(x_i) + rho/2 ||x_i - x_i^k + xbar^k - zbar^k + u^k||^2   (members)
    zbar <- argmin g(N zbar) + N rho/2 ||zbar - u^k - xbar^{k+1}||^2          (coordinator)
    u <- u + xbar^{k+1} - zbar^{k+1}

- ``f_i``, the member's risk-aware cost: ``(1 - beta) E[cost] + beta CVaR_alpha(cost)`` over
  S price scenarios, ``cost_s = sum_h p_{s,h} x_h`` (the seed's
  ``max (1 - beta) E[profit] + beta CVaR``), with CVaR in the Rockafellar–Uryasev LP form,
  subject to ``x = load - pv + charge - discharge``, battery power and energy limits, and
  the day ending with at least the initial charge;
- ``g(w) = gamma/2 ||w - mean(w)||^2``: the neighbourhood's net load should be flat (the
  transformer sees no duck curve).

Residuals: primal ``sqrt(N) ||xbar - zbar||``, dual ``rho sqrt(N) ||zbar^k - zbar^{k-1}||``
(kW); the negotiation stops when the primal residual is below ``tolerance``.
The peak "before" is the neighbourhood's net load when every member optimises alone.

``python -m agents.admm --scenario admm_personas [--json] [--plot PATH]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from agents.highs import quiet_highs
from envs.cli import cli_main
from envs.config import limits as lim
from envs.config.loader import build, load_yaml
from envs.config.scenario import WeatherConfig
from envs.config.validate import bounded, check, check_fields
from envs.data.profiles import SECTORS, make_profiles
from envs.errors import ConfigError, UnknownNameError
from envs.registry import scenario_file

F64 = NDArray[np.float64]
TOOL = "agents.admm"
# Physical limits of every numeric field in this tool's units (envs/config/limits.py).
_KW = lim.POWER_MW * 1e3
_KWH = lim.ENERGY_MWH * 1e3
_EUR_KWH = lim.PRICE_EUR_PER_MWH / 1e3

__all__ = [
    "AdmmConfig", "Coordinator", "MemberProblem", "MemberQP", "PersonaSpec", "iterate", "main",
    "member_qp", "negotiate",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class PersonaSpec:
    """One neighbour (kW, kWh)."""

    name: str
    sector: str = "residential"
    peak_load_kw: float = bounded(1.0, ge=0, le=_KW, unit="kW")
    pv_kwp: float = bounded(0.0, ge=0, le=_KW, unit="kWp")
    battery_kwh: float = bounded(5.0, ge=0, le=_KWH, unit="kWh")
    battery_kw: float = bounded(2.5, ge=0, le=_KW, unit="kW")
    beta: float = bounded(0.5, ge=0, le=1)  # risk weight
    efficiency: float = bounded(0.95, gt=0, le=1)  # battery round trip

    def __post_init__(self) -> None:
        """Check each field's type and bounds, and the sector is one of the sector table's."""
        check_fields(self)
        check(self.sector in SECTORS, "sector", self.sector, f"one of {list(SECTORS)}")


@dataclass(frozen=True, slots=True)
class AdmmConfig:
    """The negotiation's data and ADMM settings (``alpha`` is the CVaR level)."""

    name: str = "admm_personas"
    description: str = ""
    day_of_year: int = bounded(172, ge=1, le=365)
    horizon_h: int = bounded(24, ge=2, le=168)  # a week of hourly schedules
    alpha: float = bounded(0.95, gt=0, lt=1)
    scenarios: int = bounded(20, ge=1, le=10_000, unit="price scenarios")
    price_noise: float = bounded(0.25, ge=0, le=3)  # log-normal sigma: e^6 = 400x spreads
    price_base_eur_per_kwh: float = bounded(0.25, ge=0, le=_EUR_KWH, unit="EUR/kWh")
    price_evening_premium_eur_per_kwh: float = bounded(
        0.15, ge=-_EUR_KWH, le=_EUR_KWH, unit="EUR/kWh"
    )
    price_midday_discount_eur_per_kwh: float = bounded(
        0.10, ge=-_EUR_KWH, le=_EUR_KWH, unit="EUR/kWh"
    )
    rho: float = bounded(3.0, gt=0, le=1e6)  # ADMM penalty: beyond it, no step moves
    flatness_weight: float = bounded(1.0, ge=0, le=1e6)
    max_iterations: int = bounded(100, ge=1, le=1_000_000)
    tolerance: float = bounded(1e-5, gt=0, le=_KW, unit="kW")
    seed: int = bounded(0, ge=0, le=lim.SEED)  # numpy seeds are non-negative
    personas: tuple[PersonaSpec, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        """Check each field's type and bounds."""
        check_fields(self)


def load_config(
    scenario: str = "admm_personas", overrides: dict[str, Any] | None = None
) -> AdmmConfig:
    """Load a shipped ADMM scenario (``env: agents.admm``) or a YAML path."""
    path = scenario if scenario.endswith((".yaml", ".yml")) else scenario_file(scenario, TOOL)
    data = load_yaml(path)
    data.pop("env", None)
    data.update(overrides or {})
    return build(AdmmConfig, data)


def price_scenarios(cfg: AdmmConfig, rng: np.random.Generator) -> F64:
    """(S, H) price scenarios, EUR/kWh: a duck-curve tariff times lognormal noise."""
    hours = np.arange(cfg.horizon_h) % 24
    base = (cfg.price_base_eur_per_kwh
            + cfg.price_evening_premium_eur_per_kwh * ((hours >= 17) & (hours <= 21))
            - cfg.price_midday_discount_eur_per_kwh * ((hours >= 10) & (hours <= 15)))  # fmt: skip
    noise = rng.lognormal(
        -0.5 * cfg.price_noise**2, cfg.price_noise, (cfg.scenarios, cfg.horizon_h)
    )
    return base * noise


@dataclass(frozen=True, slots=True)
class MemberQP:
    """One member's risk-aware problem as data: min cost'v s.t. row_lo <= A v <= row_hi,
    col_lo <= v <= col_hi, plus ``rho/2 ||x - target||^2`` on the first ``h`` columns.

    Columns: x (H) net exchange kW, c, d (H) charge/discharge kW, s (H) stored kWh,
    eta (VaR, EUR), xi (S) CVaR excess EUR. Rows: balance (H), storage (H), CVaR (S).
    """

    h: int
    cost: F64
    a: sp.csc_matrix
    col_lo: F64
    col_hi: F64
    row_lo: F64
    row_hi: F64


def member_qp(
    net_load_kw: F64, prices: F64, p: PersonaSpec, alpha: float, soc0_kwh: float | None = None,
    import_charge: float = 0.0,
) -> MemberQP:  # fmt: skip
    """Build one member's problem (the single statement of f_i; see the module docstring).

    Args:
        net_load_kw: (H,) forecast load minus PV, kW.
        prices: (S, H) price scenarios, EUR/kWh.
        soc0_kwh: stored energy now (``None``: half full).
        import_charge: EUR/kWh on imports only (network charges and taxes); adds columns
            y (H) >= max(x, 0) and rows y - x >= 0. Deterministic, so it shifts every
            scenario's cost alike and enters the objective with weight 1.
    """
    h, s = net_load_kw.size, prices.shape[0]
    eff = np.sqrt(p.efficiency)
    n_col = 4 * h + 1 + s
    ix, ic, idd, iss, ie, ixi = 0, h, 2 * h, 3 * h, 4 * h, 4 * h + 1
    rows, cols, vals = [], [], []
    r = np.arange(h)
    # x - c + d = net load (balance).
    for c_off, v in ((ix, 1.0), (ic, -1.0), (idd, 1.0)):
        rows.append(r)
        cols.append(c_off + r)
        vals.append(np.full(h, v))
    # s_h - s_{h-1} - eff c + d / eff = 0 (s_{-1} = soc0).
    rows += [h + r, h + r[1:], h + r, h + r]
    cols += [iss + r, iss + r[:-1], ic + r, idd + r]
    vals += [np.ones(h), -np.ones(h - 1), np.full(h, -eff), np.full(h, 1.0 / eff)]
    # xi_s - sum_h p_sh x_h + eta >= 0 (CVaR excess, Rockafellar & Uryasev 2000).
    sr = 2 * h + np.arange(s)
    rows += [np.repeat(sr, h), sr, sr]
    cols += [np.tile(ix + r, s), ixi + np.arange(s), np.full(s, ie)]
    vals += [-prices.ravel(), np.ones(s), np.ones(s)]
    a = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(2 * h + s, n_col))  # fmt: skip
    # Finite bounds on x and on the VaR variable eta (any scenario's cost lies within
    # +-bound): HiGHS's QP solver reports free variables as unbounded directions.
    x_max = np.abs(net_load_kw) + p.battery_kw
    bound = float(prices.max(0) @ x_max) + 1.0
    lo = np.concatenate([-x_max, np.zeros(3 * h), [-bound], np.zeros(s)])
    hi = np.concatenate([x_max, np.full(2 * h, p.battery_kw), np.full(h, p.battery_kwh),
                         [bound], np.full(s, 2.0 * bound)])  # fmt: skip
    # End at least half full (or as full as it can get from soc0): energy left for later.
    soc0 = (
        0.5 * p.battery_kwh if soc0_kwh is None else min(max(float(soc0_kwh), 0.0), p.battery_kwh)
    )
    reach = soc0 + p.battery_kw * eff * h
    lo[iss + h - 1] = min(0.5 * p.battery_kwh, reach)
    row_lo = np.concatenate([net_load_kw, np.zeros(h), np.zeros(s)])
    row_lo[h] = soc0
    row_hi = np.concatenate([net_load_kw, np.zeros(h), np.full(s, np.inf)])
    row_hi[h] = soc0
    cost = np.zeros(n_col)
    cost[ie] = p.beta
    cost[ixi:] = p.beta / ((1.0 - alpha) * s)
    cost[ix : ix + h] = (1.0 - p.beta) * prices.mean(0)
    if import_charge > 0.0:
        pick_x = sp.csc_matrix((-np.ones(h), (r, ix + r)), shape=(h, n_col))
        a = sp.bmat([[a, None], [pick_x, sp.identity(h, format="csc")]], format="csc")
        lo, hi = np.concatenate([lo, np.zeros(h)]), np.concatenate([hi, x_max])
        row_lo = np.concatenate([row_lo, np.zeros(h)])
        row_hi = np.concatenate([row_hi, np.full(h, np.inf)])
        cost = np.concatenate([cost, np.full(h, import_charge)])
    return MemberQP(h, cost, a, lo, hi, row_lo, row_hi)


class MemberProblem:
    """One member's private QP solved by HiGHS (kept inside the member: the coordinator
    never sees it). Built once; each iteration changes x's costs only.
    """

    def __init__(self, net_load_kw: F64, prices: F64, p: PersonaSpec, alpha: float, rho: float,
                 soc0_kwh: float | None = None) -> None:  # fmt: skip
        qp = member_qp(net_load_kw, prices, p, alpha, soc0_kwh)
        h, n_col, a = qp.h, qp.cost.size, qp.a
        self.h, self.rho, self.beta = h, rho, p.beta
        self.expected = qp.cost[:h].copy()
        inf = highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n_col, a.shape[0]
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = qp.cost, qp.col_lo, qp.col_hi
        lp.row_lower_, lp.row_upper_ = qp.row_lo, np.minimum(qp.row_hi, inf)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
        self.hs = quiet_highs()
        self.hs.passModel(lp)
        if rho > 0:
            # rho on x; a tiny curvature elsewhere keeps the Hessian positive definite,
            # which HiGHS's QP solver needs (it reports semidefinite ones as non-convex).
            diag = np.full(n_col, 1e-6 * rho)
            diag[:h] = rho
            # highspy's stub types ``format`` as int; the binding takes any SupportsInt,
            # this enum included.
            self.hs.passHessian(n_col, n_col, highspy.HessianFormat.kTriangular,  # type: ignore[call-overload]
                                np.arange(n_col + 1, dtype=np.int32),
                                np.arange(n_col, dtype=np.int32), diag)  # fmt: skip
        self._xi = np.arange(h, dtype=np.int32)
        self.failures = 0
        self.x = self.solve(None)

    def solve(self, target: F64 | None) -> F64:
        """Minimise f_i(x) + rho/2 ||x - target||^2 (``None``: f_i alone); returns x (H,) kW."""
        if target is not None:
            self.hs.changeColsCost(self.h, self._xi, self.expected - self.rho * target)
            self.hs.clearSolver()  # HiGHS's QP solver is not reliable from a warm start
        self.hs.run()
        status = self.hs.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"member problem not solved: {status}")
        col = np.asarray(self.hs.getSolution().col_value)
        self.x = col[: self.h]
        self.battery = col[self.h : 2 * self.h] - col[2 * self.h : 3 * self.h]  # + charging
        return self.x

    def respond(self, signal: F64) -> F64:
        """ADMM x-update for the broadcast signal ``xbar - zbar + u`` (H,).

        If HiGHS's QP solver fails (rare numerical trouble), the member keeps its last
        schedule for this round; ``failures`` counts such rounds.
        """
        previous = (self.x.copy(), self.battery.copy())
        try:
            return self.solve(previous[0] - signal)
        except RuntimeError:
            self.failures += 1
            self.x, self.battery = previous
            return self.x


class Coordinator:
    """Sees only schedules; returns the common signal and the shadow prices."""

    def __init__(self, n: int, horizon_h: int, rho: float, flatness_weight: float):
        self.n, self.rho, self.gamma = n, rho, flatness_weight
        self.u = np.zeros(horizon_h)
        self.zbar = np.zeros(horizon_h)

    def update(self, schedules: F64) -> tuple[F64, float, float]:
        """z- and u-updates from the members' schedules (N, H).

        Returns:
            (signal for the next x-update, primal residual, dual residual).
        """
        xbar = schedules.mean(0)
        a = self.u + xbar
        # argmin gamma/2 ||P N z||^2 + N rho/2 ||z - a||^2 with P removing the mean:
        # the mean of z follows a, its hourly shape is shrunk by rho / (gamma N + rho).
        shape = a - a.mean()
        z_new = a.mean() + self.rho / (self.gamma * self.n + self.rho) * shape
        dual = self.rho * np.sqrt(self.n) * float(np.linalg.norm(z_new - self.zbar))
        self.zbar = z_new
        self.u = self.u + xbar - self.zbar
        primal = np.sqrt(self.n) * float(np.linalg.norm(xbar - self.zbar))
        return xbar - self.zbar + self.u, primal, dual

    @property
    def shadow_price(self) -> F64:
        """lambda = rho * u, per hour (EUR/kWh of the scaled problem)."""
        return self.rho * self.u


def iterate(
    respond: Callable[[F64], F64], x0: F64, coord: Coordinator, max_iterations: int,
    tolerance: float,
) -> tuple[F64, list[dict[str, float]], int | None]:  # fmt: skip
    """ADMM rounds: members ``respond`` (signal (H,) -> schedules (N, H)), the coordinator
    updates; stops when the primal residual is below ``tolerance``.

    Returns:
        (schedules (N, H), residuals per iteration, iterations to converge or ``None``).
    """
    x = x0
    signal, primal, dual = coord.update(x)
    history: list[dict[str, float]] = []
    for k in range(1, max_iterations + 1):
        x = respond(signal)
        signal, primal, dual = coord.update(x)
        history.append({"iteration": k, "primal_residual": primal, "dual_residual": dual})
        # Converged when the neighbourhood balances (the primal residual, issue 3's
        # criterion); the dual residual is reported with it.
        if primal < tolerance:
            return x, history, k
    return x, history, None


def negotiate(cfg: AdmmConfig) -> dict[str, Any]:
    """Run the negotiation; returns residuals, iterations, schedules and net-load peaks."""
    if not cfg.personas:
        raise ConfigError("personas: expected at least one persona")
    rng = np.random.default_rng(cfg.seed)
    ps = cfg.personas
    sector = np.array([SECTORS.index(p.sector) for p in ps])
    prof = make_profiles(
        rng,
        WeatherConfig(cloudiness_mean=0.15),
        num_envs=1,
        hours=cfg.horizon_h,
        start_hour_of_year=(cfg.day_of_year - 1) * 24,
        sector_idx=sector,
        peak_load_mw=np.array([p.peak_load_kw for p in ps]),
        pv_mw=np.array([p.pv_kwp for p in ps]),
        wind_mw=np.zeros(len(ps)),
        system_peak_load_mw=1.0,
    )  # fmt: skip  (sizes in kW: the profile model is linear in them)
    net = (prof.load_mw[0] - prof.pv_mw[0]).T  # (N, H) kW
    prices = price_scenarios(cfg, rng)
    selfish = np.stack(
        [MemberProblem(net[i], prices, p, cfg.alpha, 0.0).x for i, p in enumerate(ps)]
    )
    members = [MemberProblem(net[i], prices, p, cfg.alpha, cfg.rho) for i, p in enumerate(ps)]
    coord = Coordinator(len(ps), cfg.horizon_h, cfg.rho, cfg.flatness_weight)
    x0 = np.stack([mp.x for mp in members])
    x, history, converged = iterate(
        lambda signal: np.stack([mp.respond(signal) for mp in members]),
        x0, coord, cfg.max_iterations, cfg.tolerance,
    )  # fmt: skip
    primal, dual = history[-1]["primal_residual"], history[-1]["dual_residual"]
    before, after = selfish.sum(0), x.sum(0)
    return {
        "scenario": cfg.name,
        "members": [p.name for p in ps],
        "iterations": history,
        "iterations_to_converge": converged,
        "final_primal_residual": primal,
        "final_dual_residual": dual,
        "member_solve_failures": sum(mp.failures for mp in members),
        "net_load_before_kw": before.tolist(),
        "net_load_after_kw": after.tolist(),
        "peak_before_kw": float(before.max()),
        "peak_after_kw": float(after.max()),
        "range_before_kw": float(np.ptp(before)),
        "range_after_kw": float(np.ptp(after)),
        "shadow_price_eur_per_kwh": coord.shadow_price.tolist(),
        "schedules_kw": {p.name: x[i].tolist() for i, p in enumerate(ps)},
    }


def _plot(result: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    it = [r["iteration"] for r in result["iterations"]]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.semilogy(it, [r["primal_residual"] for r in result["iterations"]], label="primal")
    ax1.semilogy(it, [r["dual_residual"] for r in result["iterations"]], label="dual")
    ax1.set(xlabel="iteration", ylabel="residual (kW)", title="ADMM convergence")
    ax1.legend()
    hours = np.arange(len(result["net_load_before_kw"]))
    ax2.step(hours, result["net_load_before_kw"], where="post", label="each alone")
    ax2.step(hours, result["net_load_after_kw"], where="post", label="negotiated (ADMM)")
    ax2.set(xlabel="hour", ylabel="neighbourhood net load (kW)", title="Net load flattened")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


@cli_main
def main(argv: list[str] | None = None) -> int:
    """CLI: print residuals per iteration, iterations to converge and the peaks."""
    ap = argparse.ArgumentParser(
        prog="python -m agents.admm", description="ADMM neighbourhood negotiation"
    )
    ap.add_argument("--scenario", default="admm_personas", help="scenario name or YAML path")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--plot", metavar="PATH", help="write a PNG of convergence and net load")
    args = ap.parse_args(argv)
    try:
        cfg = load_config(args.scenario)
    except (UnknownNameError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = negotiate(cfg)
    if args.plot:
        _plot(result, args.plot)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"scenario {cfg.name}: {', '.join(result['members'])}")
    print("iteration  primal_residual_kW  dual_residual_kW")
    for r in result["iterations"]:
        print(f"{r['iteration']:9d}  {r['primal_residual']:18.3e}  {r['dual_residual']:16.3e}")
    conv = result["iterations_to_converge"]
    print(
        f"converged after {conv} iterations"
        if conv
        else f"not converged in {cfg.max_iterations} iterations"
    )
    r = result
    print(
        f"net-load peak: {r['peak_before_kw']:.2f} kW alone -> {r['peak_after_kw']:.2f} kW "
        f"negotiated (range {r['range_before_kw']:.2f} -> {r['range_after_kw']:.2f} kW)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
