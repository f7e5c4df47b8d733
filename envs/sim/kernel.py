"""The compiled step of :class:`envs.sim.core.MarketCore`: one hour for E envs (numba).

Why compiled: at E = 1 a numpy step is ~300 calls of ~1.5 us of call overhead each
(DESIGN §6), and at E = 1024 it streams many temporaries through memory. The step is a
page of calls to named phases; each rule is a compiled function of one env in the
module of the rule it states (:mod:`envs.actors.members`, :mod:`envs.actors.coalition`,
:mod:`envs.actors.fleet`, :mod:`envs.market`), and the public ``envs.market`` API wraps
the same functions. Parameters travel as named records (:class:`StepParams`,
:class:`Hour`, :class:`State`, :class:`Outputs` and the actors' records); the per-env
figures it reports are the columns of :mod:`envs.sim.info`, declared there once by name.

Dims: E envs, G generators, K tranches, N members, B background demand blocks,
M markets, P participants (column layout of :class:`envs.market.settlement.Columns`).
"""

from __future__ import annotations

import hashlib
import sys
import types
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

from envs.actors import fleet as fl
from envs.actors import members as mb
from envs.actors.coalition import decode_row
from envs.market import metrics as mt
from envs.market import settlement as st
from envs.market.allocation import ALLOCATION_RULES, allocate_row
from envs.market.billing import settle_period_row
from envs.market.capacity import clear_capacity_row, mopr_row, vrr_curve_of_row
from envs.sim import clearing as cl
from envs.sim import info as ic
from envs.sim.info import COALITION_INFO_KEYS, INFO_KEYS, PUBLIC_INFO_KEYS

F64 = NDArray[np.float64]
REWARD_MODES = mb.REWARD_MODES
__all__ = ["ALLOCATION_RULES", "COALITION_INFO_KEYS", "INFO_KEYS", "PUBLIC_INFO_KEYS",
           "REWARD_MODES", "Hour", "Outputs", "State", "StepParams", "step_parallel",
           "step_serial"]  # fmt: skip


class StepParams(NamedTuple):
    """A scenario's constants for the step that no market owns (prices EUR/MWh unless the
    name says otherwise): the tariff, the share-out, the background's bids and the books'
    layout. Each market's constants are its own record, built from its config section by
    its module: :class:`envs.market.spot.SpotRules`, :class:`envs.market.reserve.ReserveRules`,
    :class:`envs.market.capacity.CapacityRules`, :class:`envs.market.balancing.BalancingRules`."""

    renewables_offer_eur_per_mwh: float  # system renewables' offer price
    scarcity_share_of_cap: float  # an hour priced at this share of the cap counts as scarce
    network_eur_per_mwh: float  # network charge on members' imports
    taxes_eur_per_mwh: float
    community_discount_share: float  # community discount on netted network charges
    ppa_price_eur_per_mwh: float
    feed_in_eur_per_mwh: float  # feed-in tariff of the counterfactual
    reward_mean_weight: float  # weight of the members' mean saving in a ``mix`` reward
    retail_dynamic: bool  # the counterfactual's energy part passes the spot price through
    retail_adder_eur_per_mwh: float  # ... plus this (margin, network and taxes)
    drives_members: bool  # the coalition sets its members' batteries and flex
    allocation_rule: int  # index into ALLOCATION_RULES
    ir_true_up: bool  # true-up members below their saving alone over the billing period
    reward_mode: int  # index into REWARD_MODES
    marginal_emissions: bool  # coalition emissions at the marginal unit's factor
    background_block_shares: F64  # (B,) background demand split into blocks
    background_bid_eur_per_mwh: F64  # (B,) their bid prices
    supply_block_unit: NDArray[np.int64]  # (S,) unit of each energy supply block, -1: none
    reserve_offer_unit: NDArray[np.int64]  # (G + 1,) unit of each reserve offer (coalition: -1)


