"""evaluation.audit: the deviations change what they say, gains are computed right, and the
evaluation page's audit table is what the shipped audit.csv gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import envs
from envs.errors import UnknownNameError
from evaluation import audit
from evaluation.deviations import DEVIATIONS, DeviatingPolicy, Slots, deviation
from evaluation.episode import build_policy, run_episode

ROOT = Path(__file__).resolve().parents[2]


def test_spot_and_capacity_deviations_change_only_their_entries():
    env = envs.make("multimarket_v1", days=1)
    at = Slots.of(env)
    assert list(at.index)[:6] == ["q", "p", "r", "rp", "c", "cp"]
    a = np.full(len(at.index), 0.1, np.float32)
    under = deviation("underbuy_5mw").apply(a, at)
    assert under[0] == pytest.approx(0.1 - 5.0 / at.q_max_mw)
    assert np.array_equal(under[1:], a[1:])
    cap = deviation("capacity_at_zero").apply(a, at)
    assert cap[at.index["c"]] == 1.0 and cap[at.index["cp"]] == -1.0
    assert np.array_equal(np.delete(cap, [4, 5]), np.delete(a, [4, 5]))
    assert deviation("no_day_ahead").apply(a, at)[0] == 0.0


def test_capacity_deviations_do_not_apply_without_a_capacity_market():
    env = envs.make("multimarket_v1", scenario="no_capacity_market", days=1)
    at = Slots.of(env)
    assert not deviation("capacity_at_zero").applies(at)
    assert deviation("underbuy_5mw").applies(at)


def test_unknown_deviation_lists_the_known_ones():
    with pytest.raises(UnknownNameError, match="underbuy_5mw"):
        deviation("nowhere")
    assert audit.main(["--deviations", "nowhere", "--no-progress"]) == 2


def test_a_deviating_episode_buys_less_day_ahead_than_its_reference():
    rows = audit.play(audit.Job("rule", "default", 1000, 1, ("underbuy_10mw",)))
    ref, dev = rows
    assert ref["deviation"] == "reference" and dev["deviation"] == "underbuy_10mw"
    assert ref["members_alone_eur"] == pytest.approx(dev["members_alone_eur"])  # same week
    env = envs.make("multimarket_v1", days=1)
    plain = run_episode(env, build_policy("rule"), 1000)
    shifted = run_episode(env, DeviatingPolicy(build_policy("rule"), deviation("underbuy_10mw")),
                          1000)  # fmt: skip
    gap = plain.record.coalition_position_mw - shifted.record.coalition_position_mw
    assert (gap > 0).mean() > 0.9  # 10 MW less bought in (nearly) every hour


def _frame(gain_eur: list[float], alone_eur: float = 1000.0, days: int = 7) -> pd.DataFrame:
    rows = []
    for seed, g in enumerate(gain_eur):
        base = {"reference": "rule", "scenario": "s", "seed": seed, "days": days,
                "applies": True, "members_alone_eur": alone_eur}  # fmt: skip
        rows.append({**base, "deviation": "reference", "members_saving_eur": 10.0})
        rows.append({**base, "deviation": "underbuy_5mw", "members_saving_eur": 10.0 + g})
    return pd.DataFrame(rows)


def test_gains_are_per_week_in_percent_of_the_bills_alone_and_flagged_above_half_a_percent():
    g = audit.gains(_frame([4.0, 6.0])).iloc[0]
    assert g.gain_eur_week == pytest.approx(5.0) and g.gain_pct == pytest.approx(0.5)
    assert not g.flag  # 0.5% is the limit, not above it
    g = audit.gains(_frame([4.0, 8.0], days=1)).iloc[0]
    assert g.gain_eur_week == pytest.approx(42.0)  # 6 EUR a day, 7 days
    assert g.gain_pct == pytest.approx(0.6) and g.flag


def test_the_evaluation_page_shows_the_shipped_audit():
    df = pd.read_csv(audit.SHIPPED / "audit.csv")
    assert set(df.deviation) == {"reference", *DEVIATIONS}
    page = (ROOT / "evaluation" / "README.md").read_text(encoding="utf-8")
    assert audit.write_readme(ROOT / "evaluation" / "README.md", audit.markdown(df)) == page, (
        "run python -m evaluation.audit --from-csv evaluation/results/audit/audit.csv "
        "--write-readme evaluation/README.md"
    )
