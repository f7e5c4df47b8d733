"""SB3 policy whose log-probability sums only over the action entries that act this hour
(``ppo.mask_idle_entries``).

The coalition's action has entries that do nothing in most hours: the capacity offer
(``c``, ``cp``) is read only in capacity-auction hours (once per episode in the shipped
scenarios), and the entries held fixed (``fixed_coalition_entries``) never. SB3's Gaussian
policy still samples them every hour and sums their log-probabilities into the policy
gradient, so the capacity offer's head gets the gradient of 168 samples a week of which 167
are noise: advantages that owe nothing to it, times its own random deviation. Its signal
from the one auction hour (64 samples a rollout among 10,752) was lost in that noise, and
the learned offer barely depended on the scenario. Summing the log-probability over the
entries that act (a hybrid action whose parameters matter only in some states: masked
log-likelihood, as for the parameters of an unused discrete action in parameterised action
spaces, Masson et al., AAAI 2016) leaves the gradient of an idle entry exactly zero. The
PPO ratio is computed from the same masked sum at collection and at update.

Dims: B samples, A action entries, D observation features.
"""

from __future__ import annotations

from typing import Any, cast

import torch
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.type_aliases import PyTorchObs

from envs.sim import observe as ob

__all__ = ["IdleEntriesPolicy", "auction_column"]


def auction_column(venv: Any) -> int:
    """The coalition observation's feature flagging a capacity-auction hour (1.0 then)."""
    return ob.index(venv.core.dims.H)["coalition"]["capacity_auction"]


class IdleEntriesPolicy(ActorCriticPolicy):
    """SB3's MLP actor-critic with a masked log-probability (see the module docstring).

    Call :meth:`set_active` after construction: ``fixed`` (A,) 1.0 for entries the policy
    moves, 0.0 for fixed ones; ``auction_col`` the observation feature flagging an auction
    hour; ``auction_dims`` the entries that act only then.
    """

    def set_active(self, fixed: Any, auction_col: int, auction_dims: list[int]) -> None:
        """The entries that act: ``fixed`` (A,) always, ``auction_dims`` in auction hours."""
        self._fixed = torch.as_tensor(fixed, dtype=torch.float32)
        self._auction_col = int(auction_col)
        self._auction_dims = list(auction_dims)

    def active(self, obs: torch.Tensor) -> torch.Tensor:
        """(B, A) 1.0 where an entry acts on observation ``obs`` (B, D)."""
        m = self._fixed.expand(obs.shape[0], -1).clone()
        if self._auction_dims:
            m[:, self._auction_dims] *= (obs[:, self._auction_col] > 0.5).float()[:, None]
        return m

    def _heads(self, obs: torch.Tensor) -> tuple[Any, torch.Tensor]:
        latent_pi, latent_vf = self.mlp_extractor(self.extract_features(obs))
        return self._get_action_dist_from_latent(latent_pi), self.value_net(latent_vf)

    def _log_prob(self, obs: torch.Tensor, dist: Any, actions: torch.Tensor) -> torch.Tensor:
        return (dist.distribution.log_prob(actions) * self.active(obs)).sum(dim=1)

    def forward(
        self, obs: torch.Tensor, deterministic: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Actions, values and masked log-probabilities (SB3's rollout collection)."""
        dist, values = self._heads(obs)
        actions = dist.get_actions(deterministic=deterministic)
        log_prob = self._log_prob(obs, dist, actions)
        shape = self.action_space.shape
        assert shape is not None  # a Box action space: (A,)
        return actions.reshape((-1, *shape)), values, log_prob

    def evaluate_actions(
        self, obs: PyTorchObs, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Values, masked log-probabilities and entropy (SB3's update)."""
        obs = cast(torch.Tensor, obs)  # a Box observation space (B, D): never a dict
        dist, values = self._heads(obs)
        return values, self._log_prob(obs, dist, actions), dist.entropy()