class Hour(NamedTuple):
    """This hour's exogenous data, (E,) or (E, N)."""

    load_mw: F64  # (E, N) members' actual load, MW
    ren_mw: F64  # (E, N) members' actual renewables, MW
    sys_load_mw: F64  # background load, MW (actual)
    sys_ren_mw: F64  # system renewables available, MW (actual)
    fc_load_mw: F64  # this hour's forecast background load (bid day-ahead; sets the reserve
    fc_ren_mw: F64  # requirement) and system renewables (offered day-ahead)
    price_fc_eur_per_mwh: F64  # the energy price sequential reserve bidders expect (last hour's)
    ppa_mw: F64  # PPA delivery, MW
    cap_target_mw: F64  # capacity requirement (auction hours), MW
    cap_obligation_mw: F64  # the coalition's capacity obligation (auction hours), MW
    retail_eur_per_mwh: float  # the counterfactual's retail price this hour
    auction: bool  # the capacity auction clears this hour
    payback: bool  # last hour of the day: flex debt is repaid
    bill_end: bool  # last hour of a billing period or of the episode: members are billed


class State(NamedTuple):
    """The state the step reads (never writes)."""

    soc_mwh: F64  # (E, N) MWh
    cf_soc_mwh: F64  # (E, N) the counterfactual battery, MWh
    debt_mwh: F64  # (E, N) flex debt, MWh
    prev_dispatch_mw: F64  # (E, G) MW
    cap_award_g_mw: F64  # (E, G) capacity committed, MW
    cap_award_c_mw: F64  # (E,)
    cap_price_eur_per_mw_day: F64  # (E,) EUR/MW-day
    cap_charge_eur: F64  # (E, G + 1) non-performance charges so far (coalition last), EUR
    period_saving_eur: F64  # (E, N) each member's saving so far this billing period, EUR


class Outputs(NamedTuple):
    """What the step writes: the next state, flows, rewards and accounting.

    The four flow arrays have one (M, P) row per env when a ledger is kept (``F = E``),
    else one per block of envs (``F < E``, a few per thread): env ``e`` then settles in its
    block's row, which stays in cache, and no (E, M, P) flows are written."""

    cash_eur: F64  # (F, M, P) EUR
    energy_mwh: F64  # (F, M, P) MWh
    reserve_mw: F64  # (F, M, P)
    capacity_mw: F64  # (F, M, P)
    soc_mwh: F64
    cf_soc_mwh: F64
    debt_mwh: F64
    dispatch_mw: F64  # (E, G) MW
    cap_g_mw: F64
    cap_c_mw: F64
    cap_price_eur_per_mw_day: F64
    cap_charge_eur: F64  # (E, G + 1) EUR
    period_saving_eur: F64  # (E, N) EUR, 0 after a billing period's last hour
    saving_eur: F64  # (E, N) EUR against acting alone
    bill_eur: F64  # (E, N) EUR bill alone
    r_members_eur: F64  # (E, N) EUR
    profit_eur: F64  # (E, G) EUR
    markup_eur_per_mwh: F64  # (E, G) each unit's offer markup over marginal cost on what it sold
    net_mw: F64  # (E, N) metered net import, MW
    info: F64  # (E, len(INFO_KEYS)) the columns of envs.sim.info.INFO_COLUMNS


@njit(cache=True)
def capacity_phase(cr, fp, bids, codec, e, hour, state, cap_q, cap_p, out):
    """Capacity auction in auction hours (the fleet's offers and the coalition's against
    the VRR curve); otherwise the commitments carry over. Writes ``out``'s capacity rows
    and the info ``capacity_offer_mitigated`` (1 where the MOPR floor raised the coalition's
    offer, :func:`envs.market.capacity.mopr_row`). Runs before the day-ahead, whose
    must-offer reads the commitments in force this hour."""
    g_n = fp.capacity_mw.shape[0]
    out.info[e, ic.I_CAP_MOPR] = 0.0
    if cr.on and hour.auction:
        cq, cp = np.empty(g_n + 1), np.empty(g_n + 1)
        fl.capacity_offers_row(fp, bids, e, cq, cp)
        # Buyer-side mitigation (PJM OATT Attachment DD §5.14(h)): a net-short coalition
        # offers at no less than the floor.
        cp_c, raised = mopr_row(
            cap_q, cap_p, hour.cap_obligation_mw[e], codec.capacity_floor_eur_per_mw_day
        )
        out.info[e, ic.I_CAP_MOPR] = raised
        cq[g_n], cp[g_n] = cap_q, cp_c
        c_award = np.empty(g_n + 1)
        curve = vrr_curve_of_row(cr.vrr_curve)
        price, _ = clear_capacity_row(cq, cp, hour.cap_target_mw[e], curve, c_award)
        out.cap_g_mw[e, :] = c_award[:g_n]
        out.cap_c_mw[e] = c_award[g_n]
        out.cap_price_eur_per_mw_day[e] = price
    else:
        out.cap_g_mw[e, :] = state.cap_award_g_mw[e]
        out.cap_c_mw[e] = state.cap_award_c_mw[e]
        out.cap_price_eur_per_mw_day[e] = state.cap_price_eur_per_mw_day[e]


