"""Single-agent Gymnasium view of the market: one agent acts, the rest are scripted.

``envs.make_gym("multimarket_v1", agent="coalition_0")`` (or ``"member_3"``,
``"incumbent_0"`` when incumbents are controlled) returns a ``gymnasium.Env`` whose
observation, action and reward are those of that agent in the PettingZoo env; every
other agent follows :meth:`envs.adapters.parallel.MarketParallelEnv.scripted_actions`.
``agent="coalition"`` (the group's name, the id before PettingZoo's ``<type>_<n>`` names)
is accepted for ``"coalition_0"``.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

from envs.adapters.parallel import COALITION_ID, MarketParallelEnv
from envs.config.scenario import ScenarioConfig
from envs.errors import UnknownNameError


class SingleAgentEnv(gymnasium.Env):
    """Gymnasium env of one agent of :class:`MarketParallelEnv`."""

    # render_fps: the frame rate of rgb_array videos (Gymnasium's RecordVideo).
    metadata: dict[str, Any] = {
        "render_modes": MarketParallelEnv.metadata["render_modes"],
        "render_fps": MarketParallelEnv.metadata["render_fps"],
    }

    def __init__(
        self,
        cfg: ScenarioConfig,
        *,
        agent: str = COALITION_ID,
        name: str = "multimarket_v1",
        render_mode: str | None = None,
        max_cycles: int | None = None,
        info_format: str = "flat",
    ) -> None:
        agent = COALITION_ID if agent == "coalition" else agent
        self.par = MarketParallelEnv(
            cfg,
            render_mode=render_mode,
            name=name,
            max_cycles=max_cycles,
            info_format=info_format,
        )
        if agent not in self.par.possible_agents:
            raise UnknownNameError(
                f"agent {agent!r} is not in {name} with this scenario; agents: "
                f"{', '.join(self.par.possible_agents)}"
            )
        self.agent = agent
        self.render_mode = render_mode
        self.observation_space = self.par.observation_space(agent)
        self.action_space = self.par.action_space(agent)

    def reset(
        self, *, seed: int | None = None, options: dict | None = None
    ) -> tuple[np.ndarray, dict]:
        """Reset the underlying env; same seeding as the PettingZoo env."""
        super().reset(seed=seed)
        obs, infos = self.par.reset(seed=seed, options=options)
        return obs[self.agent], infos[self.agent]

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Step with the others scripted."""
        actions = self.par.scripted_actions()
        actions[self.agent] = action
        obs, rew, term, trunc, infos = self.par.step(actions)
        return (
            obs[self.agent],
            float(rew[self.agent]),
            bool(term[self.agent]),
            bool(trunc[self.agent]),
            infos[self.agent],
        )

    # Env.render returns a free TypeVar, which no concrete override matches (fixed upstream
    # in Farama-Foundation/Gymnasium#1560, where RenderFrame became a type alias).
    def render(self) -> str | np.ndarray | None:  # type: ignore[override]
        """See :meth:`MarketParallelEnv.render`."""
        return self.par.render()
