"""The MAPPO/IPPO training run: rollouts of the batched env, updates, logs, checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents.learned import margin_statics
from training.checkpoint import check_signature, restore_rng, rng_state
from training.common import coalition_mask, make_envs, resolve_device, slots_of, timed_loop
from training.config import TrainConfig, config_dict
from training.mappo import MappoLearner, signature
from training.rollout import collect, iteration_seed

__all__ = ["train_mappo"]


def build(
    cfg: TrainConfig, resume: dict[str, Any] | None = None, where: str = ""
) -> tuple[list[Any], MappoLearner, dict[str, Any]]:
    """The scenarios' batched envs, a fresh learner and its signature (checked against
    ``resume``'s before any network is built)."""
    venvs = make_envs(cfg)
    v = venvs[0]
    learn = cfg.mappo.learn_groups or tuple(v.agent_groups)
    missing = [g for g in learn if g not in v.agent_groups]
    if missing:
        raise ValueError(
            f"mappo.learn_groups names {missing}, which are not agent groups of scenario "
            f"{cfg.env.scenarios[0]!r} (groups: {list(v.agent_groups)}); incumbents are agents "
            "only where fleet.controlled is true (e.g. strategic_incumbents)"
        )
    groups = {g: (len(v.agent_groups[g]), v.observation_spaces[g].shape[-1],
                  v.action_spaces[g].shape[-1]) for g in learn}  # fmt: skip
    sig = signature(cfg.algo, cfg.env.env_id, groups, v.state_size, cfg.mappo)
    if resume is not None:
        check_signature(resume["signature"], sig, where)
    masks = {}
    if "coalition" in groups:
        masks["coalition"] = coalition_mask(slots_of(v), cfg.mappo.fixed_coalition_entries)
    learner = MappoLearner(cfg.mappo, groups, v.state_size, cfg.algo == "mappo", masks,
                           horizon_h=v.core.dims.H, device=resolve_device(cfg.device))  # fmt: skip
    return venvs, learner, sig


def train_mappo(
    cfg: TrainConfig, run_dir: Path, logger: Any, resume: dict[str, Any] | None = None
) -> dict[str, float]:
    """Train (or continue) a MAPPO/IPPO run; returns the last iteration's scalars.

    Raises:
        CheckpointMismatchError: ``resume`` was built for another architecture or env.
    """
    venvs, learner, sig = build(cfg, resume, str(run_dir))
    start = 0
    if resume is not None:
        learner.load_state_dict(resume["learner"])
        restore_rng(resume["rng"])
        start = int(resume["iteration"])
    slots = slots_of(venvs[0])
    if start == 0 and cfg.mappo.imitate:
        from training.imitate import describe, warm_start

        warm = warm_start(cfg, learner, logger.show_progress)
        logger.scalars(warm, 0)
        logger.note(describe(warm))

    statics = [margin_statics(v.core) for v in venvs]  # each scenario's, fixed for the run

    def step(it: int) -> dict[str, float]:
        venv = venvs[it % len(venvs)]
        learner.statics = statics[it % len(venvs)]
        scale = cfg.mappo.reward_scale * cfg.env.reward_weight(it)
        batches, states, scalars = collect(venv, learner, iteration_seed(cfg.seed, it), scale)
        scalars.update(learner.update(batches, states))
        return scalars

    def payload(iteration: int) -> dict[str, Any]:
        return {
            "signature": sig, "config": config_dict(cfg), "iteration": iteration,
            "global_step": iteration * cfg.steps_per_iteration,
            "learner": learner.state_dict(), "rng": rng_state(), "policy": learner.export(slots),
        }  # fmt: skip

    return timed_loop(cfg, start, step, payload, run_dir, logger)
