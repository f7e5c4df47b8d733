"""The retail tariff of the individual-actor counterfactual (DESIGN §3 step 5).

A member acting alone buys from a retailer. In ``rehearsal`` mode (the default) the
retailer's energy price covers what supplying that member costs in *this* scenario: the
day-ahead price weighted by the members' imports (load less own renewables) plus the
reserve and capacity costs per MWh of consumption, measured in a price-taking rehearsal
of the scenario (the fleet follows the scenario's scripted strategy, so a retailer faces
the same market power; the coalition buys its members' forecast net load as a price-taker
and offers their surplus at the renewables' price; 32 weeks on a fixed seed, independent
of the episode's), plus the retailer's margin. So "saving against acting alone"
measures what the coalition adds, not the spread between a fixed tariff and the
scenario's wholesale price.
``fixed`` uses the configured energy price; ``dynamic`` passes the hour's day-ahead
price through (the step adds the margin).

This module states the tariff and the rehearsal's accounting; the rehearsal itself runs a
simulator, so it is a step of building one (:func:`envs.sim.build.rehearse`), whose result
:class:`TariffRecord` the core receives.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from envs.config.scenario import ScenarioConfig

F64 = NDArray[np.float64]

#: Seed and batch of the rehearsal: fixed, so a scenario has one tariff.
REHEARSAL_SEED = 20_261_129
REHEARSAL_ENVS = 32


class TariffRecord(NamedTuple):
    """The counterfactual's retail tariff of one scenario."""

    #: The retail energy part, EUR/MWh, before time-of-use multipliers, network charges and
    #: taxes (0 when dynamic: the step adds the hour's day-ahead price).
    energy_eur_per_mwh: float
    #: (24,) the full retail price by hour of day, EUR/MWh: the energy part (time-of-use
    #: where the scenario says so) + network + taxes.
    retail_by_hour: F64


def rehearsal_config(cfg: ScenarioConfig) -> ScenarioConfig:
    """The scenario as the rehearsal runs it: a fixed tariff (the one being derived is not
    known yet), scripted incumbents and members the coalition drives."""
    rep = dataclasses.replace
    return rep(
        cfg,
        tariff=rep(cfg.tariff, mode="fixed"),
        fleet=rep(cfg.fleet, controlled=False),
        members=rep(cfg.members, agents=False),
    )


class WholesaleSums(NamedTuple):
    """The rehearsal's running sums, EUR and MWh over envs and hours."""

    energy_eur: float = 0.0  # day-ahead price * the members' imports
    reserve_eur: float = 0.0  # reserve price * requirement
    capacity_eur: float = 0.0  # capacity price per hour * committed MW
    consumption_mwh: float = 0.0  # background consumption + the coalition's metered imports

    def add(self, info: dict[str, F64], imports_mwh: F64) -> WholesaleSums:
        """These sums with one hour's step infos (:data:`envs.sim.kernel.INFO_KEYS`, (E,)
        each) and the members' imports ``imports_mwh`` (E,) added."""
        i = info
        return WholesaleSums(
            self.energy_eur + float(np.sum(i["price_eur_per_mwh"] * imports_mwh)),
            self.reserve_eur
            + float(np.sum(i["reserve_price_eur_per_mw"] * i["reserve_requirement_mw"])),
            self.capacity_eur
            + float(np.sum(i["capacity_price_eur_per_mw_day"] / 24.0 * i["capacity_committed_mw"])),
            self.consumption_mwh
            + float(
                np.sum(i["background_consumption_mwh"] + np.maximum(i["coalition_metered_mw"], 0.0))
            ),
        )

    def costs(self, imports_mwh: float) -> dict[str, float]:
        """Wholesale cost of supplying the members, EUR/MWh: ``energy`` (the day-ahead
        price weighted by their ``imports_mwh`` in all), ``reserve`` and ``capacity`` (their
        costs per MWh of all consumption) and ``total``."""
        e = self.energy_eur / max(imports_mwh, 1e-9)
        consumption = max(self.consumption_mwh, 1e-9)
        r, c = self.reserve_eur / consumption, self.capacity_eur / consumption
        return {"energy": e, "reserve": r, "capacity": c, "total": e + r + c}


def tariff_record(cfg: ScenarioConfig, wholesale_eur_per_mwh: float | None = None) -> TariffRecord:
    """The tariff of scenario ``cfg``. ``wholesale_eur_per_mwh``: the rehearsal's total
    wholesale cost, needed (only) in ``rehearsal`` mode."""
    tf = cfg.tariff
    if tf.mode == "fixed":
        energy = float(tf.energy_eur_per_mwh)
    elif tf.mode == "dynamic":
        energy = 0.0  # the step adds the hour's day-ahead price
    elif wholesale_eur_per_mwh is None:
        raise ValueError("a rehearsal tariff needs the rehearsal's wholesale cost")
    else:
        energy = wholesale_eur_per_mwh + tf.margin_eur_per_mwh
    price = np.full(24, energy)
    if tf.time_of_use:
        peak = np.isin(np.arange(24), tf.peak_hours)
        price = np.where(peak, energy * tf.peak_multiplier, energy * tf.offpeak_multiplier)
    return TariffRecord(energy, price + tf.network_eur_per_mwh + tf.taxes_eur_per_mwh)
