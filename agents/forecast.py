"""Price forecasts for model-predictive agents, from observed data only.

Both forecasters are fed one observation per hour (the last cleared spot price and the
published system forecasts) and predict the next ``H`` hourly prices in EUR/MWh:

- :class:`SeasonalNaive`: the price at the same hour one day earlier (the standard
  benchmark of electricity price forecasting, Weron 2014, IJF 30(4) §5);
- :class:`RidgeForecaster`: ridge regression of the price on the forecast residual load
  (system load minus system renewables, as a share of peak: the merit-order driver), its
  square, and calendar terms, refitted on the observed history; seasonal-naive until
  it has a day of data.

``mae()`` reports the mean absolute error of the one-hour-ahead forecasts made so far.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

__all__ = [
    "FORECASTERS",
    "MeritOrder",
    "RidgeForecaster",
    "SeasonalNaive",
    "coalition_price_forecast",
    "make_forecaster",
    "reserve_shares",
    "residual_load_forecast",
    "system_forecasts",
]


class SeasonalNaive:
    """Tomorrow looks like today: price(t+h) = price(t+h-24).

    Args:
        horizon_h: H, hours forecast.
        prior_eur_per_mwh: forecast before any price has been observed.
    """

    def __init__(self, horizon_h: int = 24, prior_eur_per_mwh: float = 60.0) -> None:
        self.horizon = horizon_h
        self.prior = prior_eur_per_mwh
        self.reset()

    def reset(self) -> None:
        """Forget the history (a new episode)."""
        self.prices: list[float] = []
        self._next: float | None = None  # the last one-hour-ahead forecast
        self.errors: list[float] = []  # |forecast - price| of each hour once it cleared

    def observe(self, last_price_eur_per_mwh: float | None, features: F64 | None = None) -> None:
        """Record the price cleared in the previous hour (``None`` at the first hour)."""
        if last_price_eur_per_mwh is not None:
            if self._next is not None:
                self.errors.append(abs(self._next - float(last_price_eur_per_mwh)))
            self.prices.append(float(last_price_eur_per_mwh))

    def _naive(self) -> F64:
        p, h = self.prices, self.horizon
        if not p:
            return np.full(h, self.prior)
        hist = np.asarray(p)
        idx = len(hist) - 24 + np.arange(h)  # hour t+k is index len(p)+k; a day earlier
        return np.where(idx >= 0, hist[np.clip(idx, 0, len(hist) - 1)], hist[-1])

    def forecast(self, features: F64 | None = None) -> F64:
        """Prices for the next H hours, EUR/MWh."""
        out = self._naive()
        self._next = float(out[0])
        return out

    def mae(self) -> float:
        """Mean absolute error of the one-hour-ahead forecasts so far, EUR/MWh."""
        return float(np.mean(self.errors)) if self.errors else float("nan")


class RidgeForecaster(SeasonalNaive):
    """Ridge regression on residual-load and calendar features.

    Features of hour t+h: 1, residual load share r, r^2, sin and cos of the hour of day.
    ``features`` passed to :meth:`observe` and :meth:`forecast` are (H, 3): residual load
    share and the hour's sin and cos, for hours t..t+H-1.

    Args:
        horizon_h: H.
        alpha: ridge penalty.
        prior_eur_per_mwh: forecast before any price has been observed.
    """

    def __init__(self, horizon_h: int = 24, alpha: float = 1e-3, prior_eur_per_mwh: float = 60.0):
        self.alpha = alpha
        super().__init__(horizon_h, prior_eur_per_mwh)

    def reset(self) -> None:
        """Forget the history and the fit."""
        super().reset()
        self.x_rows: list[F64] = []
        self._pending: F64 | None = None
        self.coef: F64 | None = None

    @staticmethod
    def _design(features: F64) -> F64:
        r = features[:, 0]
        return np.column_stack([np.ones_like(r), r, r * r, features[:, 1], features[:, 2]])

    def observe(self, last_price_eur_per_mwh: float | None, features: F64 | None = None) -> None:
        """Record the last price with the features of the hour it cleared; refit daily."""
        if last_price_eur_per_mwh is not None and self._pending is not None:
            self.x_rows.append(self._pending)
        super().observe(last_price_eur_per_mwh)
        if features is not None:
            self._pending = self._design(features[:1])[0]
        if len(self.x_rows) >= 24 and len(self.x_rows) % 24 == 0:
            x = np.asarray(self.x_rows)
            y = np.asarray(self.prices[-len(self.x_rows) :])
            a = x.T @ x + self.alpha * len(y) * np.eye(x.shape[1])
            self.coef = np.linalg.solve(a, x.T @ y)

    def forecast(self, features: F64 | None = None) -> F64:
        """Prices for the next H hours from the fit (seasonal-naive before the first fit)."""
        if self.coef is None or features is None:
            return super().forecast(features)
        out = self._design(features) @ self.coef
        self._next = float(out[0])
        return out


class MeritOrder:
    """The fleet's competitive supply curve, from static scenario constants: the price at
    which the units, in order of marginal cost, cover a residual demand.

    A fundamental model of the price impact of the coalition's own trade (what its
    purchases add to the residual demand), not of the price level, which the forecasters
    above learn from observed prices.

    Args:
        capacity_mw, marginal_cost_eur_per_mwh: (G,) the units.
        cap_eur_per_mwh: the price beyond the fleet's capacity (the price cap).
    """

    def __init__(self, capacity_mw: F64, marginal_cost_eur_per_mwh: F64,
                 cap_eur_per_mwh: float) -> None:  # fmt: skip
        order = np.argsort(marginal_cost_eur_per_mwh, kind="stable")
        self.cum_mw = np.cumsum(np.asarray(capacity_mw, float)[order])
        self.cost = np.asarray(marginal_cost_eur_per_mwh, float)[order]
        self.cap = float(cap_eur_per_mwh)

    def price(self, residual_mw: F64) -> F64:
        """EUR/MWh at each residual demand (any shape), MW: the marginal unit's cost, the
        cheapest unit's below zero, the cap beyond the fleet."""
        k = np.searchsorted(self.cum_mw, np.asarray(residual_mw, float), side="left")
        return np.where(k < self.cost.size, self.cost[np.minimum(k, self.cost.size - 1)], self.cap)


