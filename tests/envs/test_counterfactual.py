"""The individual-actor counterfactual, recomputed from the profiles in numpy.

Each member alone runs its own battery for self-consumption, imports at the retail
tariff (energy + network + taxes) and exports at the feed-in tariff (DESIGN §3.5). The
kernel computes this every step; here the same bills are rebuilt from the episode's
profiles with the numpy battery model of ``envs.actors.members``.
"""

import numpy as np
import pytest

import envs
from envs.actors.members import self_consumption_power, soc_after


@pytest.mark.parametrize("scenario", ["default", "community_discount"])
def test_counterfactual_bills_match_numpy_recomputation(scenario):
    env = envs.make("multimarket_v1", scenario=scenario, days=2)
    env.reset(seed=3)
    rng = np.random.default_rng(0)
    while env.agents:
        env.step({a: rng.uniform(-1, 1, env.action_space(a).shape) for a in env.agents})
    core, m, tf = env.core, env.core.members, env.cfg.tariff
    # The tariff's energy part comes from the scenario's competitive rehearsal (its own
    # test is tests/envs/test_tariff.py); the bills are rebuilt around it here.
    energy = np.full(24, core.tariff.energy_eur_per_mwh)
    if tf.time_of_use:
        peak = np.isin(np.arange(24), tf.peak_hours)
        energy = np.where(peak, energy * tf.peak_multiplier, energy * tf.offpeak_multiplier)
    retail = energy + tf.network_eur_per_mwh + tf.taxes_eur_per_mwh
    soc = np.full((1, core.dims.N), 0.5) * m.battery_mwh
    bills = []
    for t in range(core.dims.T):
        net0 = core.episode.load[:, t] - core.episode.ren[:, t]
        power = self_consumption_power(net0, soc, m)
        soc = soc_after(soc, power, m)
        x = np.maximum(net0 + power, -m.export_limit_mw)
        bills.append(
            np.maximum(x, 0.0) * retail[t % 24] - np.maximum(-x, 0.0) * tf.feed_in_eur_per_mwh
        )
    expected = np.concatenate(bills)[:, :].ravel()
    got = env.counterfactual_bills().sort_values(["step", "member"], key=_member_order)
    np.testing.assert_allclose(got.bill_eur.to_numpy(), expected, rtol=1e-9, atol=1e-9)


def _member_order(col):
    if col.name == "member":
        return col.str.removeprefix("member_").astype(int)
    return col
