"""``python -m training.floor_ppo``: an SB3 PPO iteration's wall time against its floor.

The PPO counterpart of :mod:`training.floor` for ``configs/training/ppo.yaml`` (SB3 PPO on
the coalition's view, :mod:`training.ppo_sb3`), in one process, interleaved, each
repetition timing:

- ``iteration``: one ``model.learn`` of ``steps_per_iteration`` env steps, as
  :func:`training.ppo_sb3.train_ppo` calls it (capacity credit included), with SB3's
  ``train`` (the update) timed apart from the rest (the rollout);
- ``sim``: a copy of the run's batched env alone (with ``env.mix: rollout`` one
  :class:`training.mix.MixedVectorEnv` of every scenario): ``reset`` and ``T`` steps with
  one preallocated action batch (the scripted actions of hour 0);
- ``nets``: a copy of SB3's policy (same networks and optimiser) on synthetic tensors:
  ``T`` forward calls on (E, D) under ``torch.inference_mode``, then ``epochs`` passes of
  ``batch_size`` minibatches of ``evaluate_actions``, the clipped surrogate, value and
  entropy loss, ``backward``, the gradient-norm clip and Adam (no diagnostics, no gathers).

The first ``learn`` is a warm-up and is not counted.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from typing import Any

import torch

from training.common import make_envs, seed_everything
from training.credit import CapacityCredit
from training.floor import fixed_actions, floor_config, interleaved, sim_episode
from training.idle import auction_column
from training.ppo_sb3 import make_model, training_env
from training.rollout import iteration_seed

__all__ = ["ppo_floor"]

#: Keys of :func:`ppo_floor`, all in milliseconds per iteration but the ratio and the
#: training throughput (env steps of an iteration over its wall time, as ``time/sps``).
KEYS = (
    "ppo_train_over_floor",
    "ppo_train_steps_per_s",
    "ppo_iteration_ms",
    "ppo_rollout_ms",
    "ppo_update_ms",
    "ppo_floor_ms_per_iter",
    "ppo_floor_sim_ms_per_iter",
    "ppo_floor_nets_ms_per_iter",
    "ppo_floor_nets_rollout_ms_per_iter",
    "ppo_floor_nets_update_ms_per_iter",
)


class _Nets:
    """A copy of SB3's policy with synthetic tensors of one rollout's shapes (T hours, E
    envs, D observation features)."""

    def __init__(self, policy: Any, T: int, E: int, bs: int, cfg: Any) -> None:
        self.policy, self.T, self.cfg = copy.deepcopy(policy), T, cfg
        gen = torch.Generator().manual_seed(0)
        D = policy.observation_space.shape[0]
        self.step_obs = torch.randn(E, D, generator=gen)
        obs, size = torch.randn(T * E, D, generator=gen), T * E
        with torch.inference_mode():  # plausible actions and logp_old keep the ratios finite
            act, _, logp = self.policy(obs)
        act, logp = act.clone(), logp.clone()
        adv, ret = torch.randn(size, generator=gen), torch.randn(size, generator=gen)
        self.minibatches = [tuple(x[s : s + bs] for x in (obs, act, logp, adv, ret))
                            for s in range(0, size, bs)]  # fmt: skip

    def rollout(self) -> None:
        """The rollout's forward passes: one policy call per hour on (E, D)."""
        self.policy.set_training_mode(False)
        with torch.inference_mode():
            for _ in range(self.T):
                self.policy(self.step_obs)

    def update(self) -> None:
        """SB3's update arithmetic: epochs x minibatches of loss, backward, clip and Adam."""
        p, pol = self.cfg.ppo, self.policy
        pol.set_training_mode(True)
        for _ in range(p.epochs):
            for obs, act, logp_old, adv, ret in self.minibatches:
                values, logp, entropy = pol.evaluate_actions(obs, act)
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                ratio = torch.exp(logp - logp_old)
                clipped = torch.clamp(ratio, 1 - p.clip, 1 + p.clip)
                pg = -torch.min(adv * ratio, adv * clipped).mean()
                v_loss = torch.nn.functional.mse_loss(ret, values.flatten())
                loss = pg - p.ent_coef * entropy.mean() + p.vf_coef * v_loss
                pol.optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(pol.parameters(), p.max_grad_norm)
                pol.optimizer.step()


