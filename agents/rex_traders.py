"""Baseline traders for ``reservation_exchange_v0`` (seed ``001_*``).

* :class:`ZICTrader`: zero-intelligence constrained (Gode & Sunder 1993, JPE 101(1)):
  random limit prices that can never lose against the agent's own alternative, here the
  imbalance settlement (a buyer bids uniformly in [floor, short price], a seller asks
  uniformly in [long price, cap]).
* :class:`MarketMaker`: quotes a bid and an ask around the book's mid-price (or the
  midpoint of the imbalance prices when a side is empty), skewed against its inventory.
* :class:`NoLossTrader`: the seed's "risk-neutral, no-loss, no-forecast" prosumer: it
  trades only towards its nominal need, never pays more than the short imbalance price
  nor sells below the long one, and uses no price forecast: its limit price walks from
  the favourable end of that range towards the other as gate closure approaches.

Every trader has ``controls`` (agent ids), ``reset(env, seed)`` and
``act(observations) -> actions``; actions are float64 arrays of shape (D, 6) in the
env's normalised layout (see ``envs.reservation_exchange_v0``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["MarketMaker", "NoLossTrader", "ZICTrader"]


class _RexTrader:
    """Shared plumbing: reads the env's config and encodes orders into actions."""

    def __init__(self, controls: list[str] | None = None):
        self.controls: list[str] = list(controls) if controls is not None else []
        self._auto = controls is None

    def reset(self, env: Any, seed: int | None = None) -> None:
        """Read the exchange rules from ``env`` and seed this trader's Generator."""
        base = env.unwrapped
        cfg = base.config
        m, s = cfg.market, cfg.settlement
        if self._auto:
            self.controls = list(base.possible_agents)
        self._floor, self._cap = m.price_floor_eur_per_mwh, m.price_cap_eur_per_mwh
        self._max_mw, self._lot = m.max_order_mw, m.lot_mw
        self._window = m.window_intervals
        self._short, self._long = s.imbalance_short_eur_per_mwh, s.imbalance_long_eur_per_mwh
        self._d = m.horizon_h
        self.rng = np.random.default_rng(seed)

    def _price(self, price_eur_per_mwh: NDArray[np.float64]) -> NDArray[np.float64]:
        return 2.0 * (price_eur_per_mwh - self._floor) / (self._cap - self._floor) - 1.0

    def _qty(self, qty_mw: NDArray[np.float64]) -> NDArray[np.float64]:
        # Half a lot of headroom so that rounding down in the env keeps the intended lots.
        return np.clip((np.abs(qty_mw) + 0.5 * self._lot) / self._max_mw, 0.0, 1.0)

    def _encode(
        self,
        cancel: NDArray[np.bool_],
        buy_mw: NDArray[np.float64],
        buy_px: NDArray[np.float64],
        sell_mw: NDArray[np.float64],
        sell_px: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """(D, 6) action from per-row limit orders (quantities below one lot mean none)."""
        act = np.zeros((self._d, 6))
        act[:, 0] = np.where(cancel, 1.0, -1.0)
        act[:, 1] = np.where(buy_mw >= self._lot, self._qty(buy_mw), 0.0)
        act[:, 2] = self._price(np.clip(buy_px, self._floor, self._cap))
        act[:, 3] = np.where(sell_mw >= self._lot, self._qty(sell_mw), 0.0)
        act[:, 4] = self._price(np.clip(sell_px, self._floor, self._cap))
        act[:, 5] = -1.0
        return act

    def act(self, observations: dict[str, Any]) -> dict[str, NDArray[np.float64]]:
        """Actions for the controlled agents present in ``observations``."""
        return {a: self._act_one(observations[a]) for a in self.controls if a in observations}

    def _act_one(self, obs: dict[str, NDArray[np.float32]]) -> NDArray[np.float64]:
        raise NotImplementedError


class ZICTrader(_RexTrader):
    """Zero-intelligence constrained trader (Gode & Sunder 1993).

    Args:
        controls: agent ids to drive (None: all agents of the env).
        p_active: probability per row and step of replacing its order with a new one.
    """

    def __init__(self, controls: list[str] | None = None, p_active: float = 0.5):
        super().__init__(controls)
        if not 0.0 <= p_active <= 1.0:
            raise ValueError(f"p_active={p_active}; expected a probability in [0, 1]")
        self.p_active = p_active

    def _act_one(self, obs: dict[str, NDArray[np.float32]]) -> NDArray[np.float64]:
        open_rows = obs["time_to_gate"] > 0
        active = open_rows & (self.rng.random(self._d) < self.p_active)
        gap = (obs["need"] - obs["reservation"]).astype(np.float64)
        buy = np.where(active & (gap > 0), np.minimum(gap, self._max_mw), 0.0)
        sell = np.where(active & (gap < 0), np.minimum(-gap, self._max_mw), 0.0)
        bid = self.rng.uniform(self._floor, self._short, self._d)
        ask = self.rng.uniform(self._long, self._cap, self._d)
        return self._encode(active, buy, bid, sell, ask)


class MarketMaker(_RexTrader):
    """Two-sided quotes around the mid-price, skewed against inventory.

    Args:
        controls: agent ids to drive (None: all agents of the env).
        half_spread_eur_per_mwh: distance of each quote from the reference price.
        quote_mw: size of each quote, MW.
        skew_eur_per_mwh_per_mw: quote shift per MW of inventory (reservation - need).
    """

    def __init__(
        self,
        controls: list[str] | None = None,
        half_spread_eur_per_mwh: float = 5.0,
        quote_mw: float = 0.5,
        skew_eur_per_mwh_per_mw: float = 5.0,
    ):
        super().__init__(controls)
        if half_spread_eur_per_mwh < 0 or quote_mw <= 0:
            raise ValueError(
                f"half_spread_eur_per_mwh={half_spread_eur_per_mwh}, quote_mw={quote_mw}; "
                "expected half spread >= 0 and quote > 0"
            )
        self.half_spread = half_spread_eur_per_mwh
        self.quote_mw = quote_mw
        self.skew = skew_eur_per_mwh_per_mw

    def _act_one(self, obs: dict[str, NDArray[np.float32]]) -> NDArray[np.float64]:
        open_rows = obs["time_to_gate"] > 0
        both = (obs["depth"] > 0).all(axis=1)
        mid = np.where(both, obs["best_price"].mean(axis=1), 0.5 * (self._short + self._long))
        inventory = (obs["reservation"] - obs["need"]).astype(np.float64)
        ref = mid - self.skew * inventory
        size = np.where(open_rows, self.quote_mw, 0.0)
        return self._encode(open_rows, size, ref - self.half_spread, size, ref + self.half_spread)


class NoLossTrader(_RexTrader):
    """The seed's risk-neutral, no-loss, no-forecast prosumer.

    It re-posts one limit order per open row every step for its open position
    ``need - reservation``. With ``u = 1 - time_to_gate / window`` (0 at opening, near 1
    at gate closure) a buyer bids ``long + u (short - long)`` and a seller asks
    ``short - u (short - long)``: always inside [long, short] imbalance prices, so no
    trade is worse than the settlement it replaces.
    """

    def _act_one(self, obs: dict[str, NDArray[np.float32]]) -> NDArray[np.float64]:
        ttg = obs["time_to_gate"].astype(np.float64)
        open_rows = ttg > 0
        u = np.clip(1.0 - ttg / self._window, 0.0, 1.0)
        gap = (obs["need"] - obs["reservation"]).astype(np.float64)
        buy = np.where(open_rows & (gap > 0), np.minimum(gap, self._max_mw), 0.0)
        sell = np.where(open_rows & (gap < 0), np.minimum(-gap, self._max_mw), 0.0)
        width = self._short - self._long
        return self._encode(open_rows, buy, self._long + u * width, sell, self._short - u * width)
