"""The compiled step of :class:`envs.sim.core.MarketCore`: one hour for E envs (numba).

Why compiled: at E = 1 a numpy step is ~300 calls of ~1.5 us of call overhead each
(DESIGN §6), and at E = 1024 it streams many temporaries through memory. The step is a
page of calls to named phases; each rule is a compiled function of one env in the
module of the rule it states (:mod:`envs.actors.members`, :mod:`envs.actors.coalition`,
:mod:`envs.actors.fleet`, :mod:`envs.market`), and the public ``envs.market`` API wraps
the same functions. Parameters travel as named records (:class:`StepParams`,
:class:`Hour`, :class:`State`, :class:`Outputs` and the actors' records).

Dims: E envs, G generators, K tranches, N members, B background demand blocks,
M markets, P participants (column layout of :class:`envs.market.settlement.Columns`).
"""

from __future__ import annotations

import hashlib
import sys
import types
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

from envs.actors import fleet as fl
from envs.actors import members as mb
from envs.actors.coalition import decode_row
from envs.market import settlement as st
from envs.market.allocation import ALLOCATION_RULES, allocate_row
from envs.market.capacity import clear_capacity_row
from envs.market.reserve import clear_reserve_row
from envs.market.spot import clear_spot_row

F64 = NDArray[np.float64]
REWARD_MODES = mb.REWARD_MODES
__all__ = ["ALLOCATION_RULES", "INFO_KEYS", "REWARD_MODES", "Hour", "Outputs", "State",
           "StepParams", "step_parallel", "step_serial"]  # fmt: skip

#: Per-env scalar outputs, in column order of ``info_out``.
INFO_KEYS: tuple[str, ...] = (
    "price_eur_per_mwh",
    "reserve_price_eur_per_mw",
    "capacity_price_eur_per_mw_day",
    "reserve_requirement_mw",
    "reserve_shortfall_mw",
    "unserved_energy_mwh",
    "curtailment_mwh",
    "emissions_t",
    "coalition_emissions_t",
    "coalition_cfe",
    "lerner_index",
    "residual_supply_index",
    "scarcity",
    "coalition_position_mw",
    "coalition_metered_mw",
    "coalition_imbalance_mwh",
    "reserve_activation_share",
    "reserve_not_delivered_mwh",
    "members_saving_eur",
    "counterfactual_bill_eur",
    "coalition_result_eur",
    "n_projected",
    "welfare_eur",
    "capacity_committed_mw",
    "members_worse_off",
    "allocation_se_eur",
)
(
    I_PRICE,
    I_RES_PRICE,
    I_CAP_PRICE,
    I_REQ,
    I_RES_SHORT,
    I_UNSERVED,
    I_CURT,
    I_EMIS,
    I_COAL_EMIS,
    I_CFE,
    I_LERNER,
    I_RSI,
    I_SCARCITY,
    I_POSITION,
    I_METERED,
    I_IMBALANCE,
    I_ACT,
    I_NOT_DELIVERED,
    I_SAVING,
    I_CF_BILL,
    I_RESULT,
    I_PROJECTED,
    I_WELFARE,
    I_CAP_COMMITTED,
    I_WORSE_OFF,
    I_ALLOC_SE,
) = range(len(INFO_KEYS))
#: Outputs about the coalition (its own infos); the rest describe the market (every agent's).
COALITION_INFO_KEYS: tuple[str, ...] = (
    "coalition_emissions_t",
    "coalition_cfe",
    "coalition_position_mw",
    "coalition_metered_mw",
    "coalition_imbalance_mwh",
    "reserve_activation_share",
    "reserve_not_delivered_mwh",
    "members_saving_eur",
    "counterfactual_bill_eur",
    "coalition_result_eur",
    "n_projected",
    "members_worse_off",
    "allocation_se_eur",
)
PUBLIC_INFO_KEYS: tuple[str, ...] = tuple(k for k in INFO_KEYS if k not in COALITION_INFO_KEYS)


