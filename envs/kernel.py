"""The compiled step of :class:`envs.core.MarketCore`: one hour for E envs (numba).

Why compiled: at E = 1 a numpy step is ~300 calls of ~1.5 us of call overhead each
(DESIGN §6), and at E = 1024 it streams many temporaries through memory. This kernel
runs the same rules as scalar loops per env (``prange`` over envs for large batches),
with no Python in between. The market rules are the ones of :mod:`envs.market`: the
clearing helpers in :mod:`envs.kernel_clearing` are the scalar forms of
:func:`~envs.market.clear_spot`, :func:`~envs.market.clear_reserve`,
:func:`~envs.market.clear_capacity` and :func:`~envs.market.allocate`, and
``tests/test_kernel.py`` pins each pair together on random inputs.

Dims: E envs, G generators, K tranches, N members, B background demand blocks,
M markets, P participants (column layout of :class:`envs.market.settlement.Columns`).
"""

from __future__ import annotations

import types

import numpy as np
from numba import njit, prange

from envs.kernel_clearing import _allocate, _capacity, _reserve, _spot
from envs.market import settlement as st

#: A set-point moved by more than this (1 W) to meet a limit counts as projected; smaller
#: moves are float rounding (observations are float32).
PROJECTION_TOL_MW = 1e-6
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
)
PUBLIC_INFO_KEYS: tuple[str, ...] = tuple(k for k in INFO_KEYS if k not in COALITION_INFO_KEYS)
ALLOCATION_RULES = ("proportional", "marginal", "shapley")
REWARD_MODES = ("individual", "team", "mix")
M_SPOT, M_RESERVE, M_CAPACITY, M_BALANCING = st.M_SPOT, st.M_RESERVE, st.M_CAPACITY, st.M_BALANCING
M_IMBALANCE, M_NETWORK, M_PPA, M_ALLOCATION = (
    st.M_IMBALANCE,
    st.M_NETWORK,
    st.M_PPA,
    st.M_ALLOCATION,
)


