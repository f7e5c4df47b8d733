"""Every seeded episode is bit-for-bit what it was when the golden file was recorded.

A refactor of the step must leave every hash unchanged; a change of the market rules
re-records ``tests/envs/golden/trajectories.json`` on purpose (see golden_trajectories.py).
"""

from __future__ import annotations

import json

import pytest

from tests.envs.golden_trajectories import GOLDEN, SLOW, all_cases, digest

RECORDED = json.loads(GOLDEN.read_text())


def _param(key: str):
    slow = tuple(key.split("/")) in SLOW
    return pytest.param(key, id=key, marks=[pytest.mark.slow] if slow else [])


def test_every_case_is_recorded():
    assert sorted(all_cases()) == sorted(RECORDED)


@pytest.mark.parametrize("key", [_param(k) for k in all_cases()])
def test_trajectory_matches_the_golden_hash(key):
    assert digest(key) == RECORDED[key], f"{key} changed; re-record only on purpose"