class StepParams(NamedTuple):
    """A scenario's constants for the step (EUR/MWh unless noted)."""

    floor: float  # spot price floor
    cap: float  # spot price cap
    renew_offer: float  # system renewables' offer price
    scarcity_share: float  # share of the cap from which an hour counts as scarce
    imb_spread: float  # imbalance price spread around the spot price
    res_share_load: float  # reserve requirement per MW of forecast load
    res_share_ren: float  # ... and per MW of forecast system renewables
    res_scarcity: float  # reserve scarcity price, EUR/MW per hour
    pen_res: float  # penalty on reserve activation not delivered
    pen_perf: float  # capacity performance penalty
    cap_cap: float  # capacity price cap, EUR/MW-day
    c_lower: float  # VRR knees as fractions of the target
    c_upper: float
    network: float  # network charge on members' imports
    taxes: float
    discount: float  # community discount on netted network charges, share
    ppa_price: float
    feed_in: float  # feed-in tariff of the counterfactual
    reward_mix: float
    pay_as_bid: bool
    reserve_on: bool
    capacity_on: bool
    drives: bool  # the coalition sets its members' batteries and flex
    alloc_rule: int  # index into ALLOCATION_RULES
    ir_floor: bool  # lift members below their saving alone when the result allows it
    reward_mode: int  # index into REWARD_MODES
    emis_marginal: bool  # coalition emissions at the marginal unit's factor
    bg_shares: F64  # (B,) background demand split into blocks
    bg_prices: F64  # (B,) their bid prices


class Hour(NamedTuple):
    """This hour's exogenous data, (E,) or (E, N)."""

    load: F64  # (E, N) members' actual load, MW
    ren: F64  # (E, N) members' actual renewables, MW
    sys_load: F64  # background load, MW
    sys_ren: F64  # system renewables available, MW
    fc_load0: F64  # this hour's forecast background load (sets the reserve requirement)
    fc_ren0: F64  # ... and system renewables
    act: F64  # reserve activation share
    ppa: F64  # PPA delivery, MW
    cap_target: F64  # capacity requirement (auction hours), MW
    retail: float  # the counterfactual's retail price this hour
    auction: bool  # the capacity auction clears this hour
    payback: bool  # last hour of the day: flex debt is repaid


class State(NamedTuple):
    """The state the step reads (never writes)."""

    soc: F64  # (E, N) MWh
    cf_soc: F64  # (E, N) the counterfactual battery, MWh
    debt: F64  # (E, N) flex debt, MWh
    prev_dispatch: F64  # (E, G) MW
    cap_award_g: F64  # (E, G) capacity committed, MW
    cap_award_c: F64  # (E,)
    cap_price: F64  # (E,) EUR/MW-day


class Outputs(NamedTuple):
    """What the step writes: the next state, flows, rewards and accounting."""

    cash: F64  # (E, M, P) EUR
    energy: F64  # (E, M, P) MWh
    reserve_mw: F64  # (E, M, P)
    capacity_mw: F64  # (E, M, P)
    soc: F64
    cf_soc: F64
    debt: F64
    dispatch: F64  # (E, G) MW
    cap_g: F64
    cap_c: F64
    cap_price: F64
    saving: F64  # (E, N) EUR against acting alone
    bill: F64  # (E, N) EUR bill alone
    r_members: F64  # (E, N) EUR
    profit: F64  # (E, G) EUR
    markup: F64  # (E, G) (price - cost) / cost of dispatched units
    net: F64  # (E, N) metered net import, MW
    info: F64  # (E, len(INFO_KEYS))


@njit(cache=True)
def reserve_phase(p, fp, bids, e, hour, prev_dispatch, res_q, res_p, award):
    """Reserve market: the fleet's and the coalition's offers against this hour's
    requirement (fills ``award`` (G + 1,) MW, the coalition last).

    Returns:
        (requirement MW, price EUR/MW per hour, shortfall MW); zeros when closed.
    """
    if not p.reserve_on:
        return 0.0, 0.0, 0.0
    g_n = award.shape[0] - 1
    rq = np.empty(g_n + 1)
    rp = np.empty(g_n + 1)
    fl.reserve_offers_row(fp, bids, e, prev_dispatch, rq, rp)
    rq[g_n] = res_q
    rp[g_n] = res_p
    requirement = p.res_share_load * hour.fc_load0[e] + p.res_share_ren * hour.fc_ren0[e]
    price, short = clear_reserve_row(rq, rp, requirement, p.res_scarcity, award)
    return requirement, price, short


