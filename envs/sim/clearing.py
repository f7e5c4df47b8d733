"""The step's day-ahead clearing and real-time balancing phases (one env each, compiled).

Dims: G generators, K tranches, S = G * (K + 1) + 2 energy supply blocks (unit g's
tranche k at g * (K + 1) + k, tranche 0 must-run; then the system renewables, then the
coalition's sale), B background demand blocks + 1 (the coalition's purchase last).
MW (= MWh per hourly step), EUR/MWh, reserve EUR/MW per hour.

Day-ahead (DESIGN §3 step 3): energy and upward reserve are co-optimised by default
(:func:`envs.market.cooptimise.clear_joint_row`: each unit's energy and reserve share
its capacity after withholding and its ramp; both prices are the LP's shadow prices), or
cleared in sequence (``reserve.clearing: sequential``, the European order: the reserve
auction first, each unit pricing into its reserve offer the energy margin it expects to
forgo at its price forecast, then the spot market on what is left). The background
demand bids its *forecast*; the system renewables offer their forecast.

Real time (DESIGN §3 step 4): the background load and the renewables deviate from their
forecasts and the coalition from its position. The coalition's reserve is called pro rata
to its share of the reserve held when the exogenous deviation is short
(:func:`activation_share`); everything else is covered by activating the fleet's and the
renewables' balancing energy in merit order (:func:`envs.market.balancing.balance_row`),
which sets the imbalance price; the real-time value of reserve is added to it when the
headroom left online falls short of the requirement
(:func:`envs.market.balancing.ordc_adder`). Load is shed only when every upward block is
exhausted, pro rata over the background's demand and the members' imports
(:func:`shed_pro_rata`); inelastic load the day-ahead could not serve is restored in real
time when energy is available. Energy is conserved: generation +
renewables delivered + PPA delivery = background consumption + the members' metered net
import.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from envs.actors import fleet as fl
from envs.market import balancing as bl
from envs.market import reserve as rs
from envs.market.cooptimise import JointAccepted, JointBook, clear_joint_row
from envs.market.spot import clear_spot_row, pay_row, unserved_row


@njit(cache=True)
def unit_limits_row(fp, bids, e, prev_dispatch, committed, ulim):
    """Each unit's shared energy + reserve limit this hour, MW (G,): its capacity after
    withholding, never below the MW it committed in the capacity market (must-offer, PJM
    OATT Attachment DD §6.6: :func:`envs.actors.fleet.offered_capacity_row`; ``committed``
    (G,) accredited MW in force this hour), and its ramp-up limit."""
    for g in range(fp.capacity_mw.shape[0]):
        upper = min(fl.offered_capacity_row(fp, bids, e, g, committed),
                    prev_dispatch[g] + fp.ramp_mw_per_h[g])  # fmt: skip
        ulim[g] = max(upper, 0.0)


@njit(cache=True)
def demand_bids_row(p, hour, e, q_spot, p_spot, dq, dp):
    """The day-ahead demand bids into ``dq, dp`` (B + 1,), MW and EUR/MWh: the background's
    forecast load in its blocks, then the coalition's purchase (its sale is a supply
    block)."""
    n_bg = p.background_block_shares.shape[0]
    for b in range(n_bg):
        dq[b] = hour.fc_load_mw[e] * p.background_block_shares[b]
        dp[b] = p.background_bid_eur_per_mwh[b]
    dq[n_bg], dp[n_bg] = max(q_spot, 0.0), p_spot


@njit(cache=True)
def day_ahead_phase(p, sr, rr, fp, bids, e, hour, prev, committed, q_spot, p_spot, res_q,
                    res_p, sq, sp, s_acc, s_paid, ulim, award, r_paid, d_acc):  # fmt: skip
    """Clear one env's energy and reserve for the hour (the module's rules); ``sr``, ``rr``:
    the spot and reserve markets' rules (:class:`envs.market.spot.SpotRules`,
    :class:`envs.market.reserve.ReserveRules`); ``committed``
    (G,): the units' capacity commitments in force this hour, accredited MW (must-offer).

    Fills the supply blocks ``sq, sp`` (S,) with what was offered, ``s_acc`` with what was
    accepted and ``s_paid`` with the price paid to each (EUR/MWh), ``ulim`` (G,) with the
    units' shared limits, ``award`` (G + 1,) with the reserve awards (the coalition last),
    ``r_paid`` (G + 1,) with what each award is paid (EUR/MW, by the reserve market's rule)
    and ``d_acc`` (B + 1,) with the accepted demand.

    Returns:
        (energy price, buyers' price, background unserved MW, reserve price, reserve
        shortfall MW, reserve requirement MW).
    """
    g_n, s_n = ulim.shape[0], sq.shape[0]
    n_bg = p.background_block_shares.shape[0]
    floor, cap = sr.price_floor_eur_per_mwh, sr.price_cap_eur_per_mwh
    unit_limits_row(fp, bids, e, prev, committed, ulim)
    dq, dp = np.empty(n_bg + 1), np.empty(n_bg + 1)
    demand_bids_row(p, hour, e, q_spot, p_spot, dq, dp)
    req = rs.requirement_row(rr, hour.fc_load_mw[e], hour.fc_ren_mw[e])
    rq, rp = np.zeros(g_n + 1), np.zeros(g_n + 1)
    if rr.on:
        # Sequential bidders price in the margin they forgo at their price forecast.
        opp = -np.inf if rr.cooptimised else hour.price_fc_eur_per_mwh[e]
        fl.reserve_offers_row(fp, bids, e, prev, committed, opp, rq, rp)
        rq[g_n], rp[g_n] = res_q, res_p
    for i in range(g_n + 1):
        award[i] = 0.0
    res_price, res_short = 0.0, 0.0
    if rr.on and rr.cooptimised:
        fl.energy_offers_row(fp, bids, e, prev, committed, award, floor, sq, sp)
        sq[s_n - 2], sp[s_n - 2] = hour.fc_ren_mw[e], p.renewables_offer_eur_per_mwh
        sq[s_n - 1], sp[s_n - 1] = max(-q_spot, 0.0), p_spot
        n_k = rr.demand_blocks
        rdq, rdp, rd_acc = np.empty(n_k), np.empty(n_k), np.empty(n_k)
        rs.demand_curve_row(rr, req, rdq, rdp)
        book = JointBook(sq, sp, p.supply_block_unit, rq, rp, p.reserve_offer_unit, ulim, dq, dp,
                         rdq, rdp, floor, cap, rr.scarcity_eur_per_mw)  # fmt: skip
        acc = JointAccepted(s_acc, award, d_acc, rd_acc)
        price, res_price, res_short, _, _ = clear_joint_row(book, acc)
        # Payments by the spot market's rule (envs.market.spot.pay_row).
        buyer = pay_row(sp, s_acc, price, floor, cap, sr.pay_as_bid, s_paid)
    else:
        if rr.on:
            res_price, res_short = rs.clear_reserve_row(rq, rp, req, rr.scarcity_eur_per_mw,
                                                        award)  # fmt: skip
        fl.energy_offers_row(fp, bids, e, prev, committed, award, floor, sq, sp)
        sq[s_n - 2], sp[s_n - 2] = hour.fc_ren_mw[e], p.renewables_offer_eur_per_mwh
        sq[s_n - 1], sp[s_n - 1] = max(-q_spot, 0.0), p_spot
        price, buyer, _ = clear_spot_row(sq, sp, dq, dp, floor, cap, sr.pay_as_bid, s_acc,
                                         d_acc, s_paid)  # fmt: skip
    rs.award_payments_row(rr, rp, award, res_price, r_paid)
    # The background's unserved MW only: the coalition's purchase (the last bid) is its own.
    unserved = unserved_row(dq, dp, d_acc, cap, n_bg)
    return price, buyer, unserved, res_price, res_short, req


@njit(cache=True)
def activation_share(hour, e, ren_acc, award):
    """Share of every reserve award called this hour: the exogenous real-time deviation
    (background load over its forecast, renewables under what they sold) over the reserve
    held, within [0, 1] (reserve is called pro rata to awards, DESIGN §3 step 4)."""
    held = 0.0
    for i in range(award.shape[0]):
        held += award[i]
    dev = (hour.sys_load_mw[e] - hour.fc_load_mw[e]) + (ren_acc - hour.sys_ren_mw[e])
    if held <= 1e-9 or dev <= 0.0:
        return 0.0
    return min(dev / held, 1.0)


@njit(cache=True)
def shed_pro_rata(shed, bg_demand, imports):
    """Split load shed over the consumption that real time could not serve, MW.

    Involuntary shedding (rotating outages) falls on every consumer pro rata to what it
    draws from the grid: the background load's real-time demand ``bg_demand`` and the
    members' gross imports ``imports`` (exports feed the grid and are never shed). The
    shed never exceeds the demand, so no consumption goes negative.

    Returns:
        (shed from the background load, shed from the members' imports), MW, >= 0.
    """
    demand = max(bg_demand, 0.0) + max(imports, 0.0)
    if shed <= 0.0 or demand <= 1e-12:
        return 0.0, 0.0
    shed = min(shed, demand)
    if imports <= 0.0:  # exactly 0, not a rounding remainder: callers divide by the imports
        return shed, 0.0
    from_bg = shed * max(bg_demand, 0.0) / demand
    return from_bg, shed - from_bg


@njit(cache=True)
def real_time_phase(p, sr, rr, br, fp, e, hour, sq, sp, s_acc, ulim, award, k_n, price, act_c,
                    imb_c, dispatch, bg_mw, restore, req, a_g):  # fmt: skip
    """Balance one env's hour: the system imbalance after the coalition's activation is
    covered by the fleet's and renewables' balancing energy in merit order.

    Shedding is decided here, not day-ahead: the background's inelastic demand that the
    day-ahead could not serve (``restore`` MW) comes back as real-time demand and is
    served when balancing energy is available; only what no upward block can cover is
    shed (:func:`shed_pro_rata` splits it). The background's real-time demand is its
    actual load times the share of its forecast it bought or bid inelastically (the
    elastic blocks it chose not to buy stay unserved by choice).

    Args:
        sr, rr, br: the spot, reserve and balancing markets' rules
            (:mod:`envs.market.spot`, :mod:`envs.market.reserve`, :mod:`envs.market.balancing`).
        sq, sp, s_acc: (S,) the day-ahead blocks and what they delivered.
        ulim: (G,) units' shared limits; award: (G + 1,) reserve awards (coalition last).
        k_n: tranches per unit; price: day-ahead price; act_c: activation the coalition
            delivered, MW; imb_c: its imbalance, MW (+ short).
        dispatch: (G,) the day-ahead dispatch, MW (read).
        bg_mw: the background's day-ahead purchase, MW; restore: its inelastic demand
            left unserved day-ahead, MW; req: the reserve requirement, MW.
        a_g: output, (G,) each unit's balancing energy, MW (+ up, - down).

    Returns:
        (imbalance price EUR/MWh, system imbalance MW, load shed MW, surplus not absorbed
        MW, renewables' balancing MW (- curtailed), renewables delivered MW, renewables'
        deviation MW (+ short of what they sold, - long), background's real-time demand MW,
        ORDC adder EUR/MWh).
    """
    g_n, s_n = ulim.shape[0], sq.shape[0]
    floor, cap = sr.price_floor_eur_per_mwh, sr.price_cap_eur_per_mwh
    n = s_n + g_n  # the day-ahead blocks, then each unit's reserve held outside them
    up_q, up_p, dn_q, dn_p = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    unit, room = np.empty(n, np.int64), np.empty(g_n)
    for j in range(s_n):
        up_q[j] = max(sq[j] - s_acc[j], 0.0)
        dn_q[j] = s_acc[j]
        up_p[j] = min(max(sp[j], floor), cap)
        dn_p[j] = up_p[j]
        unit[j] = p.supply_block_unit[j]
    for g in range(g_n):
        room[g] = max(ulim[g] - dispatch[g], 0.0)
        top = floor
        for k in range(k_n + 1):
            top = max(top, up_p[g * (k_n + 1) + k])
        # Sequential clearing took the reserve out of the energy offer: it is offered
        # here at the unit's dearest tranche; co-optimised blocks already hold it.
        up_q[s_n + g] = 0.0 if rr.cooptimised else award[g]
        up_p[s_n + g], dn_q[s_n + g], dn_p[s_n + g], unit[s_n + g] = top, 0.0, top, g
    # The system renewables are a balance-responsible party like any other: what they
    # produce beyond what they sold day-ahead is their long deviation (the system is long
    # by it and thermal units are decremented first, at their offers), not free upward
    # energy; all they produce can be curtailed at their offer when nothing dearer is left.
    ren_acc = s_acc[s_n - 2]
    up_q[s_n - 2] = 0.0
    dn_q[s_n - 2] = hour.sys_ren_mw[e]
    up_q[s_n - 1], dn_q[s_n - 1] = 0.0, 0.0  # the coalition's sale: its members deviate
    fc = hour.fc_load_mw[e]
    served = (bg_mw + restore) / fc if fc > 1e-9 else 1.0
    bg_demand = max(hour.sys_load_mw[e] * min(served, 1.0), 0.0)
    ren_dev = ren_acc - hour.sys_ren_mw[e]  # + short of what they sold, - long
    system = (bg_demand - bg_mw) + ren_dev + imb_c - act_c
    act = np.empty(n)
    imb_price, shed, excess = bl.balance_row(system, up_q, up_p, dn_q, dn_p, unit, room, floor,
                                          cap, price, act)  # fmt: skip
    headroom = max(award[g_n] - act_c, 0.0)
    for g in range(g_n):
        a = act[s_n + g]
        for k in range(k_n + 1):
            a += act[g * (k_n + 1) + k]
        a_g[g] = a
        headroom += max(room[g] - max(a, 0.0), 0.0)
    adder = bl.ordc_adder(br, rr, sr, req, headroom, imb_price)
    imb_price = bl.spot_coupled(br, system, min(imb_price + adder, cap), price)
    ren_bal = act[s_n - 2]
    return (imb_price, system, shed, excess, ren_bal, hour.sys_ren_mw[e] + ren_bal, ren_dev,
            bg_demand, adder)  # fmt: skip
