"""Every config field refuses bad values at construction with a ConfigError naming it.

Issue 18 item 1, for the scenario, exchange, negotiation, training, CFE and ADMM configs:
fields are enumerated from the dataclasses (:mod:`tests.envs.configfuzz`), never listed by
hand, and each gets NaN, inf, wrong types, non-integers for whole numbers and values
beyond its stated bounds; nothing but a ConfigError whose message holds the field's
dotted path may come back. Then one test per failure the issue names.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import envs
from agents import admm
from envs import reservation_exchange_v0
from envs.cfe import config as cfe_config
from envs.config.loader import apply_overrides, build, load_yaml
from envs.config.scenario import ScenarioConfig
from envs.errors import ConfigError
from envs.negotiation.config import NegotiationConfig
from envs.registry import scenario_file
from tests.envs.configfuzz import Leaf, bad_values, leaves, one_bad, sweep
from training.config import TrainConfig


def _loader(cls: type, data: dict[str, Any]) -> Any:
    """What each config's loader does after reading its YAML (read once here, for speed)."""
    data = {k: v for k, v in data.items() if k != "env"}
    return lambda overrides: build(cls, apply_overrides(data, overrides))


LOADERS: dict[str, Any] = {
    "scenario": _loader(ScenarioConfig, load_yaml(scenario_file("default", "multimarket_v1"))),
    "exchange": _loader(
        reservation_exchange_v0.ExchangeConfig,
        load_yaml(scenario_file("reservation_exchange", reservation_exchange_v0.ENV_ID)),
    ),
    "negotiation": _loader(NegotiationConfig, {}),
    "training": _loader(TrainConfig, {}),
    "cfe": _loader(
        cfe_config.CfeScenarioConfig,
        load_yaml(scenario_file("pooled_procurement", cfe_config.ENV_KEY)),
    ),
    "admm": _loader(admm.AdmmConfig, load_yaml(scenario_file("admm_personas", admm.TOOL))),
}
CASES = [(root, leaf) for root, load in LOADERS.items() for leaf in leaves(load({}))]
#: spot_v1 sets these itself (its reserve and capacity markets are closed).
SPOT_FORCED = ("reserve", "reserve.enabled", "capacity", "capacity.enabled")
SPOT_LEAVES = [leaf for root, leaf in CASES if root == "scenario" and leaf.path not in SPOT_FORCED]


def _refusal(root: str, leaf: Leaf, value: Any) -> str | None:
    """None when ``value`` is refused by a ConfigError naming ``leaf``; else what happened."""
    try:
        LOADERS[root]({leaf.path: value})
    except ConfigError as exc:
        message = str(exc)
        # A list item whose new name is not a string is named by its place: [0].name.
        renamed = leaf.path.endswith(".name") and re.search(r"\[\d+\]\.name=", message)
        return None if leaf.path in message or renamed else f"message {message!r}"
    except Exception as exc:  # any other error is the failure this test reports
        return f"{type(exc).__name__}: {exc}"
    return "accepted"


def test_fields_are_enumerated_from_the_dataclasses():
    paths = {f"{root}:{leaf.path}" for root, leaf in CASES}
    assert len(paths) == len(CASES)
    # Sections, persona and generator fields, mapping entries and every config root.
    for path in (
        "scenario:reserve.non_delivery_penalty_eur_per_mwh",
        "scenario:members.personas.residential.battery_mwh",
        "scenario:fleet.generators.coal.capacity_mw",
        "scenario:members.mix.bakery",
        "scenario:tariff.peak_hours",
        "scenario:weather",
        "exchange:market.tick_eur_per_mwh",
        "negotiation:mediator.concession_factor",
        "training:mappo.lr",
        "cfe:participants.hospital.solar_mwh",
        "admm:personas.baker.beta",
    ):
        assert path in paths, path


def test_every_field_refuses_each_kind_of_bad_value():
    """Deterministic sweep: every field, a wrong kind, NaN, inf, and each bound crossed."""
    failures = [
        f"{root}:{leaf.path}={value!r}: {why}"
        for root, leaf in CASES
        for value in sweep(leaf)
        if (why := _refusal(root, leaf, value)) is not None
    ]
    assert not failures, "\n".join(failures)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_bad_value_in_any_field_is_a_config_error(data: st.DataObject) -> None:
    root, leaf = data.draw(st.sampled_from(CASES), label="field")
    value = data.draw(bad_values(leaf), label="value")
    assert _refusal(root, leaf, value) is None, _refusal(root, leaf, value)


