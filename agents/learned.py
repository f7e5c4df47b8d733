"""Trained policies: PPO (stable-baselines3, coalition only) and MAPPO (coalition and members).

``agents.load("ppo")`` and ``agents.load("mappo")`` read the checkpoints shipped in
``agents/checkpoints/{ppo,mappo}.pt`` (trained by ``python -m training.train``, see the
README); ``checkpoint=PATH`` loads another export or a run's ``checkpoint.pt``.
``deterministic=True`` (default) acts with the Gaussian's mean, ``False`` samples it
from a Generator seeded at ``reset``.

What a policy reads, per hour: its agents' observations only (normalised with the
running statistics saved at training time), plus static constants at reset (peak
loads, the coalition's quantity scale, the action layout), like ``agents.simple.RulePolicy``.
Policies trained with ``residual: true`` add their output to the rule's action
(residual policy learning, Silver et al. 2018): members' base is the self-consumption
rule on their own observed net-load forecast and state of charge; the coalition's
base is a price-taking bid of the members' forecast net position after the members'
*actual* set-points this hour (members' observations plus the actions this policy
chose for them) and, for policies trained with ``reserve_base: headroom``, an offer of
the reserve those set-points leave deliverable (:func:`reserve_headroom`) at 0 EUR/MW.
Policies trained with ``forecast_features`` append :func:`forecast_features` to those
groups' observations (and :func:`margin_features`, from static fleet sizes, when trained
with ``margin_features``). Learned member set-points are first made feasible the way the env
projects them (:func:`feasible_set_points`: battery power and energy limits, flex-debt
limits and the daily payback hour), from each member's observed state of charge and
flex debt and its static sizes, so that the coalition bids what the members will
really draw (unprojected set-points left the bid up to 50% of member-hours off and cost
imbalance charges). Agents without an actor (members under PPO) follow the rule.

Layouts: the actors need the observation sizes they were trained with (same forecast
horizon); the member count is free (parameter sharing). The coalition's action is
mapped by name (``q, p`` spot, ``r, rp`` reserve, ``c, cp`` capacity, ``b, f`` when it
drives members): entries of closed markets are dropped, and entries the policy was
not trained for are taken from the rule (no offer, no set-point).

The module defines the actor network; ``training`` imports it from here (``agents``
never imports ``training``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from agents.base import MarketPolicy
from agents.checkpoint_file import read_checkpoint
from agents.forecast import reserve_shares, residual_load_forecast, system_forecasts
from agents.policy_spec import check_policy, load_actor_state
from agents.simple import RulePolicy
from envs.actors.coalition import reserve_entry, spot_entries
from envs.actors.coalition import slots as coalition_slots
from envs.actors.members import battery_bounds, flex_bounds, reserve_headroom
from envs.adapters.parallel import COALITION_ID
from envs.sim import observe as ob

__all__ = [
    "GaussianActor",
    "LearnedIncumbents",
    "LearnedPolicy",
    "MAPPOFromMPC",
    "MAPPOPolicy",
    "PPOPolicy",
    "coalition_slots",
    "feasible_set_points",
    "margin_features",
    "margin_statics",
    "reserve_headroom",
    "with_forecast_features",
]

#: Entries :func:`forecast_features` appends to an observation.
N_FORECAST_FEATURES = 5
#: Entries :func:`margin_features` appends after them (policies trained with it).
N_MARGIN_FEATURES = 3


def n_appended(margin: bool) -> int:
    """Entries :func:`with_forecast_features` appends: 5, and 3 more with the margin."""
    return N_FORECAST_FEATURES + (N_MARGIN_FEATURES if margin else 0)


def feasible_set_points(
    actions: np.ndarray,
    soc_mwh: np.ndarray,
    debt_mwh: np.ndarray,
    last_hour: bool,
    members: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Members' set-points projected as the env projects them (``envs.sim.kernel``'s step).

    Args:
        actions: (..., N, 2) normalised ``[b, f]`` in [-1, 1].
        soc_mwh: (..., N) stored energy, MWh; debt_mwh: (..., N) flexible-load debt, MWh.
        last_hour: the day's last hour (the flex debt is paid back, whatever ``f`` says).
        members: static sizes with ``battery_mw``, ``battery_mwh``, ``eta``, ``flex_mw``,
            ``flex_mwh`` arrays of shape (N,) (``env.core.members``).

    Returns:
        (battery MW (..., N) + charge, flexible load MW (..., N) + consume more,
        actions (..., N, 2) that the env will not project).
    """
    b_mw, f_mw = members.battery_mw, members.flex_mw
    charge, discharge = battery_bounds(soc_mwh, members)
    batt = np.clip(actions[..., 0] * b_mw, -discharge, charge)
    if last_hour:
        flex = np.broadcast_to(debt_mwh, batt.shape).astype(np.float64)
    else:
        flex = np.clip(actions[..., 1] * f_mw, *flex_bounds(debt_mwh, members))
    a_b = np.divide(batt, b_mw, out=np.zeros_like(batt), where=b_mw > 0)
    a_f = np.divide(flex, f_mw, out=np.zeros_like(flex), where=f_mw > 0)
    out = np.clip(np.stack([a_b, a_f], axis=-1), -1.0, 1.0)
    return batt, flex, out


