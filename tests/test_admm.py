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
    with pytest.raises(ConfigError, match=r"personas\[x\]\.beta=2"):
        admm.PersonaSpec(name="x", beta=2.0)
