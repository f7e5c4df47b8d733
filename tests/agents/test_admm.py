"""The ADMM negotiator on the seed's three personas (issue 3, DESIGN §5)."""

import inspect
import json

import numpy as np
import pytest

from agents import admm
from envs.errors import ConfigError


@pytest.fixture(scope="module")
def result():
    return admm.negotiate(admm.load_config("admm_personas"))


def test_shipped_personas_match_the_seed():
    cfg = admm.load_config("admm_personas")
    sizes = {p.name: (p.battery_kwh, p.battery_kw, p.beta) for p in cfg.personas}
    assert sizes == {
        "baker": (2.0, 1.0, 0.1),
        "family": (5.0, 2.5, 0.7),
        "school": (20.0, 10.0, 0.4),
    }


def test_converges_below_1e_5_within_100_iterations(result):
    assert result["iterations_to_converge"] is not None
    assert result["iterations_to_converge"] <= 100
    assert result["final_primal_residual"] < 1e-5
    assert result["member_solve_failures"] == 0


def test_negotiation_flattens_the_neighbourhood_net_load(result):
    assert result["peak_after_kw"] < result["peak_before_kw"]
    assert result["range_after_kw"] < 0.1 * result["range_before_kw"]
    # The schedules add up to the flattened profile (the balance the residual measures).
    total = np.sum(list(result["schedules_kw"].values()), axis=0)
    np.testing.assert_allclose(total, result["net_load_after_kw"])


def test_coordinator_sees_only_schedules():
    # Privacy by construction: the coordinator's only input is the (N, H) schedules.
    assert list(inspect.signature(admm.Coordinator.update).parameters) == ["self", "schedules"]
    coord = admm.Coordinator(3, 4, rho=1.0, flatness_weight=1.0)
    signal, primal, dual = coord.update(np.ones((3, 4)))
    assert signal.shape == (4,) and primal >= 0 and dual >= 0


def test_cli_json_and_plot(tmp_path, capsys):
    png = tmp_path / "admm.png"
    assert admm.main(["--scenario", "admm_personas", "--json", "--plot", str(png)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["iterations"][0]["iteration"] == 1 and png.stat().st_size > 1000
    assert admm.main(["--scenario", "admm_personas"]) == 0
    text = capsys.readouterr().out
    assert "primal_residual_kW" in text and "converged after" in text


def test_unknown_scenario_and_bad_persona():
    assert admm.main(["--scenario", "nope"]) == 2
    with pytest.raises(ConfigError, match=r"beta=2\.0 is out of range; .* in \[0, 1\]"):
        admm.PersonaSpec(name="x", beta=2.0)


# --- the negotiator as a policy of multimarket_v1 (agents.load("admm")) -----------------


def test_batched_members_solve_each_member_problem_as_highs_does():
    # One block-diagonal OSQP call gives every member the solution of its own QP
    # (HiGHS, one member at a time), for the x-update with a proximal target.
    from agents.admm_policy import BatchedMembers

    cfg = admm.load_config("admm_personas")
    rng = np.random.default_rng(3)
    h = 12
    prices = 0.2 + 0.1 * rng.random((6, h))
    nets = rng.normal(2.0, 3.0, (3, h))
    qps = [admm.member_qp(nets[i], prices, p, 0.9, None, 0.05) for i, p in enumerate(cfg.personas)]
    batched = BatchedMembers(qps, rho=1.0, eps=1e-7)
    target = rng.normal(0.0, 2.0, (3, h))
    x = batched.solve(target)
    for i, p in enumerate(cfg.personas):
        solo = _highs_prox(qps[i], rho=1.0, target=target[i])
        np.testing.assert_allclose(x[i], solo, atol=2e-3 * max(1.0, p.battery_kw))


def _highs_prox(q, rho, target, full=False):
    """min cost'v + rho/2 ||x - target||^2 s.t. the member's rows, by HiGHS."""
    import highspy

    from agents.highs import quiet_highs

    n = q.cost.size
    cost = q.cost.copy()
    cost[: q.h] -= rho * target
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, q.a.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, q.col_lo, q.col_hi
    lp.row_lower_, lp.row_upper_ = q.row_lo, np.minimum(q.row_hi, highspy.kHighsInf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = (
        q.a.indptr, q.a.indices, q.a.data,
    )  # fmt: skip
    hs = quiet_highs()
    hs.passModel(lp)
    diag = np.full(n, 1e-6 * rho)
    diag[: q.h] = rho
    hs.passHessian(n, n, highspy.HessianFormat.kTriangular, np.arange(n + 1, dtype=np.int32),
                   np.arange(n, dtype=np.int32), diag)  # fmt: skip
    hs.run()
    assert hs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    v = np.asarray(hs.getSolution().col_value)
    return v if full else v[: q.h]


def test_import_charge_prices_imports_only():
    # y >= max(x, 0) at the import charge: a member that must import pays it on imports.
    p = admm.PersonaSpec("idle", battery_kwh=0.0, battery_kw=0.0, beta=0.0)
    net = np.array([2.0, -1.0, 3.0])
    prices = np.full((1, 3), 0.1)
    q = admm.member_qp(net, prices, p, 0.9, None, import_charge=0.05)
    v = _highs_prox(q, rho=1e-9, target=np.zeros(3), full=True)
    np.testing.assert_allclose(v[:3], net, atol=1e-6)  # no battery: x is the net load
    assert q.cost.size == 4 * 3 + 1 + 1 + 3  # x, c, d, s, eta, xi (S = 1), y
    np.testing.assert_allclose(v[-3:], [2.0, 0.0, 3.0], atol=1e-6)  # y = imports
    # Objective: energy at 0.1 on the net exchange plus 0.05 on imports only.
    assert q.cost @ v == pytest.approx(0.1 * net.sum() + 0.05 * 5.0, abs=1e-6)


def test_admm_policy_beats_the_rule_and_converges_on_default():
    import agents
    import envs

    env = envs.make("multimarket_v1", days=2)
    totals = {}
    for name in ("admm", "rule"):
        pol = agents.load(name)
        obs, _ = env.reset(seed=1)
        pol.reset(env, seed=1)
        total = 0.0
        while env.agents:
            obs, rewards, *_ = env.step(pol.act(obs))
            total += rewards["coalition_0"]
        totals[name] = total
        if name == "admm":
            hist = pol.history
            assert len(hist) == 12  # a negotiation every 4 hours over 48 hours
            assert sum(h["solver_failures"] for h in hist) == 0
            # The members' schedules balance to a small fraction of their battery power.
            scale = env.core.members.battery_mw.sum() * 1000.0
            assert np.median([h["primal_residual_kw"] for h in hist]) < 1e-3 * scale
    assert totals["admm"] > totals["rule"]