def forecast_features(obs: np.ndarray, horizon_h: int) -> np.ndarray:
    """Where this hour stands in the published residual-load forecast, (..., 5).

    The spot price follows residual load (system load minus system renewables) up the
    merit order, so a battery earns by charging in the hours of lowest residual load and
    discharging in the highest (the MPC's price forecast is a regression on it,
    ``agents.forecast``). From the common features of any observation (..., D), with
    r = residual load / background peak over the next H hours and r0 = this hour's:
    r0 - mean(r), r0 - min(r), max(r) - r0, the share of the next H hours with a lower
    residual load than r0, and that share over the next 12 hours. A small network reads
    these directly instead of learning a sort of 2H inputs.
    """
    h = horizon_h
    r = residual_load_forecast(obs, ob.index(h)["members"], h)
    r0 = r[..., :1]
    feats = [r0 - r.mean(-1, keepdims=True), r0 - r.min(-1, keepdims=True),
             r.max(-1, keepdims=True) - r0, (r < r0).mean(-1, keepdims=True),
             (r[..., : min(12, h)] < r0).mean(-1, keepdims=True)]  # fmt: skip
    return np.concatenate(feats, axis=-1).astype(obs.dtype)


def margin_statics(core: Any) -> np.ndarray:
    """(3,) static constants that turn the published forecasts into the fleet's margin, in
    the observations' units (/ system scale, ``core.scales.system_mw``): the fleet's
    installed capacity, 1 + the reserve requirement's share of load and 1 - its share of
    renewables (both shares 0 where the reserve market is closed)."""
    s_load, s_ren = reserve_shares(core)
    fleet = float(np.sum(core.fleet.capacity_mw)) / core.scales.system_mw
    return np.array([fleet, 1.0 + s_load, 1.0 - s_ren])


def margin_features(obs: np.ndarray, horizon_h: int, statics: np.ndarray) -> np.ndarray:
    """The fleet's forecast margin, (..., 3): this hour's and its minimum over the next 12
    and the next H hours.

    margin = fleet capacity - (system load - system renewables) - reserve requirement,
    / system scale, from the published forecasts of the common features and
    :func:`margin_statics` (``statics`` (3,) or broadcastable to (..., 1, 3)). Energy and
    the reserve requirement share the fleet's capacity (DESIGN §3, step 3, co-optimised
    clearing), so where the margin nears zero the spot price climbs to the cap (the MPC's
    merit order, ``agents.forecast.MeritOrder``, prices the same demand).
    The rank features of :func:`forecast_features` say *when* the peak comes; these say
    how scarce it is, which the scaled forecasts alone do not tell across scenarios (the
    fleet's size over the system scale differs).
    """
    load, ren = system_forecasts(obs, ob.index(horizon_h)["members"], horizon_h)
    st = np.asarray(statics, np.float64)
    margin = st[..., 0:1] - st[..., 1:2] * load + st[..., 2:3] * ren
    feats = [margin[..., :1], margin[..., : min(12, horizon_h)].min(-1, keepdims=True),
             margin.min(-1, keepdims=True)]  # fmt: skip
    return np.concatenate(feats, axis=-1).astype(obs.dtype)


def with_forecast_features(
    obs: np.ndarray, horizon_h: int, statics: np.ndarray | None = None
) -> np.ndarray:
    """``obs`` (..., D) with :func:`forecast_features` appended, (..., D + 5), and
    :func:`margin_features` after them where ``statics`` is given, (..., D + 8)."""
    parts = [obs, forecast_features(obs, horizon_h)]
    if statics is not None:
        parts.append(margin_features(obs, horizon_h, statics))
    return np.concatenate(parts, axis=-1)


def orthogonal_layer(n_in: int, n_out: int, gain: float) -> nn.Linear:
    layer = nn.Linear(n_in, n_out)
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


