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
