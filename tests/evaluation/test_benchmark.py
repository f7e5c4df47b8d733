"""``python -m evaluation.benchmark``'s own measurements (the figures themselves are quoted
in the README from a run, never asserted: a timed unit test cannot hold on a shared machine)."""

import numpy as np

from evaluation import benchmark


def test_load_ratios_interleave_idle_and_loaded_runs_and_stop_their_load(monkeypatch):
    import subprocess

    started = []
    real_popen = subprocess.Popen

    def popen(*args, **kwargs):
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(subprocess, "Popen", popen)
    out = benchmark.load_ratios(1, sizes=(16,), steps=2, repeats=2)
    assert set(out) == {"step_ms_e16_idle", "step_ms_e16_loaded", "load_ratio_e16"}
    assert out["step_ms_e16_idle"] > 0 and out["step_ms_e16_loaded"] > 0
    assert np.isclose(out["load_ratio_e16"], out["step_ms_e16_loaded"] / out["step_ms_e16_idle"],
                      rtol=0.1)  # the ms figures are rounded to 3 decimals  # fmt: skip
    # One busy process per repeat, and none survives the measurement.
    assert len(started) == 2
    assert all(p.poll() is not None for p in started)


def test_every_target_names_a_key_and_a_bound():
    for key, (target, bound) in benchmark.TARGETS.items():
        assert bound in ("min", "max") and target > 0, key


def test_bad_load_is_refused(capsys):
    assert benchmark.main(["--load", "-1", "--no-progress"]) == 2
    assert "--load=-1" in capsys.readouterr().err


def test_the_bare_clearing_floor_clears_the_envs_books_at_the_envs_price():
    """The floor the step is compared with must clear the same books to the same price in
    hours where energy alone sets it (no reserve co-optimisation binding, no scarcity):
    otherwise the ratio compares the step with something cheaper than a clearing."""
    from evaluation.scaling import _core_and_actions, bare_uniform_price

    core, a_c, a_m = _core_and_actions(16)
    agree = 0
    for _ in range(24):
        book = core.day_ahead_book(a_c)
        bare = bare_uniform_price(book["supply_q"], book["supply_p"], book["demand_q"],
                                  book["demand_p"])  # fmt: skip
        agree += int(np.isclose(bare, book["price"]).sum())
        core.step(a_c, a_m, None)
    assert agree >= 0.9 * 24 * 16, agree


def test_bare_uniform_price_by_hand():
    from evaluation.scaling import bare_uniform_price

    # Supply 10 MW at 20, 10 MW at 50, 10 MW at 80 (given out of order); demand 15 MW at
    # up to 1000 and 10 MW more up to 60 EUR/MWh. Up to 60, 25 MW are bid and 20 MW
    # offered: the 60 EUR/MWh bid is marginal (5 MW of it served) and sets the price.
    sq, sp = np.array([[10.0, 10.0, 10.0]]), np.array([[80.0, 20.0, 50.0]])
    dq, dp = np.array([[15.0, 10.0]]), np.array([[1000.0, 60.0]])
    assert bare_uniform_price(sq, sp, dq, dp)[0] == 60.0
    # Only the 15 MW bid at 1000: the 50 EUR/MWh offer is marginal.
    assert bare_uniform_price(sq, sp, np.array([[15.0, 0.0]]), dp)[0] == 50.0
    # Demand above all supply: the highest bid's price (the cap).
    assert bare_uniform_price(sq, sp, np.array([[40.0, 0.0]]), dp)[0] == 1000.0


def test_readme_table_marks_each_target_met_or_missed():
    table = benchmark.readme_table(
        {"mpc_step_ms": 7.8, "mpc_step_ms_200": 70.0, "rex_orders_per_s": 5e5}, "2026-11-29",
        "python -m evaluation.benchmark")  # fmt: skip
    rows = {r.split("|")[1].strip(" `"): r for r in table.splitlines() if r.startswith("| `")}
    assert rows["mpc_step_ms"].endswith("| <= 20 | met |")
    assert rows["mpc_step_ms_200"].endswith("| <= 60 | **missed** |")
    assert rows["rex_orders_per_s"].endswith("|  |  |")
    assert "`python -m evaluation.benchmark`" in table
