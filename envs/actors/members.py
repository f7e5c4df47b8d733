"""Prosumer members: persona arrays, battery and flexible-load physics.

Dims: E envs, N members. MW (= MWh per hourly step), MWh, EUR.

Battery (per member): power ``p`` in MW, positive = charging; state of charge in MWh
moves by ``eta_c * p`` when charging and ``p / eta_d`` when discharging, with
``eta_c = eta_d = sqrt(round-trip efficiency)``; bounds [0, capacity].

Flexible load: a member can move up to ``flex_share * peak_load`` MW of load in time.
The moved energy is tracked as a debt in MWh (positive = consumption deferred),
bounded by ``FLEX_HOURS`` hours of full shifting, and is paid back in full in the
last hour of each day (the shift is energy-neutral within a day).

Each rule is stated once here: the battery's limits as compiled ufuncs
(:func:`charge_limit`, :func:`discharge_limit`, :func:`soc_after_power`) that numpy code
(scripted policies) and the compiled step both call, and the step's member phases
(:func:`set_points_row`, :func:`realise_row`, :func:`counterfactual_row`,
:func:`rewards_row`) as compiled functions of one env.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, vectorize
from numpy.typing import NDArray

from envs.config.scenario import MembersConfig
from envs.data.profiles import SECTORS

F64 = NDArray[np.float64]

#: Hours of full-power load shifting a member can hold as debt.
FLEX_HOURS = 4.0
#: Initial state of charge as a share of capacity.
INITIAL_SOC = 0.5


@dataclass(frozen=True, slots=True)
class MemberArrays:
    """Member parameters, (N,) each, after scaling."""

    persona: tuple[str, ...]
    sector_idx: NDArray[np.int64]
    peak_load_mw: F64
    pv_mw: F64
    wind_mw: F64
    battery_mwh: F64
    battery_mw: F64
    eta: F64
    flex_mw: F64
    export_limit_mw: F64
    risk_weight: F64

    @property
    def flex_mwh(self) -> F64:
        """Largest flexible-load debt, MWh (N,)."""
        return self.flex_mw * FLEX_HOURS

    @classmethod
    def from_config(cls, members: MembersConfig) -> MemberArrays:
        """Assign personas by the mix (largest remainder, interleaved) and scale sizes.

        Sizes vary deterministically between 0.8x and 1.2x of the persona so that no
        two members of a persona are identical; no randomness, so the coalition is
        the same for every seed.
        """
        names = sorted(members.mix)
        shares = np.array([members.mix[n] for n in names], dtype=np.float64)
        quota = shares / shares.sum() * members.count
        counts = np.floor(quota).astype(int)
        rest = members.count - counts.sum()
        counts[np.argsort(-(quota - counts), kind="stable")[:rest]] += 1
        # Interleave personas so that any prefix of members is a mix.
        order = np.argsort(
            np.concatenate([(np.arange(c) + 0.5) / c for c in counts if c]), kind="stable"
        )
        labels = np.concatenate([[i] * c for i, c in enumerate(counts) if c])[order]
        persona = tuple(names[i] for i in labels)
        pcs = [members.personas[p] for p in persona]
        size = members.size_scale * (0.8 + 0.4 * ((np.arange(members.count) * 0.618034) % 1.0))

        def arr(attr: str) -> F64:
            return np.array([getattr(pc, attr) for pc in pcs], dtype=np.float64)

        return cls(
            persona=persona,
            sector_idx=np.array([SECTORS.index(pc.sector) for pc in pcs], dtype=np.int64),
            peak_load_mw=arr("peak_load_mw") * size,
            pv_mw=arr("pv_mw") * size * members.pv_scale,
            wind_mw=arr("wind_mw") * size,
            battery_mwh=arr("battery_mwh") * size * members.battery_scale,
            battery_mw=arr("battery_mw") * size * members.battery_scale,
            eta=np.sqrt(arr("battery_efficiency")),
            flex_mw=arr("flex_share") * arr("peak_load_mw") * size,
            export_limit_mw=arr("export_limit_mw") * size,
            risk_weight=arr("risk_weight"),
        )


@vectorize(["float64(float64, float64, float64, float64)"], cache=True)
def charge_limit(soc_mwh, power_mw, energy_mwh, eta):
    """Largest charging power this hour, MW (>= 0): the power rating, and the room left
    in storage (filled at efficiency ``eta``)."""
    return max(min(power_mw, (energy_mwh - soc_mwh) / eta), 0.0)


@vectorize(["float64(float64, float64, float64)"], cache=True)
def discharge_limit(soc_mwh, power_mw, eta):
    """Largest discharging power this hour, MW (>= 0): the power rating, and the energy
    stored (delivered at efficiency ``eta``)."""
    return max(min(power_mw, soc_mwh * eta), 0.0)


@vectorize(["float64(float64, float64, float64, float64)"], cache=True)
def soc_after_power(soc_mwh, power_mw, energy_mwh, eta):
    """State of charge after an hour at ``power_mw`` (+ charge), MWh, clipped to the
    bounds only against rounding (the power is already feasible)."""
    step = power_mw * eta if power_mw > 0.0 else power_mw / eta
    return min(max(soc_mwh + step, 0.0), energy_mwh)


def battery_bounds(soc_mwh: F64, m: MemberArrays) -> tuple[F64, F64]:
    """Largest charge and discharge power this hour, MW, (E, N) each (both >= 0)."""
    soc = np.asarray(soc_mwh, dtype=np.float64)
    return (
        charge_limit(soc, m.battery_mw, m.battery_mwh, m.eta),
        discharge_limit(soc, m.battery_mw, m.eta),
    )


def flex_bounds(debt_mwh: F64, m: MemberArrays) -> tuple[F64, F64]:
    """Lowest and highest load shift this hour, MW (E, N) each: the shift power, and the
    debt kept within ``flex_mwh`` either way (outside the pay-back hour)."""
    return np.maximum(-m.flex_mw, debt_mwh - m.flex_mwh), np.minimum(
        m.flex_mw, debt_mwh + m.flex_mwh
    )


def soc_after(soc_mwh: F64, power_mw: F64, m: MemberArrays) -> F64:
    """State of charge after an hour at ``power_mw`` (+ charge), MWh (E, N)."""
    return soc_after_power(np.asarray(soc_mwh, float), np.asarray(power_mw, float),
                           m.battery_mwh, m.eta)  # fmt: skip


def self_consumption_power(net_before_mw: F64, soc_mwh: F64, m: MemberArrays) -> F64:
    """The plain self-consumption rule: charge from surplus, discharge to cover deficit.

    Args:
        net_before_mw: (E, N) load minus own generation before the battery.

    Returns:
        (E, N) feasible battery power, MW (+ charge).
    """
    charge, discharge = battery_bounds(soc_mwh, m)
    return np.clip(-net_before_mw, -discharge, charge)


class MemberParams(NamedTuple):
    """The members' constants for the compiled step, (N,) each."""

    battery_mw: F64
    battery_mwh: F64
    eta: F64
    flex_mw: F64
    flex_mwh: F64
    export_limit_mw: F64

    @classmethod
    def of(cls, m: MemberArrays) -> MemberParams:
        """The compiled step's (N,) member constants, taken from ``m``."""
        return cls(m.battery_mw, m.battery_mwh, m.eta, m.flex_mw, m.flex_mwh, m.export_limit_mw)


