"""reservation_exchange_v0: PettingZoo API, determinism, errors, settlement, baselines."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test

from agents.rex_traders import MarketMaker, NoLossTrader, ZICTrader
from envs.errors import ActionError, ConfigError, EpisodeOverError
from envs.reservation_exchange_v0 import ExchangeConfig, load_config, make_env
from evaluation import rex_metrics

SMALL = {"hours": 3}


def rollout(seed: int, env=None, policy=None, action_seed: int | None = None):
    env = env or make_env(**SMALL)
    obs, infos = env.reset(seed=seed)
    for i, a in enumerate(env.possible_agents):
        env.action_space(a).seed(seed * 100 + i if action_seed is None else action_seed + i)
    if policy is not None:
        policy.reset(env, seed=seed)
    history = [(obs, None, infos)]
    while env.agents:
        if policy is None:
            actions = {a: env.action_space(a).sample() for a in env.agents}
        else:
            actions = policy.act(obs)
        obs, rewards, _, _, infos = env.step(actions)
        history.append((obs, rewards, infos))
    return env, history


def same(x, y) -> bool:
    if isinstance(x, dict):
        return x.keys() == y.keys() and all(same(x[k], y[k]) for k in x)
    if isinstance(x, (list, tuple)):
        return len(x) == len(y) and all(same(a, b) for a, b in zip(x, y, strict=True))
    if isinstance(x, np.ndarray):
        return np.array_equal(x, y)
    return x == y


def test_parallel_api() -> None:
    parallel_api_test(make_env(**SMALL), num_cycles=200)


def test_aec_api() -> None:
    api_test(make_env(api="aec", **SMALL), num_cycles=200)


def test_full_episode_determinism() -> None:
    _, h1 = rollout(3)
    _, h2 = rollout(3)
    _, h3 = rollout(4)
    assert same(h1, h2)
    assert not same(h1, h3)


def test_no_trade_after_gate_closure_and_cash_nets_to_zero() -> None:
    env, history = rollout(1, env=make_env(hours=4))
    m = env.config.market
    tr = env.trades()
    assert len(tr) > 0
    gate = (tr.delivery_hour + m.horizon_h) * m.intervals_per_hour - m.gate_lead_intervals
    assert (tr.interval < gate).all()
    assert (tr.interval >= tr.delivery_hour * m.intervals_per_hour).all()
    for _, rewards, infos in history[1:]:
        assert sum(i["trade_cash_eur"] for i in infos.values()) == pytest.approx(0.0, abs=1e-6)
        for a, r in rewards.items():
            assert r == pytest.approx(infos[a]["trade_cash_eur"] + infos[a]["settlement_eur"])
    # The reservations are exactly the net traded quantities.
    res = np.zeros_like(env.reservations_mw())
    np.add.at(res, (tr.buyer, tr.delivery_hour), tr.qty_mw)
    np.add.at(res, (tr.seller, tr.delivery_hour), -tr.qty_mw)
    assert np.allclose(res, env.reservations_mw())


def test_settlement_and_no_reservation_no_service() -> None:
    idle = lambda env: {a: np.zeros((4, 6), np.float32) for a in env.agents}  # noqa: E731
    for nrns in (False, True):
        env = make_env(hours=2, overrides={"settlement.no_reservation_no_service": nrns})
        env.reset(seed=0)
        total, unserved = np.zeros(4), np.zeros(4)
        while env.agents:
            _, r, _, _, info = env.step(idle(env))
            total += list(r.values())
            unserved += [info[a]["unserved_mwh"] for a in info]
        real = env.realised_mw()
        s = env.config.settlement
        short, long = np.clip(real, 0, None).sum(1), np.clip(-real, 0, None).sum(1)
        if nrns:
            assert np.allclose(total, -s.voll_eur_per_mwh * short) and np.allclose(unserved, short)
        else:
            expect = -s.imbalance_short_eur_per_mwh * short + s.imbalance_long_eur_per_mwh * long
            assert np.allclose(total, expect) and not unserved.any()


def test_bad_actions_raise_and_clip_is_counted() -> None:
    env = make_env(**SMALL)
    env.reset(seed=0)
    good = {a: np.zeros((4, 6), np.float32) for a in env.agents}
    bad = np.zeros((4, 6), np.float32)
    bad[0, 0] = np.nan
    with pytest.raises(ActionError, match=r"action of member_1 contains NaN or inf; expected Box"):
        env.step({**good, "member_1": bad})
    with pytest.raises(ActionError, match=r"member_0 has shape \(6,\).*expected Box"):
        env.step({**good, "member_0": np.zeros(6, np.float32)})
    with pytest.raises(ActionError, match="dtype int64"):
        env.step({**good, "member_0": np.zeros((4, 6), np.int64)})
    with pytest.raises(ActionError, match=r"unknown agent\(s\) \['ghost'\]"):
        env.step({**good, "ghost": np.zeros((4, 6), np.float32)})
    big = np.zeros((4, 6), np.float32)
    big[:2, 0] = 3.0
    _, _, _, _, infos = env.step({**good, "member_2": big})
    assert infos["member_2"]["n_clipped"] == 2 and infos["member_0"]["n_clipped"] == 0


def test_step_after_episode_raises() -> None:
    env, _ = rollout(0, env=make_env(hours=1))
    with pytest.raises(EpisodeOverError, match="episode is over; call reset"):
        env.step({})


def test_config_loading_and_errors() -> None:
    assert load_config("reservation_exchange") == ExchangeConfig()
    env = make_env("reservation_exchange", overrides={"market.horizon_h": 2}, hours=5)
    assert env.config.market.horizon_h == 2 and env.config.hours == 5
    assert env.action_space("member_0").shape == (2, 6)
    with pytest.raises(ConfigError, match=r"unknown key market\.bogus; valid keys of market"):
        make_env(overrides={"market.bogus": 1})
    with pytest.raises(ConfigError, match=r"market.gate_lead_intervals=9"):
        make_env(overrides={"market.gate_lead_intervals": 9})
    with pytest.raises(ValueError, match="api='gym'"):
        make_env(api="gym")


def test_observation_contents() -> None:
    env = make_env(**SMALL)
    obs, _ = env.reset(seed=0)
    o = obs["member_0"]
    assert o["lob"].shape == (4, 20, 2) and o["time_to_gate"][-1] == 15
    act = np.zeros((4, 6), np.float32)
    act[3, 1], act[3, 2] = 0.5, 0.0  # bid 1 MW at 100 EUR/MWh in the open book
    obs, *_ = env.step({"member_0": act})
    o = obs["member_0"]
    assert o["own_orders"][3, 0] == pytest.approx(1.0) and o["depth"][3, 0] == pytest.approx(1.0)
    assert o["best_price"][3, 0] == 100.0 and o["lob"][3, 10, 0] == pytest.approx(1.0)
    assert env.state().shape == env.state_space.shape


def _mixed() -> list:
    return [
        MarketMaker(["member_0"]),
        ZICTrader(["member_1"]),
        NoLossTrader(["member_2", "member_3"]),
    ]


@pytest.mark.parametrize("make_policies", [lambda: [ZICTrader()], lambda: [NoLossTrader()], _mixed])
def test_baselines_trade_and_metrics(make_policies) -> None:
    runs = []
    for _ in range(2):
        policies = make_policies()
        env = make_env(hours=8, start_hour=9)
        obs, _ = env.reset(seed=2)
        for k, pol in enumerate(policies):
            pol.reset(env, seed=10 + k)
        history = [obs]
        while env.agents:
            actions = {}
            for pol in policies:
                actions.update(pol.act(obs))
            obs, rewards, _, _, infos = env.step(actions)
            history.append((obs, rewards, infos))
        runs.append(history)
    assert same(runs[0], runs[1])
    tr = env.trades()
    assert len(tr) > 0
    s = env.config.settlement
    if isinstance(policies[0], NoLossTrader):  # never worse than the imbalance settlement
        assert (tr.price_eur_per_mwh >= s.imbalance_long_eur_per_mwh - 1e-9).all()
        assert (tr.price_eur_per_mwh <= s.imbalance_short_eur_per_mwh + 1e-9).all()
    signed, total = rex_metrics.imbalance_by_participant(env.reservations_mw(), env.realised_mw())
    assert signed.shape == (4, 8) and (total >= 0).all()
    m = env.config.market
    gate = (tr.delivery_hour + m.horizon_h) * m.intervals_per_hour - m.gate_lead_intervals
    levels, std = rex_metrics.volatility_to_gate(
        tr.delivery_hour, gate - tr.interval, tr.price_eur_per_mwh
    )
    assert levels.shape == std.shape and (levels > 0).all()
    orders = env.orders()
    grid = m.grid
    lots_traded = np.rint(tr.qty_mw / grid.lot_mw).astype(np.int64)
    assert lots_traded.sum() <= orders["lots"][orders["side"] == 1].sum()
    ratio = rex_metrics.fill_ratio(orders["lots"] * grid.lot_mw, np.repeat(tr.qty_mw, 2))
    assert 0.0 < ratio <= 1.0
    for h in np.unique(tr.delivery_hour):  # efficiency of each book against its call clearing
        o, k = orders["delivery_hour"] == h, tr.delivery_hour == h
        eff = rex_metrics.allocative_efficiency(
            orders["side"][o],
            grid.price(orders["tick"][o]),
            orders["lots"][o] * grid.lot_mw,
            tr.buy_order[k],
            tr.sell_order[k],
            tr.qty_mw[k],
        )
        assert np.isnan(eff) or -1e-9 <= eff <= 1.0 + 1e-9


def test_metric_golden_examples() -> None:
    import doctest

    from envs.market import orderbook

    for module in (rex_metrics, orderbook):
        assert doctest.testmod(module).failed == 0
    assert np.isnan(rex_metrics.spread(np.array([np.nan]), np.array([1.0]))[0])
    assert rex_metrics.depth(np.array([1.0, 2.0])) == 3.0