class GaussianActor(nn.Module):
    """Two tanh layers and a mean head; a state-independent log-std.

    The head starts near zero (gain 0.01), so a residual policy starts at the rule.

    Args:
        obs_dim: D, observation features; act_dim: A, action entries.
        hidden: units per hidden layer; log_std_init: initial log standard deviation.
        mean_bound: 0 = a linear mean head; > 0 = mean ``mean_bound * tanh(head)`` (so the
            mean stays inside an action range of +/- mean_bound).
    """

    def __init__(self, obs_dim: int, act_dim: int, hidden: int = 64, log_std_init: float = -1.0,
                 mean_bound: float = 0.0):  # fmt: skip
        super().__init__()
        self.net = nn.Sequential(
            orthogonal_layer(obs_dim, hidden, np.sqrt(2)), nn.Tanh(),
            orthogonal_layer(hidden, hidden, np.sqrt(2)), nn.Tanh(),
            orthogonal_layer(hidden, act_dim, 0.01),
        )  # fmt: skip
        self.log_std = nn.Parameter(torch.full((act_dim,), float(log_std_init)))
        self.mean_bound = float(mean_bound)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Mean action, (..., A), from normalised observations (..., D)."""
        head = self.net(obs)
        return head if self.mean_bound <= 0 else self.mean_bound * torch.tanh(head)

    def dist(self, obs: torch.Tensor) -> torch.distributions.Normal:
        """The Gaussian over raw actions (before the residual sum and clipping)."""
        return self._normal(self(obs))

    def dist_split(self, common: torch.Tensor, own: torch.Tensor) -> torch.distributions.Normal:
        """:meth:`dist` of observations whose first C features every agent shares.

        The first layer is linear, so ``W [c, o_i] + b = W_c c + (W_o o_i + b)``: the shared
        part runs once per sample instead of once per agent (a member's observation is 58
        market features that all 20 members share and 35 of its own). Same parameters,
        same function as ``dist(cat(c, o_i))`` up to float rounding.

        Args:
            common: (..., C) the shared features (C may be 0).
            own: (..., n, D - C) each agent's remaining features.
        """
        first = cast(nn.Linear, self.net[0])
        c = common.shape[-1]
        h = F.linear(own, first.weight[:, c:], first.bias)
        if c:
            h = h + F.linear(common, first.weight[:, :c]).unsqueeze(-2)
        head = self.net[1:](h)
        return self._normal(head if self.mean_bound <= 0 else self.mean_bound * torch.tanh(head))

    def _normal(self, mean: torch.Tensor) -> torch.distributions.Normal:
        return torch.distributions.Normal(mean, self.log_std.exp().expand_as(mean))


def _default_checkpoint(name: str) -> Path:
    return Path(str(resources.files("agents") / "checkpoints" / f"{name}.pt"))


def load_export(path: str | Path, algorithm: str | None = None) -> dict[str, Any]:
    """The policy part of a shipped export or of a run's training checkpoint.

    Args:
        algorithm: refuse a checkpoint of another algorithm (``"ppo"``, ``"mappo"``).

    Raises:
        FileNotFoundError: no file (names the path and how to make one).
        CheckpointError: the file is empty, truncated, corrupted, not a checkpoint, or of
            another algorithm, or its policy is not the layout :mod:`agents.policy_spec`
            states (a missing entry, an actor of the wrong architecture); a
            ``ValueError`` naming the file and the fault.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.pt"
    if not path.is_file():
        raise FileNotFoundError(
            f"no policy checkpoint at {path}; train one with `python -m training.train "
            "--config configs/training/<algo>.yaml` and pass checkpoint=<run>/checkpoint.pt"
        )
    payload = read_checkpoint(path, algorithm)
    policy = payload.get("policy") if isinstance(payload, dict) else None
    check_policy(policy, path)  # raises unless policy is a dict of the documented layout
    return cast(dict[str, Any], policy)