@njit(cache=True)
def spot_phase(p, fp, bids, e, hour, prev_dispatch, award, q_spot, p_spot, dispatch, gen_cash):
    """Spot market: the fleet's tranches (less reserve awards), system renewables and the
    coalition's sale against the background demand blocks and the coalition's purchase.

    Fills ``dispatch`` and ``gen_cash`` (G,) (MW, EUR). Returns (price, buyers' price,
    unserved MW, renewables MW, their price, coalition sold MW, its price, background MW,
    coalition bought MW).
    """
    g_n, k_n, n_bg = dispatch.shape[0], bids.markup.shape[2], p.bg_shares.shape[0]
    n_s = g_n * (k_n + 1) + 2
    sq, spr = np.empty(n_s), np.empty(n_s)
    fl.energy_offers_row(fp, bids, e, prev_dispatch, award, p.floor, sq, spr)
    sq[n_s - 2], spr[n_s - 2] = hour.sys_ren[e], p.renew_offer
    sq[n_s - 1], spr[n_s - 1] = max(-q_spot, 0.0), p_spot
    dq, dpr = np.empty(n_bg + 1), np.empty(n_bg + 1)
    for b in range(n_bg):
        dq[b] = hour.sys_load[e] * p.bg_shares[b]
        dpr[b] = p.bg_prices[b]
    dq[n_bg], dpr[n_bg] = max(q_spot, 0.0), p_spot
    s_acc, s_paid, d_acc = np.empty(n_s), np.empty(n_s), np.empty(n_bg + 1)
    price, buyer, unserved = clear_spot_row(sq, spr, dq, dpr, p.floor, p.cap, p.pay_as_bid,
                                            s_acc, d_acc, s_paid)  # fmt: skip
    for g in range(g_n):
        d = 0.0
        gen_cash[g] = 0.0
        for k in range(k_n + 1):
            d += s_acc[g * (k_n + 1) + k]
            gen_cash[g] += s_acc[g * (k_n + 1) + k] * s_paid[g * (k_n + 1) + k]
        dispatch[g] = d
    bg_mw = 0.0
    for b in range(n_bg):
        bg_mw += d_acc[b]
    return (price, buyer, unserved, s_acc[n_s - 2], s_paid[n_s - 2], s_acc[n_s - 1],
            s_paid[n_s - 1], bg_mw, d_acc[n_bg])  # fmt: skip


@njit(cache=True)
def capacity_phase(p, fp, bids, e, hour, state, cap_q, cap_p, out):
    """Capacity auction in auction hours (the fleet's offers and the coalition's against
    the VRR curve); otherwise the commitments carry over. Writes ``out``'s capacity rows."""
    g_n = fp.capacity_mw.shape[0]
    if p.capacity_on and hour.auction:
        cq, cp = np.empty(g_n + 1), np.empty(g_n + 1)
        fl.capacity_offers_row(fp, bids, e, cq, cp)
        cq[g_n], cp[g_n] = cap_q, cap_p
        c_award = np.empty(g_n + 1)
        price, _ = clear_capacity_row(cq, cp, hour.cap_target[e], p.cap_cap, p.c_lower,
                                      p.c_upper, c_award)  # fmt: skip
        out.cap_g[e, :] = c_award[:g_n]
        out.cap_c[e] = c_award[g_n]
        out.cap_price[e] = price
    else:
        out.cap_g[e, :] = state.cap_award_g[e]
        out.cap_c[e] = state.cap_award_c[e]
        out.cap_price[e] = state.cap_price[e]


@njit(cache=True)
def accounting_phase(p, fp, e, hour, award, price, ren_mw, position, imports, own_ren,
                     consumption, bg_mw, out):  # fmt: skip
    """Emissions, CFE share, markups, Lerner and residual supply indices, welfare and the
    incumbents' profit (DESIGN §4's metrics) into ``out``."""
    info, cs = out.info[e], out.cash[e]
    total_gen, emis, clean, gen_cost = ren_mw, 0.0, ren_mw, 0.0
    mc_marg, ef_marg, cap_sum, max_cap = -np.inf, 0.0, 0.0, 0.0
    for g in range(fp.capacity_mw.shape[0]):
        ge = out.dispatch[e, g] + award[g] * hour.act[e]
        total_gen += ge
        emis += fp.emission_t_per_mwh[g] * ge
        gen_cost += fp.marginal_cost_eur_per_mwh[g] * ge
        if fp.emission_t_per_mwh[g] == 0.0:
            clean += ge
        market_cash = 0.0
        for m_ in range(cs.shape[0]):
            market_cash += cs[m_, g]
        out.profit[e, g] = market_cash - fp.marginal_cost_eur_per_mwh[g] * ge
        if out.dispatch[e, g] > 1e-6:
            mc = fp.marginal_cost_eur_per_mwh[g]
            out.markup[e, g] = (price - mc) / max(mc, 1.0)
            if mc > mc_marg:
                mc_marg, ef_marg = mc, fp.emission_t_per_mwh[g]
        else:
            out.markup[e, g] = 0.0
        cap_sum += fp.capacity_mw[g]
        max_cap = max(max_cap, fp.capacity_mw[g])
    if not np.isfinite(mc_marg):
        mc_marg = 0.0
    avg_ef = emis / max(total_gen, 1e-9)
    cfe_share = clean / max(total_gen, 1e-9)
    rsi_demand = max(hour.sys_load[e] + max(position, 0.0), 1e-9)
    info[I_EMIS] = emis
    info[I_COAL_EMIS] = imports * (ef_marg if p.emis_marginal else avg_ef)
    info[I_CFE] = min(
        1.0, (min(own_ren, consumption) + cfe_share * imports) / max(consumption, 1e-9)
    )
    info[I_LERNER] = (price - mc_marg) / max(price, 1e-9) if price > 0.0 else 0.0
    info[I_RSI] = (cap_sum - max_cap + hour.sys_ren[e]) / rsi_demand
    info[I_WELFARE] = bg_mw * p.cap - gen_cost


