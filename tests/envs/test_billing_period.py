"""Individual rationality over the billing period, end to end (envs/market/billing.py).

A week of the ``rule`` policy: with the default weekly bill no member ends the week worse
off than alone whenever the members' total saving is positive, where the hourly floor
(a one-hour period) leaves some; the true-up is a transfer among members (every market's
cash sums to 0 each hour, the allocation row to the coalition's result), it is in the
members' rewards of that hour, and a shorter period bills and resets each period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import envs
from envs.market.billing import is_worse_off
from evaluation.episode import build_policy, run_episode
from evaluation.metrics import cell_metrics, member_savings


def _week(seed: int, days: int = 7, **overrides):
    env = envs.make("multimarket_v1", scenario="default", days=days, overrides=overrides)
    core = env.unwrapped.core
    results = []
    step = core.step

    def recording_step(*args, **kw):
        results.append(step(*args, **kw))
        return results[-1]

    core.step = recording_step
    ep = run_episode(env, build_policy("rule"), seed)
    return env, ep, results


def test_a_weekly_bill_leaves_no_member_worse_off_where_the_hourly_floor_did():
    # The first seed whose hourly floor leaves a member worse off over the week.
    for seed in range(1000, 1010):
        _, hourly, _ = _week(seed, **{"coalition.billing_period_h": 1})
        before = member_savings(hourly.ledger, hourly.counterfactual).saving_eur.to_numpy()
        if is_worse_off(before).sum() > 0 and before.sum() > 0.0:
            break
    env, ep, results = _week(seed)
    assert env.unwrapped.cfg.coalition.billing_period_h == 168
    after = member_savings(ep.ledger, ep.counterfactual).saving_eur.to_numpy()
    assert after.sum() == pytest.approx(before.sum(), rel=1e-9)  # the same week, > 0
    assert after.sum() > 0.0
    assert is_worse_off(before).sum() > 0  # the hourly floor: some lose over the week
    assert is_worse_off(after).sum() == 0
    assert cell_metrics(ep.ledger, ep.counterfactual, ep.record, ep.fleet)[
        "members_worse_off"] == 0.0  # fmt: skip
    # The info counts the period so far; in its last hour, after the true-up.
    assert results[-1].info["members_worse_off"][0] == 0.0
    assert max(r.info["members_worse_off"][0] for r in results) > 0.0


def test_the_true_up_is_a_transfer_in_the_rewards_of_its_hour():
    env, ep, results = _week(1001, days=2)
    led = ep.ledger
    # Money is conserved: every market's cash sums to 0 in every hour.
    per_market = led.groupby(["step", "market"]).cash_eur.sum()
    assert np.abs(per_market.to_numpy()).max() < 1e-6
    core = env.unwrapped.core
    alloc = led[led.market == "allocation"].pivot(index="step", columns="participant",
                                                  values="cash_eur")  # fmt: skip
    ids = [f"member_{i}" for i in range(core.dims.N)]
    for t, r in enumerate(results):
        cash = alloc.loc[t, ids].to_numpy()
        assert cash.sum() == pytest.approx(-alloc.loc[t, "coalition"], abs=1e-6)
        np.testing.assert_allclose(r.saving[0], r.bill_alone[0] + cash, atol=1e-9)
        np.testing.assert_allclose(r.reward_members[0], r.saving[0], atol=1e-9)  # individual
    assert env.unwrapped.cfg.members.reward == "individual"


def _daily_savings(period_h: int) -> pd.DataFrame:
    """(days, members) savings per day, EUR, of 4 days of ``default`` (seed 1002)."""
    _, ep, _ = _week(1002, days=4, **{"coalition.billing_period_h": period_h})
    led, cf = ep.ledger, ep.counterfactual
    alloc = led[(led.market == "allocation") & led.participant.str.startswith("member_")]
    return pd.concat([
        cf.assign(day=cf.step // 24, eur=cf.bill_eur, who=cf.member),
        alloc.assign(day=alloc.step // 24, eur=alloc.cash_eur, who=alloc.participant),
    ]).groupby(["day", "who"]).eur.sum().unstack()  # fmt: skip


def test_each_billing_period_is_billed_and_reset():
    day = _daily_savings(24)
    assert len(day) == 4 and (day.sum(axis=1) > 0.0).all()
    assert not is_worse_off(day.to_numpy()).any()  # every day is a bill of its own
    # One bill over the 4 days evens members out over them, not within each day.
    assert is_worse_off(_daily_savings(168).to_numpy()).sum() > 0