# The step's own phases below are inlined into it (numba IR): no record is passed by call.
@njit(cache=True, inline="always")
def day_ahead_trades(p, s_acc, s_paid, d_acc, k_n, da, gen_cash):
    """What the day-ahead traded, from the accepted supply blocks ``s_acc`` (S,) MW, the
    price paid to each ``s_paid`` (S,) EUR/MWh and the accepted demand ``d_acc`` (B + 1,)
    MW: each unit's energy ``da`` (G,) MW and cash ``gen_cash`` (G,) EUR over its
    ``k_n + 1`` tranches.

    Returns:
        (system renewables sold MW, their price EUR/MWh, the coalition's sale MW, its
        price EUR/MWh, the coalition's purchase MW, the background's purchase MW).
    """
    s_n, n_bg = s_acc.shape[0], p.background_block_shares.shape[0]
    for g in range(da.shape[0]):
        d, c_ = 0.0, 0.0
        for k in range(k_n + 1):
            d += s_acc[g * (k_n + 1) + k]
            c_ += s_acc[g * (k_n + 1) + k] * s_paid[g * (k_n + 1) + k]
        da[g], gen_cash[g] = d, c_
    bg_mw = 0.0
    for b in range(n_bg):
        bg_mw += d_acc[b]
    return (s_acc[s_n - 2], s_paid[s_n - 2], s_acc[s_n - 1], s_paid[s_n - 1], d_acc[n_bg],
            bg_mw)  # fmt: skip


@njit(cache=True, inline="always")
def shed_imports_row(net, shed, bg_demand):
    """Split the load shed in real time ``shed`` MW over the background's demand
    ``bg_demand`` MW and the members' gross imports (:func:`envs.sim.clearing.shed_pro_rata`)
    and cut each importing member's metered net import ``net`` (N,) MW pro rata, in place.

    Returns:
        (shed from the background, shed from the members' imports), MW.
    """
    gross_in = 0.0  # the members' gross imports, MW (what shedding can reach)
    for i in range(net.shape[0]):
        gross_in += max(net[i], 0.0)
    shed_bg, shed_m = cl.shed_pro_rata(shed, bg_demand, gross_in)
    if shed_m > 0.0:  # (shed_m > 0: imports)
        keep = 1.0 - shed_m / gross_in
        for i in range(net.shape[0]):
            if net[i] > 0.0:
                net[i] *= keep
    return shed_bg, shed_m