def _step_impl(p, fp, mp, codec, col, bids, hour, state, coal, memb, perms, out):
    """Advance E envs by one hour (the order of :meth:`envs.sim.core.MarketCore.step`)."""
    E, N = state.soc.shape
    G, A = fp.capacity_mw.shape[0], coal.shape[1]
    for e in prange(E):
        info, cs, en = out.info[e], out.cash[e], out.energy[e]
        # --- members' set-points, projected onto their limits
        a_b = np.full(N, coal[e, A - 2]) if p.drives else memb[e, :, 0]
        a_f = np.full(N, coal[e, A - 1]) if p.drives else memb[e, :, 1]
        batt, dis_max, flex = np.empty(N), np.empty(N), np.empty(N)
        projected = mb.set_points_row(a_b, a_f, state.soc[e], state.debt[e], mp, hour.payback,
                                      batt, dis_max, flex)  # fmt: skip
        # --- the coalition's bids; reserve, then spot (reserve held is not sold twice)
        q_spot, p_spot, res_q, res_p, cap_q, cap_p = decode_row(coal[e], codec)
        award = np.zeros(G + 1)
        req, res_price, res_short = reserve_phase(p, fp, bids, e, hour, state.prev_dispatch[e],
                                                  res_q, res_p, award)  # fmt: skip
        gen_cash = np.empty(G)
        price, buyer, unserved, ren_mw, ren_paid, sold, sold_paid, bg_mw, bought = spot_phase(
            p, fp, bids, e, hour, state.prev_dispatch[e], award, q_spot, p_spot,
            out.dispatch[e], gen_cash)  # fmt: skip
        # --- realisation: activation, metering, imbalance; capacity
        act_req = award[G] * hour.act[e]
        act_c, metered, curt_m, consumption, own_ren, discharge = mb.realise_row(
            batt, dis_max, flex, hour.load[e], hour.ren[e], state.soc[e], state.debt[e], mp,
            act_req, out.net[e], out.soc[e], out.debt[e])  # fmt: skip
        act_short = max(act_req - act_c, 0.0)
        position = bought - sold
        imbalance = metered - (position + hour.ppa[e] - act_c)
        capacity_phase(p, fp, bids, e, hour, state, cap_q, cap_p, out)
        scarce = price >= p.scarcity_share * p.cap or unserved > 1e-9 or res_short > 1e-9
        # --- settlement (DESIGN §7), allocation, counterfactual and rewards
        st.settle_spot(cs, en, col, out.dispatch[e], gen_cash, ren_mw, ren_paid, sold,
                       sold_paid, bought, buyer, bg_mw)  # fmt: skip
        st.settle_balancing(cs, en, col, award, hour.act[e], act_c, price)
        st.settle_imbalance(cs, en, col, imbalance, price, p.imb_spread, p.floor, p.cap)
        imports = max(metered, 0.0)
        cons_total = max(bg_mw + imports, 1e-12)
        bg_share, co_share = bg_mw / cons_total, imports / cons_total
        st.settle_reserve(cs, out.reserve_mw[e], col, award, res_price, act_short, p.pen_res,
                          co_share, bg_share)  # fmt: skip
        committed = st.settle_capacity(
            cs, out.capacity_mw[e], col, out.cap_g[e], out.cap_c[e], out.cap_price[e],
            out.dispatch[e], award, scarce, discharge, p.pen_perf, co_share, bg_share)  # fmt: skip
        st.settle_network_ppa(cs, en, col, out.net[e], p.network, p.taxes, p.discount,
                              hour.ppa[e], p.ppa_price)  # fmt: skip
        result = st.coalition_result(cs, col)
        # The bills alone are the allocation game's stand-alone values, so they come first.
        mb.counterfactual_row(hour.load[e], hour.ren[e], state.cf_soc[e], mp, hour.retail,
                              p.feed_in, out.cf_soc[e], out.bill[e])  # fmt: skip
        alloc, alloc_se = np.empty(N), np.empty(N)
        worse_off, _ = allocate_row(
            result, out.net[e], out.bill[e], mp.battery_mw + mp.flex_mw, price, p.network,
            p.taxes, p.discount, p.alloc_rule, p.ir_floor, perms, alloc, alloc_se)  # fmt: skip
        st.settle_allocation(cs, en, col, result, metered, alloc, out.net[e])
        saving_sum, bill_sum = mb.rewards_row(out.bill[e], alloc, p.reward_mode, p.reward_mix,
                                              out.saving[e], out.r_members[e])  # fmt: skip
        # --- accounting
        accounting_phase(p, fp, e, hour, award, price, ren_mw, position, imports, own_ren,
                         consumption, bg_mw, out)  # fmt: skip
        info[I_PRICE], info[I_RES_PRICE], info[I_CAP_PRICE] = price, res_price, out.cap_price[e]
        info[I_REQ], info[I_RES_SHORT], info[I_UNSERVED] = req, res_short, unserved
        info[I_CURT] = (hour.sys_ren[e] - ren_mw) + curt_m
        info[I_SCARCITY] = 1.0 if scarce else 0.0
        info[I_POSITION], info[I_METERED], info[I_IMBALANCE] = position, metered, imbalance
        info[I_ACT], info[I_NOT_DELIVERED] = hour.act[e], act_short
        info[I_SAVING], info[I_CF_BILL], info[I_RESULT] = saving_sum, bill_sum, result
        info[I_PROJECTED], info[I_CAP_COMMITTED] = projected, committed
        info[I_WORSE_OFF], info[I_ALLOC_SE] = worse_off, alloc_se.max()


