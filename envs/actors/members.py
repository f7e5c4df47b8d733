"""Prosumer members: persona arrays, battery and flexible-load physics.

Dims: E envs, N members. MW (= MWh per hourly step), MWh, EUR.

Battery (per member): power ``p`` in MW, positive = charging; state of charge in MWh
moves by ``eta_c * p`` when charging and ``p / eta_d`` when discharging, with
``eta_c = eta_d = sqrt(round-trip efficiency)``; bounds [0, capacity].

Flexible load: a member can move up to ``flex_share * peak_load`` MW of load in time.
The moved energy is tracked as a debt in MWh (positive = consumption deferred),
bounded by ``FLEX_HOURS`` hours of full shifting, and is paid back in full in the
last hour of each day (the shift is energy-neutral within a day).

The step applies these rules inside the compiled kernel (:mod:`envs.kernel`); the
functions here are the numpy forms used by scripted policies, and
``tests/test_counterfactual.py`` pins the two together through the counterfactual.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from envs.profiles import SECTORS
from envs.scenario import MembersConfig

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


def battery_bounds(soc_mwh: F64, m: MemberArrays) -> tuple[F64, F64]:
    """Largest charge and discharge power this hour, MW, (E, N) each (both >= 0)."""
    charge = np.minimum(m.battery_mw, (m.battery_mwh - soc_mwh) / m.eta)
    discharge = np.minimum(m.battery_mw, soc_mwh * m.eta)
    return np.maximum(charge, 0.0), np.maximum(discharge, 0.0)


def flex_bounds(debt_mwh: F64, m: MemberArrays) -> tuple[F64, F64]:
    """Lowest and highest load shift this hour, MW (E, N) each: the shift power, and the
    debt kept within ``flex_mwh`` either way (outside the pay-back hour)."""
    return np.maximum(-m.flex_mw, debt_mwh - m.flex_mwh), np.minimum(
        m.flex_mw, debt_mwh + m.flex_mwh
    )


def soc_after(soc_mwh: F64, power_mw: F64, m: MemberArrays) -> F64:
    """State of charge after an hour at ``power_mw`` (+ charge), clipped to the bounds
    only against rounding (the power is already feasible)."""
    soc = soc_mwh + np.where(power_mw > 0.0, power_mw * m.eta, power_mw / m.eta)
    return np.clip(soc, 0.0, m.battery_mwh)


def self_consumption_power(net_before_mw: F64, soc_mwh: F64, m: MemberArrays) -> F64:
    """The plain self-consumption rule: charge from surplus, discharge to cover deficit.

    Args:
        net_before_mw: (E, N) load minus own generation before the battery.

    Returns:
        (E, N) feasible battery power, MW (+ charge).
    """
    charge, discharge = battery_bounds(soc_mwh, m)
    return np.clip(-net_before_mw, -discharge, charge)
