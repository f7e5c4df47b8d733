"""The simplest baselines: random actions and the rule-based coalition.

:class:`RulePolicy` (issue 3): members run their batteries for self-consumption on
their own forecast of this hour; the coalition bids the members' forecast net position
after those batteries, less the expected delivery of the coalition's PPA, at a reference
price (price-taking by default: buy at the cap, sell at the floor) and offers no reserve or
capacity. It reads only observations, plus static scenario constants at reset (peak loads,
action scales, installed renewables, the calendar and the PPA's contracted volume).

The PPA's delivery is ``volume_mw`` times the hour's wind capacity factor; a buyer knows its
contract and the installed capacities behind the forecasts it sees, so it infers the factor
from this hour's forecasts of the system's and its members' renewables
(:func:`wind_cf_estimate`), as a balance-responsible party nets a pay-as-produced PPA's
expected delivery out of its day-ahead purchase (the PPA's profile risk stays its own).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.base import MarketPolicy
from envs.actors.coalition import price_entry, spot_entries
from envs.adapters.parallel import COALITION_ID
from envs.data.profiles import clear_sky_cf
from envs.sim import observe as ob

__all__ = ["RandomPolicy", "RulePolicy", "wind_cf_estimate"]

#: Smallest |determinant| of the two-source system of :func:`wind_cf_estimate`, as a share
#: of its scale, below which the members' forecast cannot separate solar from wind.
_MIN_DET_SHARE = 0.05


def wind_cf_estimate(system_mw: tuple[float, float, float], members_mw: tuple[float, float, float],
                     clear_sky: float, cloudiness_mean: float) -> float:  # fmt: skip
    """This hour's wind capacity factor from two renewables forecasts, in [0, 1].

    Each forecast is ``solar_mw * s + wind_mw * w`` for the shared solar and wind capacity
    factors ``s`` and ``w`` (envs.data.profiles: one weather per place). At night (clear
    sky 0) the system's gives ``w`` alone; by day the two forecasts are solved for
    ``(s, w)``; where they cannot be told apart (members with no PV or no wind), the
    system's solar is taken at its expected cloudiness.

    Args:
        system_mw: (forecast, installed solar, installed wind) of the system, MW.
        members_mw: (forecast, installed PV, installed wind) of the members, MW.
        clear_sky: the hour's clear-sky solar capacity factor, in [0, 1].
        cloudiness_mean: the scenario's mean cloud attenuation, in [0, 1).

    Examples:
        >>> wind_cf_estimate((100.0, 150.0, 200.0), (5.0, 8.0, 4.0), 0.0, 0.4)
        0.5
        >>> round(wind_cf_estimate((150.0, 100.0, 200.0), (6.0, 10.0, 2.0), 0.8, 0.4), 6)
        0.5
    """
    (r1, a1, b1), (r2, a2, b2) = system_mw, members_mw
    if clear_sky <= 0.0:
        num, den = (r1, b1) if b1 > 0.0 else (r2, b2)
        return float(np.clip(num / den, 0.0, 1.0)) if den > 0.0 else 0.0
    det = a1 * b2 - a2 * b1
    if abs(det) > _MIN_DET_SHARE * max(a1 * b2, a2 * b1):
        return float(np.clip((a1 * r2 - a2 * r1) / det, 0.0, 1.0))
    if b1 <= 0.0:
        return 0.0
    solar = a1 * clear_sky * (1.0 - cloudiness_mean)
    return float(np.clip((r1 - solar) / b1, 0.0, 1.0))


class RandomPolicy(MarketPolicy):
    """Uniform random actions in each agent's box, from a seeded Generator."""

    groups = ("coalition", "members", "incumbents")

    def act(self, observations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """A uniform draw in each controlled agent's action box."""
        out = {}
        for a in self.controls:
            if a in observations:
                space = self.env.action_space(a)
                out[a] = self.rng.uniform(space.low, space.high).astype(space.dtype)
        return out


class RulePolicy(MarketPolicy):
    """Self-consumption batteries and a price-taking coalition bid.

    Args:
        controls: agent ids (default: the coalition and every member agent).
        limit_price_eur_per_mwh: the coalition's limit price; ``None`` = price-taker.
    """

    def __init__(
        self, controls: list[str] | None = None, limit_price_eur_per_mwh: float | None = None
    ):
        super().__init__(controls)
        self.limit_price = limit_price_eur_per_mwh

    def reset(self, env: Any, seed: int | None = None) -> None:
        """Read static scales: peak loads, the coalition's quantity scale, the price map."""
        super().reset(env, seed)
        core = self.env.core
        self.at = ob.index(core.dims.H)
        self.peak = core.members.peak_load_mw
        self.peak_total = float(self.peak.sum())
        self.q_max = core.coalition.q_max_mw
        self.drives_members = core.layout.drives_members
        sp = core.cfg.spot
        self.floor, self.cap = sp.price_floor_eur_per_mwh, sp.price_cap_eur_per_mwh
        self.n_coalition = core.layout.coalition
        self.member_ids = self.env.agent_groups.get("members", [])
        self.eta = core.members.eta  # static: sqrt of round-trip efficiency
        # The PPA (contract data) and the installed capacities behind the observed forecasts.
        cfg, m = core.cfg, core.members
        self.ppa_mw = cfg.ppa.volume_mw
        self.obs_system_mw, self.obs_members_mw = core.scales.system_mw, core.scales.members_mw
        self.system_ren = (cfg.background.solar_mw, cfg.background.wind_mw)
        self.members_ren = (float(m.pv_mw.sum()), float(m.wind_mw.sum()))
        self.weather, self.hours = cfg.weather, core.dims.T
        self.first_hour = (cfg.start_day_of_year - 1) * 24

    def expected_ppa_mw(self, o: np.ndarray) -> float:
        """This hour's expected PPA delivery, MW, from the coalition's observation ``o``."""
        if self.ppa_mw <= 0.0:
            return 0.0
        ac = self.at["coalition"]
        t = round(float(o[6]) * self.hours)  # the episode clock, t / T (envs.sim.observe)
        clear = float(clear_sky_cf(np.array(self.first_hour + t), self.weather.latitude_deg))
        system = float(o[ac["system_renewables_fc"]]) * self.obs_system_mw
        members = float(o[ac["renewables_fc"]]) * self.obs_members_mw
        cf = wind_cf_estimate((system, *self.system_ren), (members, *self.members_ren), clear,
                              self.weather.cloudiness_mean)  # fmt: skip
        return self.ppa_mw * cf

    def act(self, observations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Members first (self-consumption), then the coalition bids what remains."""
        am, out = self.at["members"], {}
        net_mw = 0.0
        for i, a in enumerate(self.member_ids):
            o = observations.get(a)
            if o is None:
                continue
            # Everything in units of the member's own peak load (MW / MW).
            net = float(o[am["net_fc"]])
            power, energy = float(o[am["battery_mw"]]), float(o[am["battery_mwh"]])
            stored = float(o[am["soc"]]) * energy
            charge = min(power, (energy - stored) / self.eta[i])
            discharge = min(power, stored * self.eta[i])
            target = float(np.clip(-net, -discharge, charge))
            batt = 0.0 if power <= 0 else target / power
            if a in self.controls:
                out[a] = np.array([batt, 0.0], dtype=np.float32)
            net_mw += (net + batt * power) * self.peak[i]
        if COALITION_ID in self.controls and COALITION_ID in observations:
            o = observations[COALITION_ID]
            if not self.member_ids:  # members driven by the coalition: use its totals
                ac = self.at["coalition"]
                net_mw = float(o[ac["load_fc"]] - o[ac["renewables_fc"]]) * self.obs_members_mw
            # The PPA delivers part of the need: buy only the rest day-ahead.
            net_mw -= self.expected_ppa_mw(o)
            act = -np.ones(self.n_coalition, dtype=np.float32)
            act[0], act[1] = spot_entries(net_mw, self.q_max)
            if self.limit_price is not None:
                act[1] = price_entry(self.limit_price, self.floor, self.cap)
            if self.drives_members:
                act[-2:] = 0.0
            out[COALITION_ID] = act
        return out
