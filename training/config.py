"""Training configs: frozen dataclasses, one YAML loader, ``--set`` overrides (STYLE §3).

A training YAML (``configs/training/*.yaml``) has the top-level keys of
:class:`TrainConfig`: ``algo``, ``seed``, ``total_steps``, ``threads``, ``env``
(:class:`EnvSpec`), ``mappo`` (:class:`MappoConfig`, used by ``mappo``/``ippo``) and
``ppo`` (:class:`PPOConfig`). Unknown keys are rejected with the list of valid ones;
values are coerced to the declared types (PyYAML reads ``3e-4`` as a string).

Overrides use dotted paths: ``--set mappo.lr=0.001 --set env.num_envs=32``; values are
parsed as YAML scalars (``true``, ``0.5``, ``[default, sunny_summer]``).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from envs.config import limits as lim
from envs.config.loader import apply_overrides, build, to_dict
from envs.config.validate import bounded, check, check_fields
from envs.errors import ConfigError

__all__ = [
    "EnvSpec",
    "MappoConfig",
    "PPOConfig",
    "TrainConfig",
    "load_config",
    "parse_sets",
    "save_config",
]

# Upper limits of the numeric fields (the physical ones: envs/config/limits.py).
_ENVS = 10_000  # envs stepped in one batch: beyond any one machine's memory
_LR = 1.0  # an optimiser step as large as the weights themselves diverges
_EPOCHS = 10_000  # passes over one batch or data set
_CLIP = 10.0  # PPO ratio clips and action bounds: 10 = no clipping left
_COEF = 1e3  # loss weights and reward scales: three orders of magnitude
_NORM = 1e6  # gradient norms and value clips: past it, no clipping is left
_HIDDEN = 2**16  # units of a layer: 4e9 weights between two of them
_BATCH = 2**24  # samples of one PPO batch
_STEPS = 10**12  # env steps of one run: years of compute


@dataclass(frozen=True, slots=True)
class EnvSpec:
    """Which batched env to train on.

    Attributes:
        env_id: a registered env id with a batched version (``multimarket_v1``).
        scenarios: scenario names; iteration ``i`` rolls out ``scenarios[i % len]``.
            Their observation and action layouts must agree.
        num_envs: E, envs stepped together per rollout.
        days: episode length in days (one rollout = one episode of ``days * 24`` steps).
        overrides: dotted scenario overrides applied to every scenario.
        scenario_overrides: scenario -> dotted overrides applied to that scenario only,
            after ``overrides`` (domain randomisation: e.g. larger batteries in one of the
            scenarios, so that the members' actor sees more than one battery size).
        reward_weights: scenario -> factor on its rewards (default 1), so that scenarios
            whose rewards are an order of magnitude larger (scarcity hours at the price
            cap) do not swamp the value normalisation shared by all of them.
        mix: ``iteration`` (iteration ``i`` rolls out ``scenarios[i % K]`` in all E envs)
            or ``rollout`` (every rollout holds every scenario, E split among them;
            :mod:`training.mix`; PPO only).
    """

    env_id: str = "multimarket_v1"
    scenarios: tuple[str, ...] = ("default",)
    num_envs: int = bounded(64, ge=1, le=_ENVS, unit="envs")
    days: int = bounded(7, ge=1, le=366)
    overrides: dict[str, Any] = field(default_factory=dict)
    scenario_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    reward_weights: dict[str, float] = field(default_factory=dict)
    mix: Literal["iteration", "rollout"] = "iteration"

    def __post_init__(self) -> None:
        """Check each field's type and bounds, at least one scenario, positive reward
        weights, an env for every scenario of a mixed rollout."""
        check_fields(self)
        check(len(self.scenarios) > 0, "scenarios", self.scenarios, "at least one name")
        if self.mix == "rollout":
            k = len(self.scenarios)
            check(self.num_envs >= k, "num_envs", self.num_envs,
                  f"at least one env per scenario with mix: rollout ({k})")  # fmt: skip
        # As with reward_weights, names the mix does not train on are unused.
        for name, o in self.scenario_overrides.items():
            check(isinstance(o, dict), f"scenario_overrides.{name}", o,
                  "a mapping of dotted overrides")  # fmt: skip
        for name, w in self.reward_weights.items():  # names not trained on are unused
            check(isinstance(w, (int, float)) and w > 0, f"reward_weights.{name}", w,
                  "a positive number")  # fmt: skip

    def overrides_for(self, scenario: str) -> dict[str, Any]:
        """The dotted overrides of ``scenario``: ``overrides``, then its own."""
        return {**self.overrides, **self.scenario_overrides.get(scenario, {})}

    def reward_weight(self, iteration: int) -> float:
        """The reward factor of the scenario that iteration (episode) ``iteration`` rolls out."""
        return float(self.reward_weights.get(self.scenarios[iteration % len(self.scenarios)], 1.0))


@dataclass(frozen=True, slots=True)
class MappoConfig:
    """Hyper-parameters of our MAPPO/IPPO (:mod:`training.mappo`).

    Attributes:
        lr: Adam learning rate.
        gamma: discount per hour; gae_lambda: GAE's lambda.
        epochs: passes over each rollout; minibatches: minibatches per pass (split
            over (env, hour) samples; every agent of a sample goes in the same one).
        clip: PPO ratio clip; value_clip: clip of the value change (0 = off).
        ent_coef, vf_coef: entropy bonus and value-loss weights.
        max_grad_norm: global gradient-norm clip.
        hidden: units per hidden layer (two tanh layers) of actors and critics.
        log_std_init: initial log standard deviation of the Gaussian policies.
        coalition_log_std_init: per-entry initial log-std of the coalition's actions in
            its layout order (``q, p, r, rp, c, cp``); empty = ``log_std_init`` for all.
            Wrong quantities cost imbalance and reserve penalties every hour, while the
            capacity offer matters only in auction hours, so they explore differently.
        fixed_coalition_entries: coalition action entries (names ``q, p, r, rp, c, cp``)
            the actor does not move: with ``residual`` they stay at the scripted action
            (for ``q, p``: the price-taking bid of the members' feasible net position; in a
            uniform-price auction a small coalition gains nothing by bidding another
            quantity, deviations only buy imbalance at spot +/- spread).
        reward_scale: rewards (EUR/h) are multiplied by this before GAE.
        obs_norm, value_norm: running normalisation of observations/state and of
            value targets (MAPPO's ValueNorm).
        residual: the actor outputs a correction added to the group's scripted action
            (residual policy learning, Silver et al. 2018) instead of the action itself.
        learn_groups: groups that learn; the others follow their scripted actions.
            Empty = every agent group of the env.
        forecast_features: groups whose actor input gets
            :func:`agents.learned.forecast_features` appended (where this hour stands in
            the published residual-load forecast, the driver of the spot price).
        margin_features: the groups of ``forecast_features`` also get
            :func:`agents.learned.margin_features` (the fleet's forecast margin: how
            scarce the coming hours are, from static fleet sizes).
        critic_obs: MAPPO's centralised critic of a group reads the global state and
            each agent's own input (the agent-specific global state of Yu et al. 2022,
            §4.2), one shared network for the agents of the group, instead of the state
            alone with one output per agent.
        reserve_base: the coalition's residual base for its reserve offer: ``none`` (no
            offer, the rule's) or ``headroom`` (the upward reserve the members' feasible
            set-points leave this hour, :func:`agents.learned.reserve_headroom`, at
            0 EUR/MW: always deliverable, so never penalised).
        imitate: a teacher agent name (``mpc``) whose members' set-points the members'
            actor is fitted to before the first iteration (:mod:`training.imitate`);
            ``""`` = start from the rule. imitate_episodes: teacher episodes per training
            scenario; imitate_epochs: passes over the demonstrations.
    """

    lr: float = bounded(0.0005, gt=0, le=_LR)
    gamma: float = bounded(0.99, gt=0, le=1)
    gae_lambda: float = bounded(0.95, ge=0, le=1)
    epochs: int = bounded(4, ge=1, le=_EPOCHS)
    minibatches: int = bounded(4, ge=1, le=lim.COUNT)
    clip: float = bounded(0.2, gt=0, le=_CLIP)
    value_clip: float = bounded(0.2, ge=0, le=_NORM)
    ent_coef: float = bounded(0.0, ge=0, le=_COEF)
    vf_coef: float = bounded(0.5, ge=0, le=_COEF)
    max_grad_norm: float = bounded(0.5, gt=0, le=_NORM)
    hidden: int = bounded(64, ge=1, le=_HIDDEN, unit="units")
    log_std_init: float = bounded(-1.0, ge=-20, le=2)
    coalition_log_std_init: tuple[float, ...] = bounded((), ge=-20, le=2)
    fixed_coalition_entries: tuple[str, ...] = ()
    reward_scale: float = bounded(0.01, gt=0, le=_COEF)
    obs_norm: bool = True
    value_norm: bool = True
    residual: bool = True
    learn_groups: tuple[str, ...] = ()
    forecast_features: tuple[str, ...] = ()
    margin_features: bool = False
    critic_obs: bool = False
    reserve_base: str = "none"
    imitate: str = ""
    imitate_episodes: int = bounded(8, ge=1, le=lim.COUNT, unit="episodes")
    imitate_epochs: int = bounded(20, ge=1, le=_EPOCHS)

    def __post_init__(self) -> None:
        """Check each field's type and bounds, and the names among the allowed ones."""
        check_fields(self)
        groups = "names among coalition, members, incumbents"
        bad = sorted(set(self.learn_groups) - {"coalition", "members", "incumbents"})
        check(not bad, "learn_groups", self.learn_groups, groups)
        check(self.reserve_base in ("none", "headroom"), "reserve_base", self.reserve_base,
              "'none' or 'headroom'")  # fmt: skip
        from agents.base import BUILTINS

        check(self.imitate in ("", *BUILTINS), "imitate", self.imitate,
              f"'' or a built-in agent name ({', '.join(sorted(BUILTINS))})")  # fmt: skip
        bad = sorted(set(self.forecast_features) - {"coalition", "members", "incumbents"})
        check(not bad, "forecast_features", self.forecast_features, groups)
        check(not self.margin_features or bool(self.forecast_features), "margin_features",
              self.margin_features, "false unless forecast_features names a group")  # fmt: skip