def _step_impl(  # noqa: C901 - one hour of the whole market, as in core.step
    # state (read) and exogenous data at this hour
    soc,
    cf_soc,
    debt,
    prev_dispatch,
    cap_award_g,
    cap_award_c,
    cap_price,
    load,
    ren,
    sys_load,
    sys_ren,
    fc_load0,
    fc_ren0,
    act,
    ppa,
    cap_target,
    # actions and incumbents' bid parameters
    coal,
    memb,
    markup,
    withhold,
    res_frac,
    res_markup,
    cap_frac,
    cap_bid,
    # member and fleet parameters
    b_mw,
    b_mwh,
    eta,
    flex_mw,
    flex_mwh,
    export_limit,
    g_cap,
    g_mc,
    g_ramp,
    g_ef,
    g_min,
    g_derate,
    g_res_cost,
    g_res_share,
    bg_shares,
    bg_prices,
    perms,
    fparams,
    iparams,
    # outputs
    cash,
    energy,
    reserve_mw,
    capacity_mw,
    soc_out,
    cf_soc_out,
    debt_out,
    dispatch_out,
    cap_g_out,
    cap_c_out,
    cap_price_out,
    saving_out,
    bill_out,
    r_members_out,
    profit_out,
    markup_out,
    net_out,
    info_out,
):
    """Advance E envs by one hour (see :meth:`envs.core.MarketCore.step` for the rules)."""
    (floor, cap, renew_offer, q_max, batt_total, res_scarcity, firm_mw, cap_cap, c_lower, c_upper,
     scarcity_share, imb_spread, res_share_load, res_share_ren, pen_res, pen_perf, network, taxes,
     discount, ppa_price, retail, feed_in, reward_mix) = fparams  # fmt: skip
    (pay_as_bid, reserve_on, capacity_on, auction, drives, last_hour, alloc_rule, reward_mode,
     emis_marginal) = iparams  # fmt: skip
    E, N = soc.shape
    G = g_cap.shape[0]
    K = markup.shape[2]
    n_bg = bg_shares.shape[0]
    n_s = G * (K + 1) + 2
    n_b = n_bg + 1
    col_c = G
    col_bg, col_ren, col_op, col_net, col_ppa = (
        G + 1 + N,
        G + 2 + N,
        G + 3 + N,
        G + 4 + N,
        G + 5 + N,
    )
    for e in prange(E):
        info = info_out[e]
        # --- members' set-points, projected onto physical limits
        batt = np.empty(N)
        dis_max = np.empty(N)
        flex = np.empty(N)
        projected = 0.0
        for i in range(N):
            a_b = coal[e, coal.shape[1] - 2] if drives else memb[e, i, 0]
            a_f = coal[e, coal.shape[1] - 1] if drives else memb[e, i, 1]
            ch = max(min(b_mw[i], (b_mwh[i] - soc[e, i]) / eta[i]), 0.0)
            dm = max(min(b_mw[i], soc[e, i] * eta[i]), 0.0)
            cmd = a_b * b_mw[i]
            batt[i] = min(max(cmd, -dm), ch)
            dis_max[i] = dm
            if abs(batt[i] - cmd) > PROJECTION_TOL_MW:
                projected += 1.0
            if last_hour:
                flex[i] = debt[e, i]
            else:
                lo = max(-flex_mw[i], debt[e, i] - flex_mwh[i])
                hi = min(flex_mw[i], debt[e, i] + flex_mwh[i])
                fcmd = a_f * flex_mw[i]
                flex[i] = min(max(fcmd, lo), hi)
                if abs(flex[i] - fcmd) > PROJECTION_TOL_MW:
                    projected += 1.0
        # --- coalition bids (decoding documented in envs.multimarket_v0)
        q_spot = coal[e, 0] * q_max
        a1 = coal[e, 1]
        p_spot = a1 * a1 * a1 * (cap if a1 >= 0.0 else abs(floor))
        j = 2
        res_q = 0.0
        res_p = 0.0
        if reserve_on:
            res_q = (coal[e, j] + 1.0) * 0.5 * batt_total
            u = (coal[e, j + 1] + 1.0) * 0.5
            res_p = u * u * u * res_scarcity
            j += 2
        cap_q = 0.0
        cap_p = 0.0
        if capacity_on:
            cap_q = (coal[e, j] + 1.0) * 0.5 * firm_mw
            cap_p = (coal[e, j + 1] + 1.0) * 0.5 * cap_cap
        # --- reserve market (envs.actors.fleet.reserve_offers + clear_reserve)
        award = np.zeros(G + 1)
        requirement = 0.0
        res_price = 0.0
        res_short = 0.0
        if reserve_on:
            rq = np.empty(G + 1)
            rp = np.empty(G + 1)
            for g in range(G):
                must = max(g_min[g], prev_dispatch[e, g] - g_ramp[g])
                head = min(
                    min(g_res_share[g] * g_cap[g], g_ramp[g]),
                    max(g_cap[g] * (1.0 - withhold[e, g]) - must, 0.0),
                )
                rq[g] = res_frac[e, g] * head
                rp[g] = g_res_cost[g] * (1.0 + res_markup[e, g])
            rq[G] = res_q
            rp[G] = res_p
            requirement = res_share_load * fc_load0[e] + res_share_ren * fc_ren0[e]
            res_price, res_short = _reserve(rq, rp, requirement, res_scarcity, award)
        # --- spot market (envs.actors.fleet.energy_offers + clear_spot)
        sq = np.empty(n_s)
        spr = np.empty(n_s)
        for g in range(G):
            upper = min(g_cap[g] * (1.0 - withhold[e, g]), prev_dispatch[e, g] + g_ramp[g])
            avail = max(upper - award[g], 0.0)
            must = min(max(g_min[g], prev_dispatch[e, g] - g_ramp[g]), avail)
            base = g * (K + 1)
            sq[base] = must
            spr[base] = floor
            for k in range(K):
                sq[base + 1 + k] = (avail - must) / K
                spr[base + 1 + k] = g_mc[g] * (1.0 + markup[e, g, k])
        sq[n_s - 2] = sys_ren[e]
        spr[n_s - 2] = renew_offer
        sq[n_s - 1] = max(-q_spot, 0.0)
        spr[n_s - 1] = p_spot
        dq = np.empty(n_b)
        dpr = np.empty(n_b)
        for b in range(n_bg):
            dq[b] = sys_load[e] * bg_shares[b]
            dpr[b] = bg_prices[b]
        dq[n_bg] = max(q_spot, 0.0)
        dpr[n_bg] = p_spot
        s_acc = np.empty(n_s)
        d_acc = np.empty(n_b)
        s_paid = np.empty(n_s)
        price, buyer, unserved = _spot(
            sq, spr, dq, dpr, floor, cap, pay_as_bid, s_acc, d_acc, s_paid
        )
        gen_cash = np.zeros(G)
        for g in range(G):
            d = 0.0
            for k in range(K + 1):
                d += s_acc[g * (K + 1) + k]
                gen_cash[g] += s_acc[g * (K + 1) + k] * s_paid[g * (K + 1) + k]
            dispatch_out[e, g] = d
        ren_mw = s_acc[n_s - 2]
        sold = s_acc[n_s - 1]
        bg_mw = 0.0
        for b in range(n_bg):
            bg_mw += d_acc[b]
        bought = d_acc[n_bg]
        # --- realisation: activation drawn from batteries pro rata to headroom
        act_req_c = award[G] * act[e]
        head_sum = 0.0
        for i in range(N):
            head_sum += batt[i] + dis_max[i]
        share = min(1.0, act_req_c / max(head_sum, 1e-12))
        act_c = 0.0
        metered = 0.0
        curt_m = 0.0
        consumption = 0.0
        own_ren = 0.0
        discharge = 0.0
        for i in range(N):
            delivered = (batt[i] + dis_max[i]) * share
            act_c += delivered
            bf = batt[i] - delivered
            x = load[e, i] + flex[i] + bf - ren[e, i]
            c_i = max(-export_limit[i] - x, 0.0)
            x += c_i
            net_out[e, i] = x
            metered += x
            curt_m += c_i
            consumption += load[e, i] + flex[i]
            own_ren += ren[e, i] - c_i
            discharge += max(-bf, 0.0)
            soc_out[e, i] = min(
                max(soc[e, i] + (bf * eta[i] if bf > 0.0 else bf / eta[i]), 0.0), b_mwh[i]
            )
            debt_out[e, i] = debt[e, i] - flex[i]
        act_short = max(act_req_c - act_c, 0.0)
        position = bought - sold
        imbalance = metered - (position + ppa[e] - act_c)
        # --- capacity market
        if capacity_on and auction:
            cq = np.empty(G + 1)
            cp = np.empty(G + 1)
            for g in range(G):
                cq[g] = cap_frac[e, g] * g_cap[g] * g_derate[g]
                cp[g] = cap_bid[e, g]
            cq[G] = cap_q
            cp[G] = cap_p
            c_award = np.empty(G + 1)
            cprice, _ = _capacity(cq, cp, cap_target[e], cap_cap, c_lower, c_upper, c_award)
            for g in range(G):
                cap_g_out[e, g] = c_award[g]
            cap_c_out[e] = c_award[G]
            cap_price_out[e] = cprice
        else:
            for g in range(G):
                cap_g_out[e, g] = cap_award_g[e, g]
            cap_c_out[e] = cap_award_c[e]
            cap_price_out[e] = cap_price[e]
        scarce = price >= scarcity_share * cap or unserved > 1e-9 or res_short > 1e-9
        # --- settlement (DESIGN §7): see envs/settle.py for the same rules in numpy
        cs, en = cash[e], energy[e]
        for g in range(G):
            en[M_SPOT, g] = dispatch_out[e, g]
            cs[M_SPOT, g] = gen_cash[g]
        en[M_SPOT, col_ren] = ren_mw
        cs[M_SPOT, col_ren] = ren_mw * s_paid[n_s - 2]
        en[M_SPOT, col_c] = sold - bought
        cs[M_SPOT, col_c] = sold * s_paid[n_s - 1] - bought * buyer
        en[M_SPOT, col_bg] = -bg_mw
        cs[M_SPOT, col_bg] = -bg_mw * buyer
        spot_sum = 0.0
        for p_ in range(cs.shape[1]):
            spot_sum += cs[M_SPOT, p_]
        cs[M_SPOT, col_op] = -spot_sum
        act_total = act_c
        for g in range(G):
            a_g = award[g] * act[e]
            act_total += a_g
            en[M_BALANCING, g] = a_g
            cs[M_BALANCING, g] = a_g * price
        en[M_BALANCING, col_c] = act_c
        cs[M_BALANCING, col_c] = act_c * price
        en[M_BALANCING, col_bg] = -act_total
        cs[M_BALANCING, col_bg] = -act_total * price
        if imbalance > 0.0:
            p_imb = min(price + imb_spread, cap)
        else:
            p_imb = max(price - imb_spread, floor)
        en[M_IMBALANCE, col_c] = -imbalance
        cs[M_IMBALANCE, col_c] = -imbalance * p_imb
        en[M_IMBALANCE, col_op] = imbalance
        cs[M_IMBALANCE, col_op] = imbalance * p_imb
        imports = max(metered, 0.0)
        cons_total = max(bg_mw + imports, 1e-12)
        bg_share = bg_mw / cons_total
        co_share = imports / cons_total
        res_total = award[G] * res_price
        for g in range(G):
            res_total += award[g] * res_price
            reserve_mw[e, M_RESERVE, g] = award[g]
            cs[M_RESERVE, g] = award[g] * res_price
        reserve_mw[e, M_RESERVE, col_c] = award[G]
        penalty_res = act_short * pen_res
        cs[M_RESERVE, col_c] = award[G] * res_price - penalty_res - co_share * res_total
        cs[M_RESERVE, col_bg] = -bg_share * res_total
        cs[M_RESERVE, col_op] = penalty_res
        hourly = cap_price_out[e] / 24.0
        cap_total = cap_c_out[e] * hourly
        pen_g_total = 0.0
        committed = cap_c_out[e]
        for g in range(G):
            cap_total += cap_g_out[e, g] * hourly
            committed += cap_g_out[e, g]
            perf = max(cap_g_out[e, g] - dispatch_out[e, g] - award[g], 0.0) if scarce else 0.0
            pen_g_total += perf * pen_perf
            capacity_mw[e, M_CAPACITY, g] = cap_g_out[e, g]
            cs[M_CAPACITY, g] = cap_g_out[e, g] * hourly - perf * pen_perf
        perf_c = max(cap_c_out[e] - (discharge + award[G]), 0.0) if scarce else 0.0
        capacity_mw[e, M_CAPACITY, col_c] = cap_c_out[e]
        cs[M_CAPACITY, col_c] = cap_c_out[e] * hourly - perf_c * pen_perf - co_share * cap_total
        cs[M_CAPACITY, col_bg] = -bg_share * cap_total
        cs[M_CAPACITY, col_op] = pen_g_total + perf_c * pen_perf
        gross_in = 0.0
        gross_out = 0.0
        for i in range(N):
            gross_in += max(net_out[e, i], 0.0)
            gross_out += max(-net_out[e, i], 0.0)
        charge = (network + taxes) * gross_in - discount * network * min(gross_in, gross_out)
        cs[M_NETWORK, col_c] = -charge
        cs[M_NETWORK, col_net] = charge
        en[M_PPA, col_c] = -ppa[e]
        en[M_PPA, col_ppa] = ppa[e]
        cs[M_PPA, col_c] = -ppa[e] * ppa_price
        cs[M_PPA, col_ppa] = ppa[e] * ppa_price
        result = 0.0
        for m_ in range(M_ALLOCATION):
            result += cs[m_, col_c]
        alloc = np.empty(N)
        _allocate(result, net_out[e], price, network + taxes, alloc_rule, perms, alloc)
        cs[M_ALLOCATION, col_c] = -result
        en[M_ALLOCATION, col_c] = metered
        # --- counterfactual (alone: self-consumption battery, retail tariff) and rewards
        saving_sum = 0.0
        bill_sum = 0.0
        for i in range(N):
            cs[M_ALLOCATION, G + 1 + i] = alloc[i]
            en[M_ALLOCATION, G + 1 + i] = -net_out[e, i]
            x0 = load[e, i] - ren[e, i]
            ch = max(min(b_mw[i], (b_mwh[i] - cf_soc[e, i]) / eta[i]), 0.0)
            dm = max(min(b_mw[i], cf_soc[e, i] * eta[i]), 0.0)
            cb = min(max(-x0, -dm), ch)
            cf_soc_out[e, i] = min(
                max(cf_soc[e, i] + (cb * eta[i] if cb > 0.0 else cb / eta[i]), 0.0), b_mwh[i]
            )
            x_cf = max(x0 + cb, -export_limit[i])
            bill = max(x_cf, 0.0) * retail - max(-x_cf, 0.0) * feed_in
            bill_out[e, i] = bill
            saving_out[e, i] = bill + alloc[i]
            saving_sum += bill + alloc[i]
            bill_sum += bill
        mean_saving = saving_sum / N
        for i in range(N):
            if reward_mode == 0:
                r_members_out[e, i] = saving_out[e, i]
            elif reward_mode == 1:
                r_members_out[e, i] = mean_saving
            else:
                r_members_out[e, i] = (1.0 - reward_mix) * saving_out[
                    e, i
                ] + reward_mix * mean_saving
        # --- accounting
        total_gen = ren_mw
        emis = 0.0
        clean = ren_mw
        gen_cost = 0.0
        mc_marg = -np.inf
        ef_marg = 0.0
        cap_sum = 0.0
        max_cap = 0.0
        for g in range(G):
            ge = dispatch_out[e, g] + award[g] * act[e]
            total_gen += ge
            emis += g_ef[g] * ge
            gen_cost += g_mc[g] * ge
            if g_ef[g] == 0.0:
                clean += ge
            market_cash = 0.0
            for m_ in range(cs.shape[0]):
                market_cash += cs[m_, g]
            profit_out[e, g] = market_cash - g_mc[g] * ge
            if dispatch_out[e, g] > 1e-6:
                markup_out[e, g] = (price - g_mc[g]) / max(g_mc[g], 1.0)
                if g_mc[g] > mc_marg:
                    mc_marg = g_mc[g]
                    ef_marg = g_ef[g]
            else:
                markup_out[e, g] = 0.0
            cap_sum += g_cap[g]
            max_cap = max(max_cap, g_cap[g])
        if not np.isfinite(mc_marg):
            mc_marg = 0.0
        avg_ef = emis / max(total_gen, 1e-9)
        cfe_share = clean / max(total_gen, 1e-9)
        rsi_demand = max(sys_load[e] + max(position, 0.0), 1e-9)
        info[I_PRICE] = price
        info[I_RES_PRICE] = res_price
        info[I_CAP_PRICE] = cap_price_out[e]
        info[I_REQ] = requirement
        info[I_RES_SHORT] = res_short
        info[I_UNSERVED] = unserved
        info[I_CURT] = (sys_ren[e] - ren_mw) + curt_m
        info[I_EMIS] = emis
        info[I_COAL_EMIS] = imports * (ef_marg if emis_marginal else avg_ef)
        info[I_CFE] = min(
            1.0, (min(own_ren, consumption) + cfe_share * imports) / max(consumption, 1e-9)
        )
        info[I_LERNER] = (price - mc_marg) / max(price, 1e-9) if price > 0.0 else 0.0
        info[I_RSI] = (cap_sum - max_cap + sys_ren[e]) / rsi_demand
        info[I_SCARCITY] = 1.0 if scarce else 0.0
        info[I_POSITION] = position
        info[I_METERED] = metered
        info[I_IMBALANCE] = imbalance
        info[I_ACT] = act[e]
        info[I_NOT_DELIVERED] = act_short
        info[I_SAVING] = saving_sum
        info[I_CF_BILL] = bill_sum
        info[I_RESULT] = result
        info[I_PROJECTED] = projected
        info[I_WELFARE] = bg_mw * cap - gen_cost
        info[I_CAP_COMMITTED] = committed


