"""Capacity cash credited to the auction hour whose offer earned it (``ppo.capacity_credit``).

The coalition's capacity offer is one decision in its auction hour (once per episode in the
shipped scenarios, ``capacity.period_h: 0``), but the cash it earns comes every hour after:
the payment for the commitment and, in scarcity hours days later, the Capacity Performance
charges when the members do not deliver (PJM OATT Attachment DD §10A). With GAE
(lambda 0.95, gamma 0.99) an hour 50 h after the auction weighs 0.05 in the auction hour's
advantage, and a week's spot cash, which swings by 100k EUR from one weather draw to the
next, buries the rest. So the offer's policy gradient carries almost none of its own cash:
the learned offer stayed at the whole firm capacity in every scenario, and in
``dark_doldrums`` paid 9.8k EUR/week more in charges than offering nothing.

This moves each hour's capacity cash, discounted, to the last auction hour before it (the
discounted return from the auction hour is unchanged) and recomputes the rollout's
advantages: a return decomposition with a known decomposition (RUDDER, Arjona-Medina et
al., NeurIPS 2019, reward redistribution). The hours after the auction then see no capacity
cash. That is exact for the offer, and drops the small part of the charges that the
coalition's later reserve offers can change (reserve held but not called counts as
delivered).

Dims: T hours of one rollout (one whole episode), E envs.
"""

from __future__ import annotations

from typing import Protocol, cast

import numpy as np
from numpy.typing import NDArray
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

__all__ = ["CapacityCredit", "credit_to_auctions"]

F64 = NDArray[np.float64]


class _RecordsCapacityCash(Protocol):
    """What this callback reads of the env (:class:`training.ppo_sb3.TrainingCoalitionEnv`,
    which imports this module, so it is named here by what it has, not imported)."""

    last_capacity_cash: F64  # (T, E) the last finished episode's capacity cash, scaled


def credit_to_auctions(rewards: F64, cash: F64, auction: NDArray[np.bool_], gamma: float) -> F64:
    """Rewards with each hour's capacity cash moved to the last auction hour at or before it.

    Args:
        rewards: (T, E) rewards of one episode, the capacity cash included.
        cash: (T, E) the capacity cash inside ``rewards`` (same units).
        auction: (T,) or (T, E) whether the capacity auction cleared in hour t (in env e).
        gamma: discount per hour; cash of hour t reaches auction hour a as gamma**(t-a).

    Returns:
        (T, E) rewards; cash before the first auction stays where it is.
    """
    out = np.array(rewards, dtype=np.float64, copy=True)
    t_n, e_n = out.shape
    auction = np.broadcast_to(np.asarray(auction, bool).reshape(t_n, -1), (t_n, e_n))
    envs = np.arange(e_n)
    a = np.full(e_n, -1)  # each env's last auction hour so far
    for t in range(t_n):
        a = np.where(auction[t], t, a)
        move = (a >= 0) & (a != t)
        out[t, move] -= cash[t, move]
        out[a[move], envs[move]] += gamma ** (t - a[move]) * cash[t, move]
    return out


class CapacityCredit(BaseCallback):
    """SB3 callback: at the end of each rollout, credit the episode's capacity cash to its
    auction hours and recompute returns and advantages.

    The env (:class:`training.ppo_sb3.TrainingCoalitionEnv`) records the episode's scaled
    capacity cash; the auction hours are those whose observation flags one (feature
    ``auction_col``, :func:`training.idle.auction_column`). Each rollout is exactly one
    episode of all E envs.
    """

    def __init__(self, auction_col: int) -> None:
        super().__init__()
        self.auction_col = int(auction_col)

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        model = cast(OnPolicyAlgorithm, self.model)  # PPO: a rollout buffer and gamma
        cash = cast("_RecordsCapacityCash", model.get_env()).last_capacity_cash
        buf = model.rollout_buffer
        auction = buf.observations[:, :, self.auction_col] > 0.5
        if cash.shape != buf.rewards.shape:
            raise RuntimeError(
                f"capacity_credit: the episode has {cash.shape} hours x envs of capacity "
                f"cash, the rollout {buf.rewards.shape}; a rollout must be one whole episode"
            )
        buf.rewards[:] = credit_to_auctions(buf.rewards, cash, auction, model.gamma)
        buf.compute_returns_and_advantage(self.locals["values"], self.locals["dones"])
