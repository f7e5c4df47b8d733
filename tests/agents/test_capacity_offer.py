"""The MPC's capacity offer: the commitment its LP chooses on hand-solved cases, the price
it expects, and the offer it makes in an episode."""

import numpy as np
import pytest

import agents
import envs
from agents.capacity_offer import CapacityOutlook, choose_commitment
from agents.lp import CoalitionLP, MarketInputs
from envs.actors.coalition import capacity_entry
from envs.adapters.parallel import COALITION_ID
from envs.sim.observe import index


def _commit(stored_mwh: float, value: float, rate: float, scarcity: float,
            stop_loss: float = 1e9) -> float:  # fmt: skip
    # One member, 1 MW / 1 MWh, lossless, no load, one hour, nothing to trade for: it can
    # deliver what it has stored in the hour, and 1 MW is its firm capacity.
    one = np.array([1.0])
    lp = CoalitionLP(one, one, one, np.array([0.0]), np.array([0.0]), horizon_h=1,
                     q_max_mw=10.0, import_charge_eur_per_mwh=0.0, reserve=False)  # fmt: skip

    def solve(mk: MarketInputs) -> dict[str, np.ndarray]:
        return lp.solve(np.zeros((1, 1)), np.array([stored_mwh]), np.array([0.0]), np.zeros(1),
                        0.0, np.array([False]), terminal_value_share=0.0, market=mk)  # fmt: skip

    market = MarketInputs(scarcity=scarcity, penalty_eur_per_mwh=rate)
    return float(choose_commitment(lp, solve, market, value, stop_loss, 1.0)["K"])


def test_cash_above_the_expected_charges_commits_the_firm_capacity():
    # Empty battery: every committed MW is short in the hour. Cash 150 EUR/MW against a
    # charge of 100 EUR/MWh * 0.5 probability = 50 EUR/MW: commit the whole 1 MW.
    assert _commit(0.0, value=150.0, rate=100.0, scarcity=0.5) == pytest.approx(1.0)


def test_charges_above_the_cash_commit_nothing():
    # A high rate in a certain scarcity hour: 1,000 EUR/MWh short against 150 EUR/MW.
    assert _commit(0.0, value=150.0, rate=1000.0, scarcity=1.0) == pytest.approx(0.0)


def test_stored_energy_covers_part_of_the_commitment():
    # 0.4 MWh stored delivers 0.4 MW in the scarcity hour for nothing (it is worth nothing
    # else); each MW beyond is short at 1,000 EUR/MWh against 150 EUR/MW: commit 0.4 MW.
    assert _commit(0.4, value=150.0, rate=1000.0, scarcity=1.0) == pytest.approx(0.4)


def test_the_stop_loss_caps_the_charges():
    # Charges of 1,000 EUR/MWh short, capped at 100 EUR per committed MW: committing the
    # 1 MW earns 150 - 100 > 0, so the plan that pays the stop-loss wins.
    capped = {"rate": 1000.0, "scarcity": 1.0, "stop_loss": 100.0}
    assert _commit(0.0, value=150.0, **capped) == pytest.approx(1.0)
    assert _commit(0.0, value=90.0, **capped) == pytest.approx(0.0)


def _outlook(net_short: bool) -> CapacityOutlook:
    return CapacityOutlook(floor_eur_per_mw_day=375.0, cap_eur_per_mw_day=375.0,
                           static_price_eur_per_mw_day=160.0, net_short=net_short,
                           scarcity_prior=30 / 8760, stop_loss_eur_per_mw_h=15.6)  # fmt: skip


def test_price_forecast_floor_while_net_short_else_last_or_static_price():
    # Net short: the auction raises the offer to the floor, and an accepted offer is paid
    # at least its price. Net long: the last cleared price, or the static VRR price.
    assert _outlook(True).price(0.0) == 375.0
    assert _outlook(True).price(200.0) == 375.0
    assert _outlook(False).price(0.0) == 160.0
    assert _outlook(False).price(200.0) == 200.0
    # A day of cash at 375 EUR/MW-day less a 20 % consumption share, over 12 hours.
    assert _outlook(True).value(375.0, 0.2, 12) == pytest.approx(150.0)


def test_outlook_of_the_default_scenario():
    env = envs.make("multimarket_v1", days=2)
    env.reset(seed=0)
    ol = CapacityOutlook.of(env.core)
    cc = env.core.cfg.capacity
    assert ol.net_short  # its batteries' firm MW are below its members' obligation
    assert ol.price(0.0) == cc.mopr_floor_eur_per_mw_day
    assert ol.stop_loss_eur_per_mw_h * 8760 == pytest.approx(cc.stop_loss_eur_per_mw_year)


def _first_offer(pol, seed: int = 0) -> tuple[float, float, object]:
    """The coalition's capacity entry at the auction (t = 0) and the award it got; then
    the rest of the two-day episode."""
    env = envs.make("multimarket_v1", days=2)
    obs, _ = env.reset(seed=seed)
    pol.reset(env, seed=seed)
    at = index(env.core.dims.H)["coalition"]
    assert obs[COALITION_ID][at["capacity_auction"]] == 1.0
    slot = 4  # q, p, r, rp, then c: the capacity quantity entry
    actions = pol.act(obs)
    entry = float(actions[COALITION_ID][slot])
    obs, *_ = env.step(actions)
    award = float(env.core.state.cap_award_c_mw[0])
    while env.agents:
        obs, *_ = env.step(pol.act(obs))
    return entry, award, pol


def test_mpc_chooses_its_offer_and_the_share_override_keeps_the_old_one():
    entry, award, pol = _first_offer(agents.load("mpc"))
    firm = pol.firm_mw
    # The batteries deliver the firm MW in the hours the MPC expects to be scarce at the
    # cash the floor pays: it offers them all (the auction may accept fewer).
    assert entry == pytest.approx(capacity_entry(1.0))
    assert 0.0 <= award <= firm + 1e-9
    fixed, _, _ = _first_offer(agents.load("mpc", capacity_share=0.5))
    assert fixed == pytest.approx(capacity_entry(0.5))
    with pytest.raises(ValueError, match="capacity_share"):
        agents.load("mpc", capacity_share=1.5)


def test_mpc_offers_again_at_each_auction_of_a_period():
    # Daily auctions: the second one prices the offer from the first one's cleared price.
    env = envs.make("multimarket_v1", days=2, overrides={"capacity.period_h": 24})
    obs, _ = env.reset(seed=1)
    pol = agents.load("mpc")
    pol.reset(env, seed=1)
    at = index(env.core.dims.H)["coalition"]
    offers = []
    while env.agents:
        auction = obs[COALITION_ID][at["capacity_auction"]] == 1.0
        actions = pol.act(obs)
        if auction:
            offers.append(float(actions[COALITION_ID][4]))
        obs, *_ = env.step(actions)
    assert len(offers) == 2
    assert all(-1.0 <= c <= 1.0 for c in offers)