def compiled(py_func, name: str, parallel: bool):
    """Compile ``py_func`` under its own name: numba's on-disk cache is keyed by the
    function's qualified name and line, not by ``parallel``, so a serial and a parallel
    build of one function would overwrite each other's cache entries."""
    fn = types.FunctionType(py_func.__code__, py_func.__globals__, name, py_func.__defaults__)
    fn.__qualname__ = name
    return njit(cache=True, parallel=parallel)(fn)


def _rules_digest() -> str:
    """A digest of the source of every module whose compiled rules the step calls.

    numba's disk cache of a function is invalidated only when the function's own file
    changes; the step's compiled code also holds the phases of other modules (inlined),
    so an edit there would leave a stale step in the cache. Naming the step after this
    digest makes such an edit compile a new step.
    """
    names = ("envs.actors.fleet", "envs.actors.members", "envs.actors.coalition",
             "envs.market.settlement", "envs.market.allocation", "envs.market.capacity",
             "envs.market.reserve", "envs.market.spot")  # fmt: skip
    h = hashlib.sha256()
    for name in names:
        h.update(Path(sys.modules[name].__file__).read_bytes())
    return h.hexdigest()[:12]


_DIGEST = _rules_digest()
step_serial = compiled(_step_impl, f"step_serial_{_DIGEST}", parallel=False)
step_parallel = compiled(_step_impl, f"step_parallel_{_DIGEST}", parallel=True)


class CompiledStep:
    """The compiled step of one core, called without numba's per-call type dispatch.

    Working out the numba types of a dozen records costs ~20 us a call, most of a step
    at E = 1 (DESIGN §6). The types of one core's arguments never change: every array
    it passes is a C-contiguous float64 (int64 for permutations) array of fixed rank and
    every scalar has a fixed type. So the first call dispatches as usual and keeps the
    compiled entry point of that signature; later calls go straight to it.
    With ``check_types`` set (tests do), every call recomputes the types and raises if
    they differ from the first call's.
    """

    check_types = False

    def __init__(self, parallel: bool) -> None:
        self.fn = step_parallel if parallel else step_serial
        self.sig: tuple | None = None
        self._entry = None

    def signature(self, *args: object) -> tuple:
        """The numba types of ``args``."""
        return tuple(self.fn.typeof_pyval(a) for a in args)

    def __call__(self, *args: object) -> None:
        if self._entry is None:
            self.fn(*args)
            self.sig = self.signature(*args)
            self._entry = self.fn.overloads[self.sig].entry_point
        else:
            if self.check_types and self.signature(*args) != self.sig:
                raise TypeError(f"the step's argument types changed: {self.signature(*args)}")
            self._entry(*args)
