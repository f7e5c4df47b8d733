"""The counterfactual's retail tariff (envs.sim.tariff): derived from each scenario, by a
rehearsal run before the core is built (envs.sim.build)."""

import dataclasses

import numpy as np
import pytest

import envs
from envs.config.scenario import load_scenario
from envs.sim import build
from envs.sim.build import rehearse, wholesale_cost


def energy_price(cfg):
    """The retail energy part of the counterfactual's tariff, EUR/MWh."""
    return rehearse(cfg).energy_eur_per_mwh


def test_fixed_mode_is_the_configured_price():
    cfg = load_scenario("default", days=1, overrides={"tariff.mode": "fixed"})
    assert energy_price(cfg) == cfg.tariff.energy_eur_per_mwh


def test_rehearsal_tariff_is_the_wholesale_cost_plus_the_margin_and_follows_the_scenario():
    costs = {s: wholesale_cost(load_scenario(s, days=2)) for s in
             ("default", "carbon_price", "dark_doldrums")}  # fmt: skip
    d = costs["default"]
    assert d["total"] == pytest.approx(d["energy"] + d["reserve"] + d["capacity"])
    cfg = load_scenario("default", days=2)
    assert energy_price(cfg) == pytest.approx(d["total"] + cfg.tariff.margin_eur_per_mwh)
    # Dearer scenarios have dearer retailers: carbon in the costs, a dark cold week.
    assert costs["carbon_price"]["energy"] > d["energy"] + 10.0
    assert costs["dark_doldrums"]["energy"] > d["energy"] + 10.0
    # A fixed seed of its own: the same tariff every time.
    assert wholesale_cost(load_scenario("default", days=2)) == d


def test_the_rehearsal_faces_the_scenarios_market_power():
    # A retailer buys in the same market: incumbents that withhold make it dearer.
    strategic = load_scenario("strategic_incumbents", days=2)
    competitive = dataclasses.replace(
        strategic, fleet=dataclasses.replace(strategic.fleet, strategy="competitive")
    )
    assert wholesale_cost(strategic)["energy"] > wholesale_cost(competitive)["energy"]


def test_the_rehearsal_is_cached_by_its_own_config(monkeypatch):
    # Scenarios that differ only where the rehearsal does not look (who controls the
    # agents: the rehearsal's coalition drives scripted members against scripted
    # incumbents) share one rehearsal; a config the rehearsal reads (the spot cap) is a
    # rehearsal of its own.
    runs = []
    real = build._rehearsal
    monkeypatch.setattr(build, "_rehearsal", lambda rcfg: runs.append(rcfg) or real(rcfg))
    monkeypatch.setattr(build, "_REHEARSALS", {})
    cfg = load_scenario("default", days=1)
    same = load_scenario("default", days=1, overrides={"members.agents": False,
                                                       "fleet.controlled": True})  # fmt: skip
    other = load_scenario("default", days=1, overrides={"spot.price_cap_eur_per_mwh": 2000.0})
    assert wholesale_cost(cfg) == wholesale_cost(same)
    assert len(runs) == 1
    assert rehearse(same).retail_by_hour.tolist() == rehearse(cfg).retail_by_hour.tolist()
    wholesale_cost(other)
    assert len(runs) == 2


def test_a_core_is_built_with_its_tariff_and_builds_no_other_core(monkeypatch):
    from envs.sim import core as core_module

    cfg = load_scenario("default", days=1)
    tariff = rehearse(cfg)
    built = []
    init = core_module.MarketCore.__init__
    monkeypatch.setattr(core_module.MarketCore, "__init__",
                        lambda self, *a, **k: built.append(a) or init(self, *a, **k))  # fmt: skip
    core = core_module.MarketCore(cfg, 2, tariff=tariff)
    assert len(built) == 1 and core.tariff is tariff


def test_dynamic_tariff_passes_the_hours_price_through():
    env = envs.make("multimarket_v1", days=1, overrides={"tariff.mode": "dynamic"})
    env.reset(seed=2)
    tf, core = env.cfg.tariff, env.core
    rng = np.random.default_rng(0)
    prices = []
    while env.agents:
        _, _, _, _, infos = env.step(
            {a: rng.uniform(-1, 1, env.action_space(a).shape) for a in env.agents}
        )
        prices.append(infos["coalition_0"]["market/price_eur_per_mwh"])
    bills = env.counterfactual_bills()
    adder = tf.margin_eur_per_mwh + tf.network_eur_per_mwh + tf.taxes_eur_per_mwh
    # A member that only imports pays (price + margin + network + taxes) per MWh.
    for t in (5, 12, 20):
        row = bills[bills.step == t]
        imports = row.bill_eur.to_numpy()
        pos = imports > 0
        x = np.maximum(core.episode.load[0, t] - core.episode.ren[0, t], 0.0)  # before the battery
        assert pos.any()
        rate = imports[pos] / np.maximum(x[pos], 1e-9)
        # The battery can only lower imports, so the rate per MWh of gross need is at most
        # the dynamic price, and exactly it for members without a battery.
        no_batt = core.members.battery_mw[pos] == 0
        if no_batt.any():
            np.testing.assert_allclose(rate[no_batt], prices[t] + adder, rtol=1e-9)
        assert np.all(rate <= prices[t] + adder + 1e-6)