@dataclass(frozen=True, slots=True)
class PPOConfig:
    """Hyper-parameters of stable-baselines3 PPO on the coalition's view (:mod:`training.ppo_sb3`).

    Attributes:
        lr, gamma, gae_lambda, clip, ent_coef, vf_coef, max_grad_norm: as in SB3's PPO.
        epochs: SB3 ``n_epochs``; batch_size: SB3 minibatch size (samples).
        hidden: units per hidden layer (two tanh layers, separate actor and critic).
        log_std_init: initial log standard deviation.
        coalition_log_std_init: per-entry initial log-std (``q, p, r, rp, c, cp``); empty =
            ``log_std_init`` for all (see :class:`MappoConfig`).
        fixed_coalition_entries: entries the policy does not move (see :class:`MappoConfig`).
        reward_scale: rewards (EUR/h) are multiplied by this.
        residual: the action is a correction to the scripted coalition bid (actions in
            [-2, 2], the sum clipped to [-1, 1]).
        mean_bound: 0 = a linear mean head; > 0 = the mean is ``mean_bound * tanh(head)``,
            so it cannot run past the action bound (2 with ``residual``), where every sample
            is clipped to the same action and the policy gradient has no signal left.
        capacity_credit: credit each hour's capacity cash to the auction hour whose offer
            earned it before computing advantages (:mod:`training.credit`).
        mask_idle_entries: sum the policy's log-probability only over the entries that act
            this hour: not the fixed ones, the capacity offer only in auction hours
            (:mod:`training.idle`).
    """

    lr: float = bounded(0.0003, gt=0, le=_LR)
    gamma: float = bounded(0.99, gt=0, le=1)
    gae_lambda: float = bounded(0.95, ge=0, le=1)
    clip: float = bounded(0.2, gt=0, le=_CLIP)
    ent_coef: float = bounded(0.0, ge=0, le=_COEF)
    vf_coef: float = bounded(0.5, ge=0, le=_COEF)
    max_grad_norm: float = bounded(0.5, gt=0, le=_NORM)
    epochs: int = bounded(5, ge=1, le=_EPOCHS)
    batch_size: int = bounded(1024, ge=2, le=_BATCH, unit="samples")
    hidden: int = bounded(64, ge=1, le=_HIDDEN, unit="units")
    log_std_init: float = bounded(-1.0, ge=-20, le=2)
    coalition_log_std_init: tuple[float, ...] = bounded((), ge=-20, le=2)
    fixed_coalition_entries: tuple[str, ...] = ()
    reward_scale: float = bounded(0.001, gt=0, le=_COEF)
    residual: bool = True
    mean_bound: float = bounded(0.0, ge=0, le=_CLIP)  # actions lie in [-2, 2]
    capacity_credit: bool = False
    mask_idle_entries: bool = False

    def __post_init__(self) -> None:
        """Check each field's type and bounds."""
        check_fields(self)


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """One training run.

    Attributes:
        algo: ``ppo`` (SB3, coalition only), ``mappo`` (centralised critics on
            ``state()``) or ``ippo`` (per-agent critics on local observations).
        seed: run seed (torch, numpy, env resets derive from it).
        total_steps: env steps to train for, summed over the E envs.
        threads: ``torch.set_num_threads``.
        device: where the networks and the update run: ``cpu``, ``cuda`` (an error where
            torch sees no GPU) or ``auto`` (``cuda`` where available); the simulator always
            runs on the CPU.
        checkpoint_every: write a checkpoint every this many iterations (and at the end).
        env, mappo, ppo: see their classes.
    """

    algo: Literal["ppo", "mappo", "ippo"] = "mappo"
    seed: int = bounded(0, ge=0, le=lim.SEED)  # numpy seeds are non-negative
    total_steps: int = bounded(1_000_000, ge=1, le=_STEPS, unit="steps")
    threads: int = bounded(2, ge=1, le=1024, unit="threads")  # cores of the largest nodes
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    checkpoint_every: int = bounded(10, ge=1, le=_STEPS, unit="iterations")
    env: EnvSpec = field(default_factory=EnvSpec)
    mappo: MappoConfig = field(default_factory=MappoConfig)
    ppo: PPOConfig = field(default_factory=PPOConfig)

    def __post_init__(self) -> None:
        """Check each field's type and bounds; a mixed rollout only with PPO."""
        check_fields(self)
        check(self.env.mix == "iteration" or self.algo == "ppo", "env.mix", self.env.mix,
              f"'iteration' with algo {self.algo} (mix: rollout is built for PPO)")  # fmt: skip

    @property
    def steps_per_iteration(self) -> int:
        """Env steps per rollout: E envs times one whole episode (``days * 24`` hours)."""
        return self.env.num_envs * self.env.days * 24

    @property
    def iterations(self) -> int:
        """Rollout/update iterations to reach ``total_steps`` (at least one)."""
        return max(1, -(-self.total_steps // self.steps_per_iteration))


def parse_sets(items: list[str] | None) -> dict[str, Any]:
    """``["a.b=1", "c=x"]`` -> ``{"a.b": 1, "c": "x"}`` (values parsed as YAML scalars).

    Raises:
        ConfigError: an item without ``=``.
    """
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected key=value, e.g. --set mappo.lr=0.001")
        out[key.strip()] = yaml.safe_load(value)
    return out


def load_config(
    path: str | Path | None = None, overrides: dict[str, Any] | None = None
) -> TrainConfig:
    """Read a training YAML (or the defaults when ``path`` is None) and apply overrides.

    Raises:
        ConfigError: unknown key (lists the valid ones), bad type or value.
        FileNotFoundError: ``path`` does not exist.
    """
    data: dict[str, Any] = {}
    if path is not None:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a YAML mapping at the top level")
    return build(TrainConfig, apply_overrides(data, overrides))


def config_dict(cfg: TrainConfig) -> dict[str, Any]:
    """The resolved config as plain Python (YAML-safe, ``torch.load(weights_only=True)``-safe)."""
    return to_dict(cfg)


def replace(cfg: TrainConfig, **changes: Any) -> TrainConfig:
    """A copy of ``cfg`` with top-level fields changed (validated again)."""
    return dataclasses.replace(cfg, **changes)


def save_config(cfg: TrainConfig, path: str | Path) -> None:
    """Write the resolved config as YAML, atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.safe_dump(config_dict(cfg), fh, sort_keys=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