#: A set-point moved by more than this (1 W) to meet a limit counts as projected; smaller
#: moves are float rounding (observations are float32).
PROJECTION_TOL_MW = 1e-6


def reserve_headroom(batt_mw: F64, soc_mwh: F64, members: MemberArrays) -> F64:
    """Upward reserve the members can deliver this hour after their set-points, MW (...,).

    Each battery can move from its set-point ``batt_mw`` (+ charge) down to full
    discharge: ``batt + min(P, eta * soc)``, summed over the last axis (members). The env
    draws activations pro rata to exactly this headroom (:func:`realise_row`), so an award
    up to it is always delivered: no non-delivery penalty.
    """
    _, discharge = battery_bounds(soc_mwh, members)
    return np.sum(batt_mw + discharge, axis=-1)


@njit(cache=True)
def set_points_row(a_batt, a_flex, soc, debt, mp, payback, batt, dis_max, flex):
    """Project one env's battery and flex set-points onto the members' limits.

    Args:
        a_batt, a_flex: (N,) actions in [-1, 1] (shares of battery and shift power).
        soc, debt: (N,) state of charge and flex debt, MWh.
        mp: :class:`MemberParams`.
        payback: the last hour of the day, when the whole debt is repaid.
        batt, dis_max, flex: outputs, (N,) battery power (+ charge), largest discharge,
            load shift, MW.

    Returns:
        Number of set-points moved by more than :data:`PROJECTION_TOL_MW`.
    """
    projected = 0.0
    for i in range(soc.shape[0]):
        ch = charge_limit(soc[i], mp.battery_mw[i], mp.battery_mwh[i], mp.eta[i])
        dm = discharge_limit(soc[i], mp.battery_mw[i], mp.eta[i])
        cmd = a_batt[i] * mp.battery_mw[i]
        batt[i] = min(max(cmd, -dm), ch)
        dis_max[i] = dm
        if abs(batt[i] - cmd) > PROJECTION_TOL_MW:
            projected += 1.0
        if payback:
            flex[i] = debt[i]
        else:
            lo = max(-mp.flex_mw[i], debt[i] - mp.flex_mwh[i])
            hi = min(mp.flex_mw[i], debt[i] + mp.flex_mwh[i])
            fcmd = a_flex[i] * mp.flex_mw[i]
            flex[i] = min(max(fcmd, lo), hi)
            if abs(flex[i] - fcmd) > PROJECTION_TOL_MW:
                projected += 1.0
    return projected


