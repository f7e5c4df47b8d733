"""Incumbent strategies as policies, for scenarios where incumbents are agents.

They build their bids with the simulator's own code (:func:`envs.actors.fleet.scripted_bids`
and :func:`envs.actors.fleet.encode_bid_params`), so a scripted incumbent and an
incumbent policy of the same strategy bid identically (``tests/agents/test_agents.py`` checks
that whole episodes match). Each reads only its own observation (its residual supply
index) plus the static fleet config.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from agents.base import MarketPolicy
from envs.actors import fleet as fl
from envs.sim import observe as ob

__all__ = ["Competitive", "IncumbentStrategy", "Markup", "Withholding"]


class IncumbentStrategy(MarketPolicy):
    """Bid every controlled incumbent by ``strategy``.

    Args:
        strategy: ``competitive``, ``markup`` or ``withholding``.
        controls: incumbent ids (default: all incumbents).
        **params: fleet fields to override (``markup``, ``rsi_threshold``,
            ``withhold_fraction``, ``pivotal_markup``).
    """

    groups = ("incumbents",)

    def __init__(
        self, strategy: str = "competitive", controls: list[str] | None = None, **params: Any
    ):
        super().__init__(controls)
        if strategy not in ("competitive", "markup", "withholding"):
            raise ValueError(f"strategy={strategy!r}; expected competitive, markup or withholding")
        self.strategy = strategy
        self.params = params

    def reset(self, env: Any, seed: int | None = None) -> None:
        """Read the fleet config and the observation layout."""
        super().reset(env, seed)
        core = self.env.core
        try:
            self.fleet_cfg = dataclasses.replace(
                core.cfg.fleet, strategy=self.strategy, **self.params
            )
        except TypeError as exc:
            raise ValueError(
                f"bad fleet parameters {sorted(self.params)} for {type(self).__name__}: {exc}"
            ) from None
        self.rsi_at = ob.index(core.dims.H)["incumbents"]["rsi"]
        self.layout = core.layout
        self.cap_cap = core.cfg.capacity.price_cap_eur_per_mw_day
        self.index = {a: g for g, a in enumerate(self.env.agent_groups.get("incumbents", []))}

    def act(self, observations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Bid parameters from the strategy, encoded as normalised actions."""
        ids = [a for a in self.controls if a in observations]
        if not ids:
            return {}
        rsi = np.array([[observations[a][self.rsi_at] for a in ids]], dtype=np.float64)
        strategic = None
        if self.strategy == "withholding":
            cols = [self.index[a] for a in ids]
            w, m = self.env.core.strategic_withholding(self.fleet_cfg)
            strategic = (w[:1, cols], m[:1, cols])
        bids = fl.scripted_bids(self.fleet_cfg, rsi, self.fleet_cfg.tranches, strategic)
        acts = fl.encode_bid_params(bids, self.fleet_cfg, reserve=self.layout.reserve,
                                    capacity=self.layout.capacity,
                                    capacity_cap_eur_per_mw_day=self.cap_cap)[0]  # fmt: skip
        return {a: acts[k].astype(np.float32) for k, a in enumerate(ids)}


class Competitive(IncumbentStrategy):
    """Every tranche at marginal cost."""

    def __init__(self, controls: list[str] | None = None, **params: Any):
        super().__init__("competitive", controls, **params)


class Markup(IncumbentStrategy):
    """Tranche k at marginal cost * (1 + markup * (k+1)/K)."""

    def __init__(self, controls: list[str] | None = None, **params: Any):
        super().__init__("markup", controls, **params)


class Withholding(IncumbentStrategy):
    """Withhold capacity and mark up when pivotal (residual supply index below threshold)."""

    def __init__(self, controls: list[str] | None = None, **params: Any):
        super().__init__("withholding", controls, **params)