def reserve_shares(core: Any) -> F64:
    """(2,) the reserve requirement's shares of system load and of system renewables (the
    MW the fleet holds back from energy, ``reserve.requirement_share_of_*``); zeros where
    the reserve market is closed. A static scenario constant."""
    rc = core.cfg.reserve
    shares = [rc.requirement_share_of_load, rc.requirement_share_of_renewables]
    return np.array(shares) if core.layout.reserve else np.zeros(2)


#: Forecasters by the name policies take as ``forecaster=``.
FORECASTERS: dict[str, type[SeasonalNaive]] = {
    "ridge": RidgeForecaster,
    "seasonal_naive": SeasonalNaive,
}


def make_forecaster(name: str, horizon_h: int) -> SeasonalNaive:
    """A forecaster by name; ValueError naming the valid ones otherwise."""
    if name not in FORECASTERS:
        raise ValueError(f"forecaster={name!r}; expected one of {sorted(FORECASTERS)}")
    return FORECASTERS[name](horizon_h)


def system_forecasts(
    obs: np.ndarray, at: dict[str, int], horizon_h: int
) -> tuple[np.ndarray, np.ndarray]:
    """The published system load and system renewables forecasts for the next H hours,
    (..., H) each, / system scale, from any agent's observation (..., D); ``at``: its
    feature offsets (``envs.sim.observe.index(H)[group]``, the common ones agree)."""
    load = obs[..., at["system_load_fc"] : at["system_load_fc"] + horizon_h]
    return load, obs[..., at["system_renewables_fc"] : at["system_renewables_fc"] + horizon_h]


def residual_load_forecast(obs: np.ndarray, at: dict[str, int], horizon_h: int) -> np.ndarray:
    """The published residual load (system load minus system renewables, / system scale)
    for the next H hours, (..., H), from any agent's observation (:func:`system_forecasts`)."""
    load, ren = system_forecasts(obs, at, horizon_h)
    return load - ren


def coalition_price_forecast(
    model: SeasonalNaive, coal_obs: F64, at: dict[str, int], hour: int, horizon_h: int,
    price_cap_eur_per_mwh: float, first: bool,
) -> F64:  # fmt: skip
    """Feed ``model`` this hour's coalition observation and forecast the next H prices.

    Features per hour ahead: the published residual load (system load minus system
    renewables, from the observation's forecasts) and the hour of day on the circle; the
    last cleared price (observed, scaled by the cap) is fed unless this is the episode's
    first hour.

    Args:
        coal_obs: the coalition's observation (float64); ``at``: its feature offsets
            (``envs.sim.observe.index(H)["coalition"]``).

    Returns:
        (H,) prices, EUR/MWh.
    """
    hours = (hour + np.arange(horizon_h)) % 24
    feats = np.column_stack(
        [
            residual_load_forecast(coal_obs, at, horizon_h),
            np.sin(2 * np.pi * hours / 24),
            np.cos(2 * np.pi * hours / 24),
        ]
    )
    last = None if first else float(coal_obs[at["price"]]) * price_cap_eur_per_mwh
    model.observe(last, feats)
    return model.forecast(feats)