@njit(cache=True)
def realise_row(batt, dis_max, flex, load, ren, soc, debt, mp, act_req, net, soc_out, debt_out):
    """Deliver one env's hour: the coalition's reserve activation is drawn from the
    batteries pro rata to their upward headroom, then every member is metered.

    Args:
        batt, dis_max, flex: (N,) set-points from :func:`set_points_row`, MW.
        load, ren: (N,) actual load and own renewables, MW.
        soc, debt: (N,) state before the hour, MWh; mp: :class:`MemberParams`.
        act_req: activation asked of the coalition, MW.
        net, soc_out, debt_out: outputs, (N,) metered net import MW, state after, MWh.

    Returns:
        (activation delivered, metered total, curtailed own renewables, consumption,
        own renewables used, battery discharge), all MW.
    """
    head_sum = 0.0
    for i in range(batt.shape[0]):
        head_sum += batt[i] + dis_max[i]
    share = min(1.0, act_req / max(head_sum, 1e-12))
    act_c = metered = curt = consumption = own_ren = discharge = 0.0
    for i in range(batt.shape[0]):
        delivered = (batt[i] + dis_max[i]) * share
        act_c += delivered
        bf = batt[i] - delivered
        x = load[i] + flex[i] + bf - ren[i]
        c_i = max(-mp.export_limit_mw[i] - x, 0.0)  # exports above the limit are curtailed
        x += c_i
        net[i] = x
        metered += x
        curt += c_i
        consumption += load[i] + flex[i]
        own_ren += ren[i] - c_i
        discharge += max(-bf, 0.0)
        soc_out[i] = soc_after_power(soc[i], bf, mp.battery_mwh[i], mp.eta[i])
        debt_out[i] = debt[i] - flex[i]
    return act_c, metered, curt, consumption, own_ren, discharge


@njit(cache=True)
def counterfactual_row(load, ren, cf_soc, mp, retail, feed_in, cf_soc_out, bill):
    """Each member's bill acting alone this hour (DESIGN §3.5): a self-consumption battery
    and the retail tariff, EUR.

    Args:
        load, ren: (N,) actual load and own renewables, MW.
        cf_soc: (N,) the alone-battery's state, MWh; mp: :class:`MemberParams`.
        retail, feed_in: retail price and feed-in tariff this hour, EUR/MWh.
        cf_soc_out, bill: outputs, (N,) state after (MWh) and bill (EUR).
    """
    for i in range(load.shape[0]):
        x0 = load[i] - ren[i]
        ch = charge_limit(cf_soc[i], mp.battery_mw[i], mp.battery_mwh[i], mp.eta[i])
        dm = discharge_limit(cf_soc[i], mp.battery_mw[i], mp.eta[i])
        cb = min(max(-x0, -dm), ch)
        cf_soc_out[i] = soc_after_power(cf_soc[i], cb, mp.battery_mwh[i], mp.eta[i])
        x_cf = max(x0 + cb, -mp.export_limit_mw[i])
        bill[i] = max(x_cf, 0.0) * retail - max(-x_cf, 0.0) * feed_in


#: Member reward modes in the order of their integer codes in the compiled step.
REWARD_MODES: tuple[str, ...] = ("individual", "team", "mix")


@njit(cache=True)
def rewards_row(bill, alloc, mode, mix, saving, reward):
    """Members' savings against acting alone and their rewards, EUR (N,) each.

    ``saving = bill alone + allocation``; the reward is the own saving (``individual``),
    the mean saving (``team``) or ``(1 - mix) * own + mix * mean`` (``mix``).

    Returns:
        (sum of savings, sum of bills alone), EUR.
    """
    n = bill.shape[0]
    saving_sum = 0.0
    bill_sum = 0.0
    for i in range(n):
        saving[i] = bill[i] + alloc[i]
        saving_sum += bill[i] + alloc[i]
        bill_sum += bill[i]
    mean = saving_sum / n
    for i in range(n):
        if mode == 0:
            reward[i] = saving[i]
        elif mode == 1:
            reward[i] = mean
        else:
            reward[i] = (1.0 - mix) * saving[i] + mix * mean
    return saving_sum, bill_sum