@njit(cache=True, inline="always")
def allocation_phase(p, mp, perms, e, hour, state, col, cs, en, result, metered, price,
                     backed, backing, out):  # fmt: skip
    """The coalition's ``result`` (EUR) to its members: their bills alone (the allocation
    game's stand-alone values, so first), the allocation (:mod:`envs.market.allocation`;
    ``backed`` EUR goes to the batteries that back the reserve, by ``backing`` (N,) MW),
    the billing period's true-up (:mod:`envs.market.billing`), the members' flows and
    their rewards into ``out``; writes the members' infos."""
    n = out.bill_eur.shape[1]
    retail = price + p.retail_adder_eur_per_mwh if p.retail_dynamic else hour.retail_eur_per_mwh
    mb.counterfactual_row(hour.load_mw[e], hour.ren_mw[e], state.cf_soc_mwh[e], mp, retail,
                          p.feed_in_eur_per_mwh, out.cf_soc_mwh[e], out.bill_eur[e])  # fmt: skip
    alloc, alloc_se = np.empty(n), np.empty(n)
    # Individual rationality is the bill's (envs.market.billing): no hourly floor, the
    # period's true-up in its last hour; the hourly floor is its one-hour case.
    allocate_row(result, out.net_mw[e], out.bill_eur[e], mp.battery_mw + mp.flex_mw, backed,
                 backing, price, p.network_eur_per_mwh, p.taxes_eur_per_mwh,
                 p.community_discount_share, p.allocation_rule, False, perms, alloc,
                 alloc_se)  # fmt: skip
    worse_off, _ = settle_period_row(state.period_saving_eur[e], out.bill_eur[e], alloc,
                                     hour.bill_end, p.ir_true_up,
                                     out.period_saving_eur[e])  # fmt: skip
    st.settle_allocation(cs, en, col, result, metered, alloc, out.net_mw[e])
    saving_sum, bill_sum = mb.rewards_row(out.bill_eur[e], alloc, p.reward_mode,
                                          p.reward_mean_weight, out.saving_eur[e],
                                          out.r_members_eur[e])  # fmt: skip
    info = out.info[e]
    info[ic.I_SAVING], info[ic.I_CF_BILL] = saving_sum, bill_sum
    info[ic.I_WORSE_OFF], info[ic.I_ALLOC_SE] = worse_off, alloc_se.max()


@njit(cache=True)
def accounting_phase(p, sr, fp, e, hour, sp, s_acc, price, ren_mw, imports, own_ren,
                     consumption, demand, bg_mw, cs, out):  # fmt: skip
    """Emissions, CFE share, market-power indices at the price-setting offer
    (:func:`envs.market.metrics.market_power_row`), each unit's offer markup, generation,
    welfare and the incumbents' profit (DESIGN §3 step 7) into ``out``; ``cs`` (M, P) is
    the env's cash flows."""
    info = out.info[e]
    floor, cap = sr.price_floor_eur_per_mwh, sr.price_cap_eur_per_mwh
    g_n = fp.capacity_mw.shape[0]
    k_n = (p.supply_block_unit.shape[0] - 2) // g_n - 1
    total_gen, emis, clean, gen_cost, gen = ren_mw, 0.0, ren_mw, 0.0, 0.0
    for g in range(g_n):
        ge = out.dispatch_mw[e, g]  # physical output: day-ahead dispatch + balancing
        total_gen += ge
        gen += ge
        emis += fp.emission_t_per_mwh[g] * ge
        gen_cost += fp.marginal_cost_eur_per_mwh[g] * ge
        if fp.emission_t_per_mwh[g] == 0.0:
            clean += ge
        market_cash = 0.0
        for m_ in range(cs.shape[0]):
            market_cash += cs[m_, g]
        out.profit_eur[e, g] = market_cash - fp.marginal_cost_eur_per_mwh[g] * ge
    bp = np.empty(sp.shape[0])
    for j in range(sp.shape[0]):
        bp[j] = min(max(sp[j], floor), cap)
    mc = fp.marginal_cost_eur_per_mwh
    for g in range(g_n):  # the unit's own offer markup on what it sold (not its rent)
        num, den = 0.0, 0.0
        for k in range(k_n + 1):
            j = g * (k_n + 1) + k
            num += s_acc[j] * max(bp[j] - mc[g], 0.0)
            den += s_acc[j] * mc[g]
        out.markup_eur_per_mwh[e, g] = num / den if den > 1e-9 else 0.0
    mp_out = np.empty(mt.N_OUT)
    mt.market_power_row(price, bp, s_acc, p.supply_block_unit, mc, fp.capacity_mw, demand,
                        hour.fc_ren_mw[e], mp_out)  # fmt: skip
    # The marginal unit's emission factor: the costliest unit with output.
    mc_marg, ef_marg = -np.inf, 0.0
    for g in range(g_n):
        if out.dispatch_mw[e, g] > 1e-6 and mc[g] > mc_marg:
            mc_marg, ef_marg = mc[g], fp.emission_t_per_mwh[g]
    avg_ef = emis / max(total_gen, 1e-9)
    cfe_share = clean / max(total_gen, 1e-9)
    info[ic.I_EMIS], info[ic.I_GEN] = emis, gen
    info[ic.I_COAL_EMIS] = imports * (ef_marg if p.marginal_emissions else avg_ef)
    info[ic.I_CFE] = min(
        1.0, (min(own_ren, consumption) + cfe_share * imports) / max(consumption, 1e-9)
    )
    info[ic.I_LERNER], info[ic.I_RSI] = mp_out[mt.I_LERNER], mp_out[mt.I_RSI]
    info[ic.I_MARKUP_SET] = mp_out[mt.I_MARKUP_SETTER]
    info[ic.I_MARKUP_EW] = mp_out[mt.I_MARKUP_EW]
    info[ic.I_PIVOTAL], info[ic.I_HHI] = mp_out[mt.I_PIVOTAL], mp_out[mt.I_HHI]
    info[ic.I_WELFARE] = bg_mw * cap - gen_cost