@settings(max_examples=30, deadline=None)
@given(leaf=st.sampled_from(SPOT_LEAVES))
def test_spot_env_refuses_a_bad_field_before_building(leaf: Leaf) -> None:
    with pytest.raises(ConfigError, match=re.escape(leaf.path)):
        envs.make("spot_v1", overrides={leaf.path: one_bad(leaf)})


# --- The failures issue 18 item 1 names, each refused (or, for overrides, accepted) ---------
@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        (
            {"reserve.non_delivery_penalty_eur_per_mwh": float("nan")},
            r"reserve\.non_delivery_penalty_eur_per_mwh=nan is not finite; expected a finite "
            r"number in \[0, 100000\] EUR/MWh",
        ),
        (
            {"spot.price_cap_eur_per_mwh": "inf"},
            r"spot\.price_cap_eur_per_mwh=inf is not finite; expected a finite number "
            r"in \(0, 100000\]",
        ),
        ({"members.size_scale": 0}, r"members\.size_scale=0\.0 is out of range; .* in \(0, 1000\]"),
    ],
    ids=["nan_penalty", "inf_price_cap", "zero_size_scale"],
)
def test_non_finite_and_zero_scale_fields_are_refused(overrides, pattern):
    with pytest.raises(ConfigError, match=pattern):
        envs.make("multimarket_v1", overrides=overrides)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "-inf", 2.5])
@pytest.mark.parametrize(
    "path",
    ["days", "members.count", "forecast.horizon_h", "capacity.period_h", "tariff.peak_hours"],
)
def test_whole_number_fields_refuse_nan_inf_and_fractions(path, bad):
    value = [17, bad] if path == "tariff.peak_hours" else bad
    with pytest.raises(ConfigError, match=re.escape(path) + r".*expected a whole number"):
        envs.make("multimarket_v1", overrides={path: value})


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ("weather.wind_weibull_k", 0.0),
        ("weather.temperature_anomaly_c", float("nan")),
        ("weather.load_noise_std", -0.1),
        ("weather.cloudiness_mean", float("inf")),
        ("background.peak_load_mw", float("nan")),
    ],
)
def test_weather_and_scale_fields_fail_at_construction_not_reset(path, bad):
    with pytest.raises(ConfigError, match=re.escape(path)):
        envs.make("multimarket_v1", overrides={path: bad})


def test_one_persona_field_can_be_overridden_alone():
    path = "members.personas.residential.battery_mwh"
    env = envs.make("multimarket_v1", days=1, overrides={path: 2.0})
    base = envs.make("multimarket_v1", days=1)
    new, old = env.cfg.members.personas, base.cfg.members.personas
    assert new["residential"].battery_mwh == 2.0
    assert new["residential"] == dataclasses.replace(old["residential"], battery_mwh=2.0)
    assert {k: v for k, v in new.items() if k != "residential"} == {
        k: v for k, v in old.items() if k != "residential"
    }
    env.reset(seed=0)
    residential = np.array([p == "residential" for p in env.core.members.persona])
    np.testing.assert_allclose(
        env.core.members.battery_mwh[residential], 2.0 * base.core.members.battery_mwh[residential]
    )


def test_one_generator_field_can_be_overridden_by_name():
    cfg = envs.make("multimarket_v1", overrides={"fleet.generators.coal.capacity_mw": 120.0}).cfg
    default = envs.make("multimarket_v1").cfg.fleet.generators
    coal = next(g for g in cfg.fleet.generators if g.name == "coal")
    assert coal == dataclasses.replace(default[2], capacity_mw=120.0)
    assert [g for g in cfg.fleet.generators if g.name != "coal"] == [
        g for g in default if g.name != "coal"
    ]
    with pytest.raises(ConfigError, match=r"fleet\.generators: no item named 'lignite'"):
        envs.make("multimarket_v1", overrides={"fleet.generators.lignite.capacity_mw": 1.0})


def test_a_new_persona_must_be_complete():
    with pytest.raises(ConfigError, match=r"members\.personas\.farm\.sector is missing"):
        envs.make("multimarket_v1", overrides={"members.personas.farm.pv_mw": 1.0})


def test_direct_construction_is_checked_too():
    from envs.config.scenario import PersonaConfig, WeatherConfig

    with pytest.raises(ConfigError, match=r"days=nan has type float; expected a whole number"):
        ScenarioConfig(days=float("nan"))
    with pytest.raises(ConfigError, match=r"peak_load_mw=inf is not finite; .* \(0, 1000000\] MW"):
        PersonaConfig("bakery", float("inf"))
    with pytest.raises(ConfigError, match=r"wind_weibull_k=0\.1 is out of range; .*\[0\.5, 10\]"):
        WeatherConfig(wind_weibull_k=0.1)
