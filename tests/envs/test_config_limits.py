"""Every numeric config field has finite physical bounds; no value in them breaks a run.

Issue "bound every input", item 4: huge accepted values (1e300 member scales, 1e15
background sizes, 1e30 tariff charges) put inf or NaN into observations, rewards and
the ledger, unbalanced it, or raised ZeroDivisionError at ``make``. Now every ``int`` and
``float`` field of every config root states a finite lower and upper bound
(:mod:`envs.config.limits`), which :func:`test_every_numeric_field_has_finite_bounds`
enforces for the next field added too. The fuzz (:mod:`tests.envs.limitfuzz`) sets each
numeric field, alone, to 0, -1, -1e15, 1e15, 1e300, NaN and inf: each value is refused
with a ConfigError naming the field, or accepted and a short run stays finite with a
balanced ledger. The slow variant adds each field's own bounds (the largest and
smallest values accepted).
"""

from __future__ import annotations

import math
import re

import pytest

import envs
from envs.errors import ConfigError
from tests.envs import limitfuzz as lf
from tests.envs.test_config_validation import CASES, LOADERS

#: (root, leaf) of every numeric field (ints, floats, their tuples, mappings' entries).
NUMERIC = [(root, leaf) for root, leaf in CASES if lf.item_type(leaf)[0] is not None]
#: Fields whose upper bound builds a run too large for the slow fuzz's time (1e5 members).
HEAVY = {("scenario", "members.count")}


def test_every_numeric_field_has_finite_bounds() -> None:
    unbounded = []
    for root, leaf in NUMERIC:
        b = leaf.bounds
        low = b.ge if b.ge is not None else b.gt
        high = b.le if b.le is not None else b.lt
        if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
            unbounded.append(f"{root}:{leaf.path} ({b.describe() or 'no bounds'})")
    assert len(NUMERIC) > 300  # every root's fields are enumerated
    assert not unbounded, "numeric fields without a finite lower and upper bound:\n" + "\n".join(
        unbounded
    )


def _wrong(root: str, values_of) -> list[str]:
    """The wrong outcomes of every numeric field of ``root`` at ``values_of(leaf)``."""
    load = LOADERS[root]
    return [
        f"{root}:{leaf.path}={value!r}: {result}"
        for r, leaf in NUMERIC
        if r == root
        for value in values_of(leaf)
        if (result := lf.outcome(load, root, leaf, value)).startswith("WRONG")
    ]


@pytest.mark.parametrize("root", list(LOADERS))
def test_every_numeric_field_at_zero_negative_huge_and_non_finite(root: str) -> None:
    """0, -1, -1e15, 1e15, 1e300, NaN, inf: refused naming the field, or a sound run."""
    wrong = _wrong(root, lambda leaf: lf.values_for(leaf, with_bounds=False))
    assert not wrong, "\n".join(wrong)


@pytest.mark.slow
@pytest.mark.parametrize("root", list(LOADERS))
def test_every_numeric_field_at_its_bounds_too(root: str) -> None:
    """The fuzz's values and each field's own bounds (the extremes a config may hold)."""
    heavy = {path for r, path in HEAVY if r == root}
    wrong = _wrong(root, lambda leaf: lf.values_for(leaf, with_bounds=leaf.path not in heavy))
    assert not wrong, "\n".join(wrong)


@pytest.mark.slow
def test_the_largest_coalition_runs_soundly() -> None:
    """``members.count`` at its bound, 1e5 members (about a minute and a few GB)."""
    leaf = next(leaf for r, leaf in NUMERIC if (r, leaf.path) in HEAVY)
    assert lf.outcome(LOADERS["scenario"], "scenario", leaf, int(leaf.bounds.le)) == "ran"


# --- The failures item 4 names, each now a ConfigError naming the field ---------------
ISSUE_HUGE = [
    "members.size_scale",
    "members.pv_scale",
    "members.battery_scale",
    "background.peak_load_mw",
    "background.solar_mw",
    "background.wind_mw",
    "members.personas.industrial.peak_load_mw",
    "members.personas.industrial.pv_mw",
    "members.personas.industrial.wind_mw",
    "tariff.margin_eur_per_mwh",
]


@pytest.mark.parametrize("value", [1e15, 1e300])
@pytest.mark.parametrize("path", ISSUE_HUGE)
def test_huge_sizes_and_scales_are_refused(path: str, value: float) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"{path}={value!r} is out of range")):
        envs.make("multimarket_v1", days=1, overrides={path: value})


@pytest.mark.parametrize("path", ["tariff.network_eur_per_mwh", "tariff.taxes_eur_per_mwh"])
def test_huge_grid_charges_are_refused_not_a_zero_division(path: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(path) + r".*in \[0, 100000\] EUR/MWh"):
        envs.make("multimarket_v1", days=1, overrides={path: 1e30})


@pytest.mark.parametrize("path", ["tariff.network_eur_per_mwh", "tariff.taxes_eur_per_mwh"])
def test_grid_charges_at_their_bound_run_soundly(path: str) -> None:
    leaf = next(leaf for r, leaf in NUMERIC if r == "scenario" and leaf.path == path)
    assert lf.outcome(LOADERS["scenario"], "scenario", leaf, 1e5) == "ran"