@njit(cache=True)
def competitive_phase(p, sr, rr, fp, bids, e, hour, prev, ulim, sq, sp, award, q_spot, p_spot,
                      price):  # fmt: skip
    """The price's markup over the competitive benchmark this hour
    (:func:`envs.market.metrics.markup_over_competitive`): the day-ahead energy market
    cleared again with every unit offering ``min(capacity, prev + ramp)`` less its
    reserve ``award`` (G + 1,) at marginal cost, its must-run part at the floor as
    :func:`envs.actors.fleet.energy_offers_row` does; the same demand bids
    (:func:`envs.sim.clearing.demand_bids_row`) and other sellers. Under co-optimisation
    the price compared is the same energy-only rerun of the units' real offers, within
    their shared limits ``ulim`` (G,) (withholding and must-offer included; the module
    docstring of :mod:`envs.market.metrics` says why). An hour where every unit already
    offers all it has at cost is its own benchmark: 0, no rerun."""
    g_n, n_bg = fp.capacity_mw.shape[0], p.background_block_shares.shape[0]
    k_n = (p.supply_block_unit.shape[0] - 2) // g_n - 1
    floor, cap = sr.price_floor_eur_per_mwh, sr.price_cap_eur_per_mwh
    mc = fp.marginal_cost_eur_per_mwh
    competitive_book = True  # every unit offers all it has at cost: the rerun is the book
    for g in range(g_n):
        competitive_book &= bids.withhold[e, g] == 0.0
        for k in range(1, k_n + 1):
            competitive_book &= sp[g * (k_n + 1) + k] == mc[g]
    if competitive_book:
        return 0.0
    must, avail, offered = np.empty(g_n), np.empty(g_n), np.empty(g_n)
    for g in range(g_n):
        avail[g] = max(min(fp.capacity_mw[g], prev[g] + fp.ramp_mw_per_h[g]) - award[g], 0.0)
        offered[g] = max(ulim[g] - award[g], 0.0)
        must[g] = max(fp.min_output_mw[g], prev[g] - fp.ramp_mw_per_h[g])
    dq, dp = np.empty(n_bg + 1), np.empty(n_bg + 1)
    cl.demand_bids_row(p, hour, e, q_spot, p_spot, dq, dp)
    competitive = mt.rerun_price_row(sq, sp, k_n, must, avail, mc, True, dq, dp, floor, cap)
    if rr.on and rr.cooptimised:
        price = mt.rerun_price_row(sq, sp, k_n, must, offered, mc, False, dq, dp, floor, cap)
    return mt.markup_over_competitive(price, competitive)


