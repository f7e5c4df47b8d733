"""Time-dependent concession tactics as a policy for either seat of ``ppa_negotiation_v0``.

:class:`ConcessionAgent` plays the mediator and/or the opponent with the paper's
concession tactics (seed 002 §4.2, after [21] and Faratin et al. [76]): ``conceder``,
``linear`` (the paper's "conceding moderately", a constant concession factor) or
``boulware``, each with a concession factor. The offer arithmetic and the acceptance
criterion are :func:`envs.negotiation.tactics.concession_price` and
:func:`envs.negotiation.protocol.scripted_move`, the same code the env uses for scripted
seats, so an agent with the seat's own config reproduces the scripted run.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import NDArray

from envs.negotiation import (
    SEATS,
    TACTICS,
    Move,
    NegotiationConfig,
    PartyConfig,
    agent_id,
    seat_of,
)
from envs.negotiation.protocol import scripted_move

__all__ = ["ConcessionAgent"]


def seat_of_or_none(agent: str) -> str | None:
    """The seat of an agent id or seat name, or None when it is neither."""
    try:
        return seat_of(agent)
    except ValueError:
        return None


class ConcessionAgent:
    """Scripted negotiator for the seats in ``controls``.

    Args:
        controls: agents to play, by id (``mediator_0``) or seat (``mediator``) (default:
            every agent of the env at reset).
        tactic: override the seat's tactic (``conceder``, ``linear``, ``boulware``).
        concession_factor: override the seat's concession factor, a fraction in (0, 1].

    Raises:
        ValueError: unknown agent or tactic, or a factor outside (0, 1].
    """

    def __init__(
        self,
        controls: tuple[str, ...] | None = None,
        *,
        tactic: str | None = None,
        concession_factor: float | None = None,
    ) -> None:
        if controls is not None and any(seat_of_or_none(s) is None for s in controls):
            ids = [agent_id(s) for s in SEATS]
            raise ValueError(f"controls={controls!r}; expected agents from {ids} (or seats)")
        if tactic is not None and tactic not in TACTICS:
            raise ValueError(f"tactic={tactic!r}; expected one of {list(TACTICS)}")
        if concession_factor is not None and not 0.0 < concession_factor <= 1.0:
            raise ValueError(
                f"concession_factor={concession_factor!r}; expected a fraction in (0, 1]"
            )
        self.controls: tuple[str, ...] = tuple(agent_id(seat_of(s)) for s in controls or ())
        self._tactic = tactic
        self._factor = concession_factor
        self._config = NegotiationConfig()
        self._parties: dict[str, PartyConfig] = {}
        self._made: dict[str, int] = {}

    def reset(self, env: Any, seed: int | None = None) -> None:
        """Read the seats' configs from ``env`` and forget past proposals.

        ``seed`` is accepted for the policy protocol; the tactics are deterministic.
        """
        base = getattr(env, "unwrapped", env)
        self._config = base.config
        if not self.controls:
            self.controls = tuple(base.possible_agents)
        changes: dict[str, Any] = {}
        if self._tactic is not None:
            changes["tactic"] = self._tactic
        if self._factor is not None:
            changes["concession_factor"] = self._factor
        self._parties = {
            a: dataclasses.replace(getattr(self._config, seat_of(a)), **changes)
            for a in self.controls
        }
        self._made = dict.fromkeys(self.controls, 0)

    def act(self, observations: dict[str, NDArray[np.float32]]) -> dict[str, Any]:
        """Actions for the controlled seats present in ``observations``."""
        return {
            agent: self._act_one(agent, np.asarray(obs, dtype=np.float64))
            for agent, obs in observations.items()
            if agent in self._parties
        }

    def _act_one(self, agent: str, obs: NDArray[np.float64]) -> Any:
        cfg = self._config
        lo, hi = cfg.price_floor_eur_per_mwh, cfg.price_cap_eur_per_mwh
        standing = lo + (obs[0] + 1.0) / 2.0 * (hi - lo) if obs[4] > 0.5 else None
        move = scripted_move(
            seat_of(agent),
            self._parties[agent],
            self._made[agent],
            standing,
            cfg.need_mw,
            cfg.negotiate_volume,
        )
        if move.decision == "counter":
            self._made[agent] += 1
        return self._encode(move)

    def _encode(self, move: Move) -> Any:
        cfg = self._config
        lo, hi = cfg.price_floor_eur_per_mwh, cfg.price_cap_eur_per_mwh
        if cfg.action_type == "discrete":
            n = cfg.n_price_levels
            if move.decision == "withdraw":
                return n + 1
            if move.decision == "accept":
                return n
            return int(np.argmin(np.abs(np.linspace(lo, hi, n) - move.price_eur_per_mwh)))
        decision = {"accept": 1.0, "withdraw": -1.0, "counter": 0.0}[move.decision]
        price = (
            2.0 * (move.price_eur_per_mwh - lo) / (hi - lo) - 1.0
            if move.decision == "counter"
            else 0.0
        )
        vlo, vhi = cfg.volume_floor_mw, cfg.volume_cap_mw
        volume = (
            2.0 * (move.volume_mw - vlo) / (vhi - vlo) - 1.0 if move.decision == "counter" else 0.0
        )
        return np.array([price, volume, decision], dtype=np.float64)
