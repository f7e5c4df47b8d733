"""Configuration of ``reservation_exchange_v0``: the market, the prosumers and settlement.

Each field's bounds are stated where it is declared (:func:`envs.config.validate.bounded`)
and checked at construction; :func:`load_config` reads a scenario YAML plus overrides.
Units: MW, MWh, EUR/MWh; the exchange trades in intervals of ``60 / intervals_per_hour``
minutes (see ``envs.reservation_exchange_v0``'s docstring for the market itself).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from envs.config import limits as lim
from envs.config.loader import apply_overrides, build, load_yaml
from envs.config.validate import bounded, check, check_fields
from envs.market.orderbook import TickGrid
from envs.registry import scenario_file

__all__ = ["ENV_ID", "ExchangeConfig", "MarketConfig", "ProsumerConfig", "SettlementConfig",
           "load_config"]  # fmt: skip

ENV_ID = "reservation_exchange_v0"
# Physical limits of every numeric field (why each: envs/config/limits.py).
_PRICE = lim.PRICE_EUR_PER_MWH
_MW = lim.POWER_MW


@dataclass(frozen=True, slots=True)
class MarketConfig:
    """Exchange rules: grid, horizon, gate closure, opening call, action scale."""

    price_floor_eur_per_mwh: float = bounded(0.0, ge=-_PRICE, le=_PRICE)
    price_cap_eur_per_mwh: float = bounded(200.0, ge=-_PRICE, le=_PRICE)
    tick_eur_per_mwh: float = bounded(0.5, gt=0, le=_PRICE)
    lot_mw: float = bounded(0.1, gt=0, le=_MW)
    horizon_h: int = bounded(4, ge=1, le=168)  # trading opens at most a week ahead
    # One-minute intervals at the finest (real-time markets clear every 5 minutes).
    intervals_per_hour: int = bounded(4, ge=1, le=60, unit="intervals")
    gate_lead_intervals: int = bounded(1, ge=0, le=60, unit="intervals")
    opening_auction: bool = True
    price_bins: int = bounded(20, ge=1, le=1000, unit="bins")  # the observation's width
    max_order_mw: float = bounded(2.0, gt=0, le=_MW)

    def __post_init__(self) -> None:
        """Check each field's type and bounds, and the rules across fields."""
        check_fields(self)
        check(
            self.price_cap_eur_per_mwh > self.price_floor_eur_per_mwh,
            "price_cap_eur_per_mwh",
            self.price_cap_eur_per_mwh,
            f"above price_floor_eur_per_mwh={self.price_floor_eur_per_mwh}",
        )
        check(
            self.gate_lead_intervals < self.intervals_per_hour,
            "gate_lead_intervals",
            self.gate_lead_intervals,
            f"0 <= value < intervals_per_hour={self.intervals_per_hour}",
        )
        check(
            self.max_order_mw >= self.lot_mw,
            "max_order_mw",
            self.max_order_mw,
            f">= lot_mw={self.lot_mw}",
        )

    @property
    def grid(self) -> TickGrid:
        """The books' price and quantity grid."""
        return TickGrid(
            self.price_floor_eur_per_mwh,
            self.price_cap_eur_per_mwh,
            self.tick_eur_per_mwh,
            self.lot_mw,
        )

    @property
    def window_intervals(self) -> int:
        """Trading intervals from a book's opening to its gate closure."""
        return self.horizon_h * self.intervals_per_hour - self.gate_lead_intervals


@dataclass(frozen=True, slots=True)
class ProsumerConfig:
    """Prosumer population: synthetic load and PV, drawn per episode from the env's rng."""

    # Each prosumer is an agent of its own: a thousand is a large local market.
    count: int = bounded(4, ge=1, le=1000, unit="prosumers")
    load_mw_low: float = bounded(0.5, ge=0, le=_MW)
    load_mw_high: float = bounded(2.0, ge=0, le=_MW)
    pv_peak_mw_low: float = bounded(0.0, ge=0, le=_MW)
    pv_peak_mw_high: float = bounded(4.0, ge=0, le=_MW)
    # Relative to load + PV: 10 = errors ten times the forecast itself.
    forecast_error_std: float = bounded(0.1, ge=0, le=10)

    def __post_init__(self) -> None:
        """Check each field's type and bounds, and each low <= its high."""
        check_fields(self)
        check(
            self.load_mw_low <= self.load_mw_high,
            "load_mw_low",
            self.load_mw_low,
            f"<= load_mw_high={self.load_mw_high}",
        )
        check(
            self.pv_peak_mw_low <= self.pv_peak_mw_high,
            "pv_peak_mw_low",
            self.pv_peak_mw_low,
            f"<= pv_peak_mw_high={self.pv_peak_mw_high}",
        )


@dataclass(frozen=True, slots=True)
class SettlementConfig:
    """Imbalance settlement after delivery (seed §2-3, §2-5)."""

    imbalance_short_eur_per_mwh: float = bounded(150.0, ge=-_PRICE, le=_PRICE)
    imbalance_long_eur_per_mwh: float = bounded(20.0, ge=-_PRICE, le=_PRICE)
    no_reservation_no_service: bool = False
    voll_eur_per_mwh: float = bounded(500.0, ge=0, le=_PRICE)

    def __post_init__(self) -> None:
        """Check each field's type and bounds, and short >= long imbalance prices."""
        check_fields(self)
        check(
            self.imbalance_short_eur_per_mwh >= self.imbalance_long_eur_per_mwh,
            "imbalance_short_eur_per_mwh",
            self.imbalance_short_eur_per_mwh,
            f">= imbalance_long_eur_per_mwh={self.imbalance_long_eur_per_mwh}",
        )


@dataclass(frozen=True, slots=True)
class ExchangeConfig:
    """Whole config of ``reservation_exchange_v0``.

    ``hours`` is the number H of delivery hours per episode, ``start_hour`` the hour of
    day (0-23) of delivery hour 0 (it shapes load and PV).
    """

    hours: int = bounded(24, ge=1, le=lim.HOURS_PER_LEAP_YEAR)
    start_hour: int = bounded(0, ge=0, le=23, unit="h of day")
    market: MarketConfig = field(default_factory=MarketConfig)
    prosumers: ProsumerConfig = field(default_factory=ProsumerConfig)
    settlement: SettlementConfig = field(default_factory=SettlementConfig)

    def __post_init__(self) -> None:
        """Check each field's type and bounds, and a window for the opening auction."""
        check_fields(self)
        check(
            not self.market.opening_auction or self.market.window_intervals >= 2,
            "market.opening_auction",
            self.market.opening_auction,
            f"a trading window of >= 2 intervals (horizon_h * intervals_per_hour - "
            f"gate_lead_intervals), got {self.market.window_intervals}",
        )

    @property
    def n_steps(self) -> int:
        """Episode length T in trading intervals."""
        return (self.hours + self.market.horizon_h) * self.market.intervals_per_hour


def load_config(
    scenario: str | None = None,
    overrides: dict[str, Any] | None = None,
    **fields: Any,
) -> ExchangeConfig:
    """Resolve a scenario name or YAML path plus overrides into an :class:`ExchangeConfig`.

    Raises:
        UnknownNameError: unknown scenario name.
        ConfigError: unknown key or bad value (the message names the field).
    """
    data: dict[str, Any] = {}
    if scenario is not None:
        path = scenario if os.path.isfile(scenario) else scenario_file(scenario, ENV_ID)
        data = load_yaml(path, resolve_base=lambda name: scenario_file(name, ENV_ID))
    data.pop("env", None)
    data = apply_overrides(data, overrides)
    data.update(fields)
    return build(ExchangeConfig, data)