def _compiled(py_func, name: str, parallel: bool):
    """Compile ``py_func`` under its own name: numba's on-disk cache is keyed by the
    function's qualified name and line, not by ``parallel``, so a serial and a parallel
    build of one function would overwrite each other's cache entries."""
    fn = types.FunctionType(py_func.__code__, py_func.__globals__, name, py_func.__defaults__)
    fn.__qualname__ = name
    return njit(cache=True, parallel=parallel)(fn)


step_serial = _compiled(_step_impl, "step_serial", parallel=False)
step_parallel = _compiled(_step_impl, "step_parallel", parallel=True)


def _member_obs_impl(
    net_tm,
    net_err_tm,
    t,
    lead,
    inv_peak,
    soc,
    inv_batt,
    debt,
    inv_flex,
    static,
    last_saving,
    saving_scale,
    common,
    bound,
    out,
):
    """Members' observations (layout in :mod:`envs.observe`), written in one pass.

    Net-load forecast for hour t+h: actual + lead[h] * actual * error, from time-major
    (T+H, E, N) arrays (see MarketCore.forecast for the error model).
    """
    E, N = soc.shape
    H = lead.shape[0]
    C = common.shape[1]
    # Direct indexing (no row views): views cost reference counting per member.
    for e in prange(E):
        for i in range(N):
            for c in range(C):
                out[e, i, c] = common[e, c]
        for h in range(H):
            for i in range(N):
                f = net_tm[t + h, e, i] + lead[h] * net_err_tm[t + h, e, i]
                out[e, i, C + h] = min(max(f * inv_peak[i], -bound), bound)
        o = C + H
        for i in range(N):
            out[e, i, o] = min(max(soc[e, i] * inv_batt[i], -bound), bound)
            out[e, i, o + 1] = min(max(debt[e, i] * inv_flex[i], -bound), bound)
            for k in range(3):
                out[e, i, o + 2 + k] = min(max(static[i, k], -bound), bound)
            out[e, i, o + 5] = min(
                max(last_saving[e, i] * inv_peak[i] * saving_scale, -bound), bound
            )


member_obs_serial = _compiled(_member_obs_impl, "member_obs_serial", parallel=False)
member_obs_parallel = _compiled(_member_obs_impl, "member_obs_parallel", parallel=True)