def ppo_floor(
    repeats: int = 7, days: int = 7, sets: dict[str, Any] | None = None
) -> dict[str, float]:
    """One process's SB3 PPO iteration time over its compute floor (module docstring).

    Args:
        repeats: measured iterations after one warm-up; days: episode length, days;
        sets: dotted overrides of ``configs/training/ppo.yaml``.

    Returns:
        :data:`KEYS`: ``ppo_train_over_floor`` (total iteration time over total floor time,
        dimensionless), ``ppo_train_steps_per_s`` (env steps per second of wall time over
        the measured iterations) and means over the repeats in ms per iteration (sim +
        nets = floor).
    """
    if repeats < 1 or days < 1:
        raise ValueError(f"repeats={repeats}, days={days}; expected at least 1 each")
    cfg = floor_config(days, sets, name="ppo")
    seed_everything(cfg.seed, cfg.threads)
    venvs, env = training_env(cfg)  # as training.ppo_sb3.train_ppo builds them
    model = make_model(cfg, env)
    credit = CapacityCredit(auction_column(venvs[0])) if cfg.ppo.capacity_credit else None
    torch.set_num_threads(cfg.threads)
    T, E = venvs[0].core.dims.T, env.num_envs
    with torch.random.fork_rng(devices=[]):  # its forward pass samples actions
        nets = _Nets(model.policy, T, E, cfg.ppo.batch_size, cfg)
    sim_venvs = make_envs(cfg)  # copies: SB3's env carries its episode across learn calls
    fixed = fixed_actions(sim_venvs)
    update_s = [0.0]
    sb3_train = model.train

    def timed_train() -> None:
        t0 = time.perf_counter()
        sb3_train()
        update_s[0] += time.perf_counter() - t0

    model.train = timed_train  # type: ignore[method-assign]  # SB3's learn calls self.train()

    def iteration(_: int) -> tuple[float, float]:
        """train_ppo's step: (rollout s, update s)."""
        update_s[0] = 0.0
        t0 = time.perf_counter()
        # SB3 types log_interval as int, but its learn loop reads None as "never log".
        model.learn(cfg.steps_per_iteration, callback=credit, reset_num_timesteps=False,
                    log_interval=None)  # type: ignore[arg-type]  # fmt: skip
        model.logger.dump(0)
        total = time.perf_counter() - t0
        return total - update_s[0], update_s[0]

    def sim(k: int) -> float:
        j = k % len(sim_venvs)
        return sim_episode(sim_venvs[j], fixed[j], iteration_seed(cfg.seed, k), read_state=False)

    out = interleaved("ppo", repeats, iteration, sim, nets)
    out["ppo_train_steps_per_s"] = cfg.steps_per_iteration * 1e3 / out["ppo_iteration_ms"]
    return out


def main(argv: list[str] | None = None) -> int:
    """CLI: print :func:`ppo_floor`'s figures as one JSON object."""
    p = argparse.ArgumentParser(prog="python -m training.floor_ppo",
                                description=__doc__.splitlines()[0])  # fmt: skip
    p.add_argument("--repeats", type=int, default=7,
                   help="measured iterations after a warm-up one (default 7)")  # fmt: skip
    p.add_argument("--days", type=int, default=7, help="episode length, days (default 7)")
    args = p.parse_args(argv)
    if args.repeats < 1 or args.days < 1:
        p.error("--repeats and --days must be at least 1")
    print(json.dumps(ppo_floor(args.repeats, args.days)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
