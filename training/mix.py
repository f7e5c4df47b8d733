"""Every scenario of the training mix in every rollout (``env.mix: rollout``, PPO only).

With ``env.mix: iteration`` (the default) iteration ``i`` rolls out ``scenarios[i % K]`` in
all E envs, so each policy update sees one scenario. A decision whose right answer depends
on the scenario then swings from one iteration to the next: the coalition's capacity offer
in its auction hour pays in six of the seven scenarios and draws non-performance charges in
``dark_doldrums``, and updates on one scenario at a time left the offer near the whole firm
capacity everywhere. :class:`MixedVectorEnv` steps K batched envs, one per scenario, as one
batch of E envs (split as evenly as E allows), so that every rollout and every minibatch
holds all K scenarios and the policy gradient contrasts them directly. The reward weights
then become per env (``weights``).

Dims: E envs in all, E_k in part k, n agents of a group, A action entries.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["MixedVectorEnv", "split_envs"]


def split_envs(num_envs: int, parts: int) -> list[int]:
    """E envs split into ``parts`` sizes as even as possible, larger first."""
    return [len(a) for a in np.array_split(np.arange(num_envs), parts)]


class MixedVectorEnv:
    """K :class:`envs.adapters.vector.VectorMarketEnv` of the same layout, stepped as one.

    The batched env's interface that training uses (``reset``, ``step``,
    ``scripted_actions``, ``state``, spaces, ``agent_groups``, ``num_envs``); ``core`` is
    the first part's (layout, horizon and hours agree across parts, which
    :func:`training.common.make_envs` checks).

    Args:
        parts: the batched envs, one per scenario.
        names: their scenario names (for ``weights``).
    """

    render_mode: str | None = None

    def __init__(self, parts: list[Any], names: list[str]) -> None:
        self.parts, self.names = list(parts), list(names)
        first = self.parts[0]
        self.core = first.core
        self.agent_groups = first.agent_groups
        self.observation_spaces, self.action_spaces = first.observation_spaces, first.action_spaces
        self.state_size, self.state_space = first.state_size, first.state_space
        self.metadata = first.metadata
        self.sizes = [p.num_envs for p in self.parts]
        self.num_envs = int(sum(self.sizes))
        self._cuts = np.cumsum(self.sizes)[:-1]

    def weights(self, reward_weights: dict[str, float]) -> np.ndarray:
        """(E,) each env's reward weight (its scenario's, default 1)."""
        return np.repeat([float(reward_weights.get(n, 1.0)) for n in self.names], self.sizes)

    @property
    def needs_reset(self) -> bool:
        """Whether any part's next ``step`` resets its envs (their episodes have ended)."""
        return any(p.needs_reset for p in self.parts)

    def _cat(self, items: list[Any]) -> Any:
        if isinstance(items[0], dict):
            return {k: np.concatenate([it[k] for it in items]) for k in items[0]}
        return np.concatenate(items)

    def reset(self, seed: int | None = None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Reset every part; part k's seed is drawn from SeedSequence([seed, k])."""
        outs = []
        for k, p in enumerate(self.parts):
            s = None if seed is None else np.random.SeedSequence([seed, k]).generate_state(1)[0]
            outs.append(p.reset(seed=None if s is None else int(s)))
        return self._cat([o[0] for o in outs]), {}

    def step(self, actions: dict[str, np.ndarray]) -> tuple[Any, ...]:
        """Step every part with its rows of ``actions`` (group -> (E, n, A))."""
        split = {g: np.split(np.asarray(a), self._cuts) for g, a in actions.items()}
        outs = [p.step({g: s[k] for g, s in split.items()}) for k, p in enumerate(self.parts)]
        return tuple(self._cat([o[i] for o in outs]) for i in range(5))

    def scripted_actions(self) -> dict[str, np.ndarray]:
        """Every group's scripted action this hour, (E, n, A) per group."""
        return self._cat([p.scripted_actions() for p in self.parts])

    def state(self) -> np.ndarray:
        """(E, S) global state."""
        return np.concatenate([p.state() for p in self.parts])
