"""One agent group of a market env as its own PettingZoo ``ParallelEnv``.

Tools that need every agent to share one space (SuperSuit's
``pettingzoo_env_to_vec_env_v1``, a shared-parameter policy) otherwise pad the
coalition's, members' and incumbents' different observations into one space and train
one policy over all of them. :class:`GroupParallelEnv` keeps the group apart instead:
only that group's ids are agents (all with the same spaces); every other agent follows
the scenario's scripted behaviour (:meth:`MarketParallelEnv.scripted_actions`).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from pettingzoo import ParallelEnv

from envs.adapters.parallel import MarketParallelEnv


class GroupParallelEnv(ParallelEnv):
    """``ParallelEnv`` of one group (``"members"``, ``"incumbents"`` or ``"coalition"``).

    Args:
        par: the full env; its observations, rewards (EUR), terminations, truncations
            and infos are passed through for the group's ids.
        group: a key of ``par.agent_groups``.

    Raises:
        ValueError: ``group`` is not an agent group of this scenario (names the groups).
    """

    def __init__(self, par: MarketParallelEnv, group: str) -> None:
        if group not in par.agent_groups:
            raise ValueError(
                f"{par.metadata['name']}: group {group!r} is not an agent group of this "
                f"scenario; groups: {', '.join(par.agent_groups)}"
            )
        self.par = par
        self.group = group
        self.possible_agents = list(par.agent_groups[group])
        self.agents: list[str] = []
        self.metadata = {**par.metadata, "name": f"{par.metadata['name']}/{group}"}
        self.render_mode = par.render_mode
        self.state_space = par.state_space

    def observation_space(self, agent: str) -> gymnasium.spaces.Space:
        """The full env's space of ``agent``."""
        return self.par.observation_space(agent)

    def action_space(self, agent: str) -> gymnasium.spaces.Space:
        """The full env's space of ``agent``."""
        return self.par.action_space(agent)

    def _own(self, d: dict[str, Any]) -> dict[str, Any]:
        return {a: d[a] for a in self.possible_agents if a in d}

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        """Reset the full env; returns the group's observations and infos."""
        obs, infos = self.par.reset(seed=seed, options=options)
        self.agents = list(self.possible_agents)
        return self._own(obs), self._own(infos)

    def step(self, actions: dict[str, np.ndarray]) -> tuple[dict, dict, dict, dict, dict]:
        """Step with the group's ``actions``, every other agent scripted."""
        full = {**self.par.scripted_actions(), **actions}
        out = self.par.step(full)
        self.agents = [a for a in self.possible_agents if a in self.par.agents]
        obs, rewards, terms, truncs, infos = (self._own(d) for d in out)
        return obs, rewards, terms, truncs, infos

    def state(self) -> np.ndarray:
        """The full env's global state."""
        return self.par.state()

    def render(self) -> str | np.ndarray | None:
        """The full env's render: one ANSI line, a (360, 480, 3) uint8 RGB frame, or None."""
        return self.par.render()

    def close(self) -> None:
        """Close the full env."""
        self.par.close()
