"""The training examples run (``pip install .[examples]``); slow: each trains a few
thousand steps."""

from __future__ import annotations

import math

import pytest


@pytest.mark.slow
def test_supersuit_members_example_trains():
    pytest.importorskip("supersuit", reason="pip install .[examples]")
    from evaluation.examples.supersuit_members import train

    out = train(timesteps=2048, members=3, copies=2, seed=0)
    assert out["timesteps"] >= 2048
    assert math.isfinite(out["mean_saving_eur"])
