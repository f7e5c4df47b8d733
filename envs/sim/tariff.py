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
"""

from __future__ import annotations

import dataclasses

import numpy as np

from envs.config.scenario import ScenarioConfig

#: Seed and batch of the rehearsal: fixed, so a scenario has one tariff.
REHEARSAL_SEED = 20_261_129
REHEARSAL_ENVS = 32


def wholesale_cost(cfg: ScenarioConfig) -> dict[str, float]:
    """Wholesale cost of supplying the members in a price-taking rehearsal, EUR/MWh.

    Returns:
        ``energy`` (the day-ahead price weighted by the members' imports), ``reserve``
        and ``capacity`` (their costs per MWh of all consumption) and ``total``.
    """
    key = repr(cfg)  # the config holds dicts, so it is not hashable itself
    if key not in _CACHE:
        _CACHE[key] = _wholesale_cost(cfg)
    return dict(_CACHE[key])


_CACHE: dict[str, tuple[tuple[str, float], ...]] = {}


def _wholesale_cost(cfg: ScenarioConfig) -> tuple[tuple[str, float], ...]:
    from envs.actors.coalition import price_entry
    from envs.sim import scripted
    from envs.sim.core import MarketCore

    rep = dataclasses.replace
    rcfg = rep(
        cfg,
        tariff=rep(cfg.tariff, mode="fixed"),
        fleet=rep(cfg.fleet, controlled=False),
        members=rep(cfg.members, agents=False),
    )
    core = MarketCore(rcfg, REHEARSAL_ENVS, record_ledger=False)
    core.reset(np.random.default_rng(REHEARSAL_SEED))
    # The retailer sells each member its imports (load less its own renewables), which
    # fall in the dearer hours when members have PV: weight the price by them.
    load = np.maximum(core.load[:, : core.T] - core.ren[:, : core.T], 0.0).sum(-1)
    energy = reserve = capacity = consumption = 0.0
    # The members' surplus is offered at the system renewables' price, not dumped at the
    # floor: a large coalition selling at -500 EUR/MWh would crash the price it is priced on.
    sp = cfg.spot
    sell = price_entry(cfg.background.renewable_offer_eur_per_mwh, sp.price_floor_eur_per_mwh,
                       sp.price_cap_eur_per_mwh)  # fmt: skip
    for t in range(core.T):
        act = scripted.coalition_actions(core)
        act[:, 1] = np.where(act[:, 0] < 0.0, sell, act[:, 1])
        r = core.step(act, None, None)
        i = r.info
        energy += float(np.sum(i["price_eur_per_mwh"] * load[:, t]))
        reserve += float(np.sum(i["reserve_price_eur_per_mw"] * i["reserve_requirement_mw"]))
        capacity += float(
            np.sum(i["capacity_price_eur_per_mw_day"] / 24.0 * i["capacity_committed_mw"])
        )
        consumption += float(
            np.sum(i["background_consumption_mwh"] + np.maximum(i["coalition_metered_mw"], 0.0))
        )
    e = energy / max(float(load.sum()), 1e-9)
    r_, c_ = reserve / max(consumption, 1e-9), capacity / max(consumption, 1e-9)
    return (("energy", e), ("reserve", r_), ("capacity", c_), ("total", e + r_ + c_))


def energy_price(cfg: ScenarioConfig) -> float:
    """The retail energy part of the counterfactual's tariff, EUR/MWh (before time-of-use
    multipliers, network charges and taxes)."""
    tf = cfg.tariff
    if tf.mode == "fixed":
        return float(tf.energy_eur_per_mwh)
    if tf.mode == "dynamic":
        return 0.0  # the step adds the hour's day-ahead price
    return wholesale_cost(cfg)["total"] + tf.margin_eur_per_mwh
