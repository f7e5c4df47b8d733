"""The env pays the coalition's reserve to the batteries that back it (DESIGN §3 step 5).

End to end: an MPC episode (it offers reserve every hour) is replayed hour by hour
through the public :func:`envs.market.allocation.allocate`, with the reserve's cash ``B``
rebuilt from the ledger and infos (award x reserve price - non-delivery penalty +
activation x (imbalance price - spot price)) and the backing key rebuilt from the
members' actions (battery set-point + largest discharge, the activation key). The env's
allocation to every member must equal it, and must differ from the installed-MW split
wherever the headroom is not proportional to the installed MW. Individual rationality is
the billing period's (:func:`envs.market.billing.true_up` in the period's last hour, here
the episode's), replayed on the savings so far.
"""

from __future__ import annotations

import numpy as np
import pytest

import agents
import envs
from agents.learned import feasible_set_points
from envs.actors.members import battery_bounds
from envs.adapters.infos import nested_info
from envs.market.allocation import allocate
from envs.market.billing import true_up


def _episode(scenario: str, seed: int):
    env = envs.make("multimarket_v1", scenario=scenario, days=1)
    obs, _ = env.reset(seed=seed)
    pol = agents.load("mpc")
    pol.reset(env, seed=seed)
    core = env.unwrapped.core
    m = core.members
    ids = [f"member_{i}" for i in range(core.dims.N)]
    hours = []
    while env.agents:
        act = pol.act(obs)
        soc, debt = core.state.soc_mwh[0].copy(), core.state.debt_mwh[0].copy()
        a = np.stack([act[i] for i in ids]).astype(np.float64)
        batt, _, _ = feasible_set_points(a, soc, debt, False, m)
        _, discharge = battery_bounds(soc, m)
        obs, _, _, _, infos = env.step(act)
        hours.append((np.maximum(batt + discharge, 0.0), infos))
    return env, hours


@pytest.mark.parametrize("scenario", ["default", "heatwave_scarcity"])
def test_the_reserve_goes_to_the_members_by_their_headroom(scenario):
    env, hours = _episode(scenario, seed=3)
    cfg = env.unwrapped.cfg
    core = env.unwrapped.core
    assets = core.members.battery_mw + core.members.flex_mw
    ids = [f"member_{i}" for i in range(core.dims.N)]
    led = env.ledger()
    differs = 0
    so_far = np.zeros((1, core.dims.N))
    for t, (head, infos) in enumerate(hours):
        rows = led[led.step == t]
        mine = rows[(rows.market == "allocation") & rows.participant.isin(ids)]
        mine = mine.set_index("participant").loc[ids]
        coal = rows[rows.participant == "coalition"].set_index("market")
        co = nested_info(infos["coalition_0"])
        mk = co["market"]
        price = mk["price_eur_per_mwh"]
        backed = (
            coal.reserve_mw.get("reserve", 0.0) * mk["reserve_price_eur_per_mw"]
            - co["reserve_not_delivered_mwh"] * cfg.reserve.non_delivery_penalty_eur_per_mwh
            + coal.energy_mwh.get("balancing", 0.0) * (mk["imbalance_price_eur_per_mwh"] - price)
        )
        args = (
            np.array([co["coalition_result_eur"]]), -mine.energy_mwh.to_numpy()[None],
            np.array([[infos[i]["counterfactual_bill_eur"] for i in ids]]), assets[None],
            np.array([price]),
        )  # fmt: skip
        kw = dict(
            network_eur_per_mwh=cfg.tariff.network_eur_per_mwh,
            taxes_eur_per_mwh=cfg.tariff.taxes_eur_per_mwh,
            discount=cfg.tariff.community_discount, rule=cfg.coalition.allocation,
            ir_floor=False,
        )  # fmt: skip
        want = allocate(*args, **kw, backed_eur=backed, backing_mw=head[None]).alloc_eur
        end = np.array([t == len(hours) - 1 or (t + 1) % cfg.coalition.billing_period_h == 0])
        bill = args[2]
        want = true_up(so_far, bill, want, end,
                       floor=cfg.coalition.individually_rational).alloc_eur  # fmt: skip
        so_far = np.zeros_like(so_far) if end[0] else so_far + bill + want
        want = want[0]
        np.testing.assert_allclose(mine.cash_eur.to_numpy(), want, rtol=1e-9, atol=1e-6)
        by_assets = allocate(*args, **kw).alloc_eur[0]
        differs += not np.allclose(by_assets, want, rtol=1e-9, atol=1e-6)
    assert differs > 0  # the rule matters in this episode: the test can tell them apart