def _step_impl(p, sr, rr, cr, br, fp, mp, codec, col, bids, hour, state, coal, memb, perms,
               out):  # fmt: skip
    """Advance E envs by one hour (the order of :meth:`envs.sim.core.MarketCore.step`).

    The envs run in F blocks, one per row of the flow arrays (:class:`Outputs`): block
    ``w`` steps envs ``[w E / F, (w + 1) E / F)`` and settles them in flow row ``w``. With
    a ledger F = E (one env a block, its own row). The loop body is a call: numba's
    parallel lowering would otherwise hoist loop-invariant record fields (a named tuple of
    floats) into gufunc arguments it cannot pass."""
    n_env, n_rows = state.soc_mwh.shape[0], out.cash_eur.shape[0]
    for w in prange(n_rows):
        env_block(p, sr, rr, cr, br, fp, mp, codec, col, bids, hour, state, coal, memb, perms, out,
                  w * n_env // n_rows, (w + 1) * n_env // n_rows, w)  # fmt: skip


def _env_block_impl(p, sr, rr, cr, br, fp, mp, codec, col, bids, hour, state, coal, memb, perms,
                    out, lo, hi, f):  # fmt: skip
    """Step envs ``lo`` to ``hi - 1`` in turn, each settling in flow row ``f``. Every entry
    the step writes it writes every step, for every env (entries it never writes stay 0),
    so a row shared by a block needs no clearing between its envs."""
    for e in range(lo, hi):
        env_step(p, sr, rr, cr, br, fp, mp, codec, col, bids, hour, state, coal, memb, perms, out,
                 e, f)  # fmt: skip


def _env_step_impl(p, sr, rr, cr, br, fp, mp, codec, col, bids, hour, state, coal, memb, perms,
                   out, e, f):  # fmt: skip
    """Advance env ``e`` by one hour, settling in flow row ``f``: the step's page of phases;
    each writes the info columns (:mod:`envs.sim.info`) of what it computes. ``sr``, ``rr``,
    ``cr``, ``br``: the spot, reserve, capacity and balancing markets' rules (one record per
    market, built by its module; ``p`` holds what no market owns)."""
    N, G = state.soc_mwh.shape[1], fp.capacity_mw.shape[0]
    A, K, S = coal.shape[1], bids.markup.shape[2], p.supply_block_unit.shape[0]
    info, cs, en = out.info[e], out.cash_eur[f], out.energy_mwh[f]
    # --- members' set-points, projected onto their limits
    a_b = np.full(N, coal[e, A - 2]) if p.drives_members else memb[e, :, 0]
    a_f = np.full(N, coal[e, A - 1]) if p.drives_members else memb[e, :, 1]
    batt, dis_max, flex = np.empty(N), np.empty(N), np.empty(N)
    info[ic.I_PROJECTED] = mb.set_points_row(a_b, a_f, state.soc_mwh[e], state.debt_mwh[e], mp,
                                             hour.payback, batt, dis_max, flex)  # fmt: skip
    # --- day-ahead: the coalition's bids; energy and reserve (envs.sim.clearing)
    q_spot, p_spot, res_q, res_p, cap_q, cap_p = decode_row(coal[e], codec)
    # The capacity auction (years ahead in PJM) clears first: the day-ahead's must-offer
    # binds the commitments in force this hour.
    capacity_phase(cr, fp, bids, codec, e, hour, state, cap_q, cap_p, out)
    sq, sp, s_acc, s_paid = np.empty(S), np.empty(S), np.empty(S), np.empty(S)
    ulim, award, d_acc = np.empty(G), np.empty(G + 1), np.empty(p.background_block_shares.size + 1)
    # MW, EUR, MW; EUR/MW per hour paid to each reserve award
    da, gen_cash, a_g, r_paid = np.empty(G), np.empty(G), np.empty(G), np.empty(G + 1)
    price, buyer, unserved_da, res_price, res_short, req = cl.day_ahead_phase(
        p, sr, rr, fp, bids, e, hour, state.prev_dispatch_mw[e], out.cap_g_mw[e], q_spot,
        p_spot, res_q, res_p, sq, sp, s_acc, s_paid, ulim, award, r_paid, d_acc)  # fmt: skip
    info[ic.I_PRICE], info[ic.I_RES_PRICE], info[ic.I_REQ] = price, res_price, req
    info[ic.I_RES_SHORT], info[ic.I_CAP_PRICE] = res_short, out.cap_price_eur_per_mw_day[e]
    ren_acc, ren_paid, sold, sold_paid, bought, bg_mw = day_ahead_trades(
        p, s_acc, s_paid, d_acc, K, da, gen_cash)  # fmt: skip
    # --- real time: the coalition's reserve is called, members are metered, the
    # system's imbalance is balanced in merit order
    act = cl.activation_share(hour, e, ren_acc, award)
    act_req = award[G] * act
    act_c, metered, curt_m, consumption, own_ren, discharge = mb.realise_row(
        batt, dis_max, flex, hour.load_mw[e], hour.ren_mw[e], state.soc_mwh[e],
        state.debt_mwh[e], mp, act_req, out.net_mw[e], out.soc_mwh[e],
        out.debt_mwh[e])  # fmt: skip
    act_short = max(act_req - act_c, 0.0)
    position = bought - sold
    imbalance = metered - (position + hour.ppa_mw[e] - act_c)
    imb_price, system, shed, excess, ren_bal, ren_del, ren_dev, bg_demand, adder = (
        cl.real_time_phase(p, sr, rr, br, fp, e, hour, sq, sp, s_acc, ulim, award, K, price,
                           act_c, imbalance, da, bg_mw, unserved_da, req, a_g))  # fmt: skip
    for g in range(G):
        out.dispatch_mw[e, g] = da[g] + a_g[g]
    # The members' imports are shed pro rata too.
    shed_bg, shed_m = shed_imports_row(out.net_mw[e], shed, bg_demand)
    metered, imbalance = metered - shed_m, imbalance - shed_m
    unserved, bg_cons = shed_bg + shed_m, bg_demand - shed_bg
    scarce = (price >= p.scarcity_share_of_cap * sr.price_cap_eur_per_mwh or unserved > 1e-9
              or res_short > 1e-9)  # fmt: skip
    info[ic.I_UNSERVED], info[ic.I_SHED] = unserved, unserved
    info[ic.I_RESTORED] = max(unserved_da - shed_bg, 0.0)
    info[ic.I_SCARCITY] = 1.0 if scarce else 0.0
    info[ic.I_POSITION], info[ic.I_METERED], info[ic.I_IMBALANCE] = position, metered, imbalance
    info[ic.I_ACT], info[ic.I_NOT_DELIVERED] = act, act_short
    info[ic.I_IMB_PRICE], info[ic.I_SYS_IMB], info[ic.I_ORDC] = imb_price, system, adder
    info[ic.I_CURT] = (hour.sys_ren_mw[e] - ren_del) + curt_m
    info[ic.I_REN_DEL], info[ic.I_BG_CONS], info[ic.I_EXCESS] = ren_del, bg_cons, excess
    info[ic.I_PPA] = hour.ppa_mw[e]
    # --- settlement (DESIGN §7)
    st.settle_spot(cs, en, col, da, gen_cash, ren_acc, ren_paid, sold, sold_paid, bought,
                   buyer, bg_mw)  # fmt: skip
    st.settle_balancing(cs, en, col, a_g, ren_bal, act_c, imb_price)
    short_price, long_price = st.imbalance_prices(imb_price, price, br.dual_pricing)
    st.settle_imbalance(cs, en, col, imbalance, shed_m, bg_cons - bg_mw, ren_dev, short_price,
                        long_price)  # fmt: skip
    imports = max(metered, 0.0)
    co_share, bg_share = st.consumer_shares(bg_cons, imports)
    provided = st.settle_reserve(cs, out.reserve_mw[f], col, award, r_paid, act_short,
                                 rr.penalty_eur_per_mwh, co_share, bg_share)  # fmt: skip
    # Capacity Performance: the coalition delivers its members' PV and wind, battery
    # discharge (activation included) and the reserve it holds but was not asked for.
    perf_c = own_ren + discharge + max(award[G] - act_c, 0.0)
    info[ic.I_CAP_COMMITTED] = st.settle_capacity(
        cs, out.capacity_mw[f], col, out.cap_g_mw[e], out.cap_c_mw[e],
        out.cap_price_eur_per_mw_day[e], out.dispatch_mw[e], a_g, award, scarce, perf_c,
        bg_cons + consumption, req, cr.non_performance_eur_per_mwh, cr.stop_loss_eur_per_mw,
        state.cap_charge_eur[e], out.cap_charge_eur[e], co_share, bg_share)  # fmt: skip
    st.settle_network_ppa(cs, en, col, out.net_mw[e], p.network_eur_per_mwh, p.taxes_eur_per_mwh,
                          p.community_discount_share, hour.ppa_mw[e],
                          p.ppa_price_eur_per_mwh)  # fmt: skip
    result = st.coalition_result(cs, col)
    info[ic.I_RESULT], info[ic.I_COAL_CAP] = result, cs[st.M_CAPACITY, col.coalition]
    # --- the result to the members. The reserve goes to the batteries that back it, by
    # headroom (realise_row's activation key): what it earned as a provider, plus its
    # activation's balancing price over spot.
    allocation_phase(p, mp, perms, e, hour, state, col, cs, en, result, metered, price,
                     provided + act_c * (imb_price - price), np.maximum(batt + dis_max, 0.0),
                     out)  # fmt: skip
    # --- accounting
    accounting_phase(p, sr, fp, e, hour, sp, s_acc, price, ren_del, imports, own_ren,
                     consumption, hour.fc_load_mw[e] + max(q_spot, 0.0), bg_cons,
                     cs, out)  # fmt: skip
    info[ic.I_MARKUP_COMP] = competitive_phase(
        p, sr, rr, fp, bids, e, hour, state.prev_dispatch_mw[e], ulim, sq, sp, award, q_spot,
        p_spot, price)  # fmt: skip


def compiled(py_func, name: str, parallel: bool, inline: Literal["never", "always"] = "never",
             **calls):  # fmt: skip
    """Compile ``py_func`` under its own name: numba's on-disk cache is keyed by the
    function's qualified name and line, not by ``parallel``, so a serial and a parallel
    build of one function would overwrite each other's cache entries. ``calls`` rebinds
    the globals it calls (``env_block=...``) for this build only."""
    glb = {**py_func.__globals__, **calls} if calls else py_func.__globals__
    fn = types.FunctionType(py_func.__code__, glb, name, py_func.__defaults__)
    fn.__qualname__ = name
    return njit(cache=True, parallel=parallel, inline=inline)(fn)


def _rules_digest() -> str:
    """A digest of the source of every module whose compiled rules the step calls.

    numba's disk cache of a function is invalidated only when the function's own file
    changes; the step's compiled code also holds the phases of other modules (inlined),
    so an edit there would leave a stale step in the cache. Naming the step after this
    digest makes such an edit compile a new step.
    """
    names = ("envs.actors.fleet", "envs.actors.members", "envs.actors.coalition",
             "envs.market.settlement", "envs.market.allocation", "envs.market.billing",
             "envs.market.capacity",
             "envs.market.reserve", "envs.market.spot", "envs.market.balancing",
             "envs.market.cooptimise", "envs.market.joint_flow", "envs.market.metrics",
             "envs.market.rationing", "envs.sim.info",
             "envs.sim.clearing")  # fmt: skip
    h = hashlib.sha256()
    for name in names:
        source = sys.modules[name].__file__
        assert source is not None  # plain source modules, never namespace packages
        h.update(Path(source).read_bytes())
    return h.hexdigest()[:12]


_DIGEST = _rules_digest()
env_step = compiled(_env_step_impl, f"env_step_{_DIGEST}", parallel=False)
env_block = compiled(_env_block_impl, f"env_block_{_DIGEST}", parallel=False)
step_parallel = compiled(_step_impl, f"step_parallel_{_DIGEST}", parallel=True)
# The serial step (E < 64; the tariff's rehearsal in envs.make) is one function: numba
# re-optimises and emits all a function calls, so each call level compiles the step again.
_env_step_inline = compiled(_env_step_impl, f"env_step_inline_{_DIGEST}", parallel=False,
                            inline="always")  # fmt: skip
_env_block_inline = compiled(_env_block_impl, f"env_block_inline_{_DIGEST}", parallel=False,
                             inline="always", env_step=_env_step_inline)  # fmt: skip
step_serial = compiled(_step_impl, f"step_serial_{_DIGEST}", parallel=False,
                       env_block=_env_block_inline)  # fmt: skip


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
