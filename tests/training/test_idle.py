"""The masked log-probability of ppo.mask_idle_entries (training.idle)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from training.config import load_config
from training.idle import auction_column

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "training"


def _model(mask_idle: bool):
    from training.common import coalition_mask, make_envs, slots_of
    from training.ppo_sb3 import TrainingCoalitionEnv, make_model

    cfg = load_config(CONFIGS / "ppo.yaml", {"env.num_envs": 4, "env.days": 1,
                                             "env.scenarios": ["default"],
                                             "ppo.fixed_coalition_entries": ["q", "p"],
                                             "ppo.mask_idle_entries": mask_idle})  # fmt: skip
    venvs = make_envs(cfg)
    slots = slots_of(venvs[0])
    mask = coalition_mask(slots, cfg.ppo.fixed_coalition_entries).numpy()
    env = TrainingCoalitionEnv(venvs, 0, True, cfg.ppo.reward_scale, mask)
    return make_model(cfg, env), env, slots


def test_idle_entries_get_no_gradient():
    model, env, slots = _model(True)
    obs = torch.as_tensor(env.reset())  # hour 0: the capacity auction
    col = auction_column(env.venv)
    assert (obs[:, col] == 1).all()
    later = obs.clone()
    later[:, col] = 0.0  # the same hour, as if no auction cleared in it
    head = model.policy.action_net[0]  # the linear head inside mean_bound's tanh
    actions = torch.randn(obs.shape[0], len(slots))

    def grad_rows(x):
        model.policy.zero_grad()
        _, log_prob, _ = model.policy.evaluate_actions(x, actions)
        log_prob.sum().backward()
        return head.weight.grad.abs().sum(dim=1)  # per action entry

    at_auction, idle = grad_rows(obs), grad_rows(later)
    i = {s: slots.index(s) for s in slots}
    for s in ("q", "p"):  # fixed: never
        assert at_auction[i[s]] == 0 and idle[i[s]] == 0
    for s in ("c", "cp"):  # the capacity offer: only in its auction hour
        assert at_auction[i[s]] > 0 and idle[i[s]] == 0
    for s in ("r", "rp"):  # the reserve offer: every hour
        assert at_auction[i[s]] > 0 and idle[i[s]] > 0


def test_masked_log_prob_is_the_same_at_collection_and_update():
    model, env, _ = _model(True)
    obs = torch.as_tensor(env.reset())
    torch.manual_seed(0)
    actions, _, lp_forward = model.policy(obs)
    _, lp_update, _ = model.policy.evaluate_actions(obs, actions)
    torch.testing.assert_close(lp_forward, lp_update)
    # Without the mask, the same policy sums every entry: the fixed ones make it differ.
    plain, _, _ = _model(False)
    plain.policy.load_state_dict(model.policy.state_dict())
    _, lp_plain, _ = plain.policy.evaluate_actions(obs, actions)
    assert not np.allclose(lp_plain.detach().numpy(), lp_update.detach().numpy())