class LearnedPolicy(MarketPolicy):
    """A policy exported by ``training`` (see the module docstring).

    Args:
        checkpoint: path of an export or training checkpoint; ``None`` = the shipped one.
        deterministic: act with the mean (True) or sample (False).
        controls: agent ids (default: the coalition and every member agent).
    """

    name = ""
    #: The training algorithm of the checkpoint, where it is not the policy's name.
    algorithm = ""

    def __init__(
        self,
        checkpoint: str | Path | None = None,
        deterministic: bool = True,
        controls: list[str] | None = None,
    ) -> None:
        super().__init__(controls)
        self.path = Path(checkpoint) if checkpoint is not None else _default_checkpoint(self.name)
        spec = load_export(self.path, self.algorithm or self.name or None)
        self.spec = spec
        self.residual = bool(spec["residual"])
        self.deterministic = bool(deterministic)
        self.actors: dict[str, GaussianActor] = {}
        self.obs_stats: dict[str, tuple[torch.Tensor, torch.Tensor] | None] = {}
        self.masks: dict[str, np.ndarray | None] = {}
        for group, entry in spec["actors"].items():
            actor = GaussianActor(int(entry["obs_dim"]), int(entry["act_dim"]),
                                  int(entry["hidden"]),
                                  mean_bound=float(entry.get("mean_bound", 0.0)))  # fmt: skip
            load_actor_state(actor, group, entry, self.path)
            actor.eval()
            self.actors[group] = actor
            mask = entry.get("mask")
            self.masks[group] = None if mask is None else mask.numpy().astype(np.float64)
            mean, var = entry.get("obs_mean"), entry.get("obs_var")
            self.obs_stats[group] = None if mean is None else (
                mean.float(), torch.sqrt(var.float() + 1e-8)
            )  # fmt: skip
        self.trained_slots = list(spec["coalition_slots"])
        # Groups whose actor reads forecast_features appended to its observation.
        self.featured = set(spec.get("forecast_features", ()))
        # Trained with margin_features: those groups also read the fleet's forecast margin.
        self.margin = bool(spec.get("margin_features", False))
        self.statics: np.ndarray | None = None
        # "headroom": the coalition's reserve base offers the members' headroom at 0 EUR/MW.
        self.reserve_base = str(spec.get("reserve_base", "none"))
        self.rule = RulePolicy()
        self.gen = torch.Generator().manual_seed(0)

    def reset(self, env: Any, seed: int | None = None) -> None:
        """Bind to ``env``: check observation sizes, map the coalition's action layout."""
        super().reset(env, seed)
        self.rule.reset(env, seed)
        core = self.env.core
        lay = core.layout
        self.env_slots = coalition_slots(lay.reserve, lay.capacity, lay.drives_members)
        for group, actor in self.actors.items():
            if group not in self.env.agent_groups:
                continue
            size = self.env.observation_space(self.env.agent_groups[group][0]).shape[0]
            expected = cast(nn.Linear, actor.net[0]).in_features
            if group in self.featured:
                expected -= n_appended(self.margin)
            if size != expected:
                raise ValueError(
                    f"{type(self).__name__} ({self.path.name}): the {group} actor was trained "
                    f"on {expected} observation features, this env gives {size} (forecast "
                    f"horizon {core.dims.H} h); train a policy for this observation layout"
                )
        self.statics = margin_statics(core) if self.margin else None
        self.member_ids = self.env.agent_groups.get("members", [])
        self.at_m = ob.index(core.dims.H)["members"]
        self.peak = core.members.peak_load_mw
        self.sizes = core.members  # static sizes: battery, efficiency, flexible load
        self.q_max = core.coalition.q_max_mw
        if seed is not None:
            self.gen = torch.Generator().manual_seed(int(seed))

    def _actor_action(self, group: str, obs: np.ndarray) -> np.ndarray:
        """Raw actor output for stacked observations (n, D) -> (n, A)."""
        if group in self.featured:
            obs = with_forecast_features(obs, self.env.core.dims.H, self.statics)
        x = torch.as_tensor(obs, dtype=torch.float32)
        stats = self.obs_stats[group]
        if stats is not None:
            x = ((x - stats[0]) / stats[1]).clamp(-10.0, 10.0)
        actor = self.actors[group]
        with torch.no_grad():
            mean = actor(x)
            if not self.deterministic:
                mean = mean + actor.log_std.exp() * torch.randn(mean.shape, generator=self.gen)
        mask = self.masks[group]  # entries trained as fixed (the actor never moved them)
        return mean.numpy() if mask is None else mean.numpy() * mask

    def _combine(self, base: np.ndarray, raw: np.ndarray) -> np.ndarray:
        return np.clip(base + raw if self.residual else raw, -1.0, 1.0).astype(np.float32)

    def act(self, observations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Members first (actor or rule), then the coalition's bid on their set-points."""
        rule = self.rule.act(observations)
        present = [a for a in self.member_ids if a in observations]
        members: dict[str, np.ndarray] = {a: rule[a] for a in present}
        net_mw = head_mw = None
        if present and len(present) == len(self.member_ids):
            obs = np.stack([observations[a] for a in present]).astype(np.float64)
            acts = np.stack([rule[a] for a in present]).astype(np.float64)
            if "members" in self.actors:
                acts = self._combine(acts, self._actor_action("members", obs))
            at, m = self.at_m, self.sizes
            last_hour = ob.hour_of_day(obs[0]) == 23
            batt, flex, acts = feasible_set_points(
                acts, obs[:, at["soc"]] * m.battery_mwh, obs[:, at["flex_debt"]] * m.flex_mwh,
                last_hour, m,
            )  # fmt: skip
            members = dict(zip(present, acts.astype(np.float32), strict=True))
            net_mw = float(np.sum(obs[:, at["net_fc"]] * self.peak + batt + flex))
            if self.reserve_base == "headroom":
                head_mw = float(reserve_headroom(batt, obs[:, at["soc"]] * m.battery_mwh, m))
        out = {a: members[a] for a in present if a in self.controls}
        if COALITION_ID in self.controls and COALITION_ID in observations:
            out[COALITION_ID] = self._coalition(observations, net_mw, rule[COALITION_ID], head_mw)
        return out

    def _coalition(
        self, observations: dict[str, np.ndarray], net_mw: float | None, rule_action: np.ndarray,
        head_mw: float | None = None,
    ) -> np.ndarray:  # fmt: skip
        """The coalition's action: the rule's bid on the members' feasible net position
        ``net_mw`` (MW; ``None`` = the rule's own), with ``reserve_base: headroom`` an
        offer of the members' reserve headroom ``head_mw`` (MW) at 0 EUR/MW, plus the
        actor's correction."""
        base_env = rule_action.astype(np.float64)
        if net_mw is not None:
            base_env[0], base_env[1] = spot_entries(np.float64(net_mw), self.q_max)
        if "coalition" not in self.actors:
            return base_env.astype(np.float32)
        if head_mw is not None and "r" in self.env_slots:
            base_env[self.env_slots.index("r")] = reserve_entry(head_mw, self.sizes.battery_mw)
        by_name = dict(zip(self.env_slots, base_env, strict=True))
        base = np.array([by_name.get(s, -1.0 if s in "r rp c cp".split() else 0.0)
                         for s in self.trained_slots])  # fmt: skip
        raw = self._actor_action("coalition", observations[COALITION_ID][None])[0]
        act = dict(zip(self.trained_slots, self._combine(base, raw), strict=True))
        return np.array([act.get(s, by_name[s]) for s in self.env_slots], dtype=np.float32)


class PPOPolicy(LearnedPolicy):
    """The shipped stable-baselines3 PPO coalition (members follow the rule, as in training)."""

    name = "ppo"


class MAPPOPolicy(LearnedPolicy):
    """The shipped MAPPO policy: a coalition actor and one shared member actor."""

    name = "mappo"


class MAPPOFromMPC(MAPPOPolicy):
    """MAPPO whose members' actor started from a behaviour clone of the MPC's set-points
    (``configs/training/mappo_mpc_start.yaml``: ``mappo.yaml`` with ``imitate: mpc``),
    shipped beside the from-scratch ``mappo`` so that the leaderboard reports both."""

    name = "mappo_mpc_start"
    algorithm = "mappo"


class LearnedIncumbents(LearnedPolicy):
    """Incumbents that learned to bid against the coalition (``mappo_incumbents``: MAPPO in
    ``strategic_incumbents`` with every group learning, configs/training/mappo_incumbents.yaml).

    Controls the incumbents only; pair it with a coalition policy as a team
    (``agents.load("mpc+mappo_incumbents")``). Residual, as trained: each incumbent's
    actor corrects the scenario's scripted bid (:class:`agents.incumbents.IncumbentStrategy`
    of the scenario's strategy, which bids as the simulator's scripted incumbents do).
    """

    name = "mappo_incumbents"
    algorithm = "mappo"
    groups = ("incumbents",)

    def reset(self, env: Any, seed: int | None = None) -> None:
        """Bind to ``env``; the incumbents must be agents (``fleet.controlled: true``)."""
        from agents.incumbents import IncumbentStrategy

        super().reset(env, seed)
        if "incumbents" not in self.env.agent_groups or "incumbents" not in self.actors:
            raise ValueError(
                f"{type(self).__name__} needs incumbents as agents (fleet.controlled: true) "
                "and a checkpoint with an incumbents actor"
            )
        self.base = IncumbentStrategy(self.env.core.cfg.fleet.strategy, controls=self.controls)
        self.base.reset(env, seed)

    def act(self, observations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Scripted bids plus the learned correction, for the incumbents present."""
        ids = [a for a in self.controls if a in observations]
        if not ids:
            return {}
        base = self.base.act(observations)
        obs = np.stack([observations[a] for a in ids]).astype(np.float64)
        acts = np.stack([base[a] for a in ids]).astype(np.float64)
        acts = self._combine(acts, self._actor_action("incumbents", obs))
        return dict(zip(ids, acts, strict=True))
