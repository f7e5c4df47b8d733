"""Generalised advantage estimation (Schulman et al. 2016), over a time-major batch.

Dims: T steps, then any batch shape B (envs, agents). ``dones[t]`` is 1 when the
episode ended with step ``t`` (terminated, so nothing is bootstrapped past it).
"""

from __future__ import annotations

import torch

__all__ = ["compute_gae"]


def compute_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    dones: torch.Tensor,
    last_value: torch.Tensor,
    gamma: float,
    gae_lambda: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and returns (value targets).

    ``delta_t = r_t + gamma * (1 - d_t) * V_{t+1} - V_t`` and
    ``A_t = delta_t + gamma * lambda * (1 - d_t) * A_{t+1}``; returns ``A_t + V_t``.

    Args:
        rewards: (T, *B) rewards of each step.
        values: (T, *B) value estimates of the states the steps were taken in.
        dones: (T, *B) 1.0 where the episode terminated with that step.
        last_value: (*B) value of the state after the last step (ignored where it ended).
        gamma: discount per step; gae_lambda: GAE's lambda.

    Returns:
        (advantages, returns), each (T, *B).

    Raises:
        ValueError: mismatched shapes.
    """
    if rewards.shape != values.shape or rewards.shape != dones.shape:
        raise ValueError(
            f"rewards {tuple(rewards.shape)}, values {tuple(values.shape)} and dones "
            f"{tuple(dones.shape)} must have the same (T, *B) shape"
        )
    if last_value.shape != rewards.shape[1:]:
        raise ValueError(
            f"last_value has shape {tuple(last_value.shape)}; expected {tuple(rewards.shape[1:])}"
        )
    adv = torch.zeros_like(rewards)
    running = torch.zeros_like(last_value)
    next_value = last_value
    # A reverse loop over T (one episode, <= a few hundred steps); each step is batched.
    for t in range(rewards.shape[0] - 1, -1, -1):
        live = 1.0 - dones[t]
        delta = rewards[t] + gamma * live * next_value - values[t]
        running = delta + gamma * gae_lambda * live * running
        adv[t] = running
        next_value = values[t]
    return adv, adv + values
