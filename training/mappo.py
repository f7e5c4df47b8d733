"""MAPPO and IPPO: networks and the clipped-surrogate update (Yu et al. 2022).

Dims: T hours of a rollout, E envs, n agents of a group, D observation features,
S global-state features, A action entries.

- One :class:`agents.learned.GaussianActor` per agent group (coalition, members,
  incumbents) with parameters shared inside the group, so the member count is free.
- Critics: ``mappo`` has one centralised critic per group on ``state()`` (E, S) with
  one output per agent of the group (members' rewards are their own savings, so each
  needs its own value), or with ``critic_obs`` one shared :class:`AgentCritic` per
  group on the state and each agent's own features; ``ippo`` has a per-agent critic on
  the agent's own observation (shared parameters inside the group).
- Update: GAE (:mod:`training.gae`), advantages normalised per group, clipped
  surrogate, clipped value loss on normalised targets (value normalisation, MAPPO's
  ValueNorm), entropy bonus, one Adam over every group, global gradient-norm clip,
  minibatches over (env, hour) samples with all agents of a sample together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from agents.learned import (
    GaussianActor,
    n_appended,
    orthogonal_layer,
    with_forecast_features,
)
from envs.sim.observe import common_size
from training.config import MappoConfig
from training.gae import compute_gae
from training.normalize import RunningMeanStd

__all__ = ["GroupBatch", "MappoLearner", "signature"]


class Critic(nn.Module):
    """Two tanh layers and a linear head of ``n_out`` values (normalised units)."""

    def __init__(self, n_in: int, n_out: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(
            orthogonal_layer(n_in, hidden, np.sqrt(2)), nn.Tanh(),
            orthogonal_layer(hidden, hidden, np.sqrt(2)), nn.Tanh(),
            orthogonal_layer(hidden, n_out, 1.0),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Values, (..., n_out)."""
        return self.net(x)


class AgentCritic(nn.Module):
    """A critic on the global state and one agent's own features, shared by a group.

    The state goes through two layers once per sample; each agent adds its own
    features to the second layer's pre-activation (``W_2 tanh(W_1 s) + W_o o_i``) and a
    linear head reads the tanh of the sum. Only that sum, its tanh and the head run
    once per agent, which keeps a 20-member group's critic cheaper than its actor.

    Args:
        state_dim: S; own_dim: d, the agent-specific features; hidden: units per layer.
    """

    def __init__(self, state_dim: int, own_dim: int, hidden: int):
        super().__init__()
        self.trunk = nn.Sequential(
            orthogonal_layer(state_dim, hidden, np.sqrt(2)),
            nn.Tanh(),
            orthogonal_layer(hidden, hidden, np.sqrt(2)),
        )
        self.own_in = nn.Linear(own_dim, hidden, bias=False)
        nn.init.orthogonal_(self.own_in.weight, np.sqrt(2))
        self.head = orthogonal_layer(hidden, 1, 1.0)

    def forward(self, state: torch.Tensor, own: torch.Tensor) -> torch.Tensor:
        """Values (..., n) from the state (..., S) and the agents' features (..., n, d)."""
        return self.head(torch.tanh(self.trunk(state).unsqueeze(-2) + self.own_in(own)))[..., 0]


@dataclass
class GroupBatch:
    """One group's rollout, time-major, normalised observations in two parts: common
    (T, E, C) the features every agent of the group shares (C = 0 for a group of one) and
    own (T, E, n, D - C); raw actions (T, E, n, A), logp (T, E, n), values (T, E, n) in
    return units (scaled EUR), rewards (T, E, n) scaled, dones (T, E, n)."""

    common: torch.Tensor
    own: torch.Tensor
    actions: torch.Tensor
    logp: torch.Tensor
    values: torch.Tensor
    rewards: torch.Tensor
    dones: torch.Tensor

    @classmethod
    def empty(cls, T: int, E: int, n: int, c: int, d: int, a: int,
              device: torch.device) -> GroupBatch:  # fmt: skip
        """A zeroed buffer that a rollout writes hour by hour (no per-hour lists to stack)."""

        def z(*shape: int) -> torch.Tensor:
            return torch.zeros(shape, dtype=torch.float32, device=device)

        return cls(z(T, E, c), z(T, E, n, d - c), z(T, E, n, a), z(T, E, n), z(T, E, n),
                   z(T, E, n), z(T, E, n))  # fmt: skip


def signature(
    algo: str, env_id: str, groups: dict[str, tuple[int, int, int]], state_dim: int,
    cfg: MappoConfig,
) -> dict[str, Any]:  # fmt: skip
    """What the networks were built for: ``groups`` maps name -> (n agents, D, A)."""
    sig: dict[str, Any] = {
        "algo": algo, "env_id": env_id, "state_dim": int(state_dim), "hidden": cfg.hidden,
        "residual": cfg.residual, "groups": sorted(groups),
        "fixed_coalition_entries": sorted(cfg.fixed_coalition_entries),
        "forecast_features": sorted(cfg.forecast_features), "critic_obs": cfg.critic_obs,
        "reserve_base": cfg.reserve_base,
    }  # fmt: skip
    if cfg.margin_features:  # absent otherwise: runs from before the option still resume
        sig["margin_features"] = True
    for g, (n, d, a) in groups.items():
        sig[f"{g}.obs_dim"], sig[f"{g}.act_dim"] = int(d), int(a)
        if algo == "mappo":  # the centralised critic has one output per agent
            sig[f"{g}.agents"] = int(n)
    return sig


class MappoLearner:
    """Actors, critics, normalisers and the optimiser of one MAPPO/IPPO run.

    Args:
        cfg: hyper-parameters.
        groups: learning group -> (n agents, D, A); D counts the observation's features
            (the actor input adds :func:`agents.learned.n_appended` for
            ``cfg.forecast_features``).
        state_dim: S.
        central: centralised critics on the state (MAPPO) or local ones (IPPO).
        masks: group -> (A,) 1.0 for entries the actor moves, 0.0 for fixed ones (their
            raw action is zeroed and left out of log-probabilities and entropy).
        horizon_h: H, forecast hours in the observations.
        device: where the networks and the update run (the simulator stays on the CPU).
    """

    def __init__(
        self, cfg: MappoConfig, groups: dict[str, tuple[int, int, int]], state_dim: int,
        central: bool, masks: dict[str, torch.Tensor] | None = None, horizon_h: int = 24,
        device: str | torch.device = "cpu",
    ) -> None:  # fmt: skip
        self.horizon = horizon_h
        self.device = torch.device(device)
        extra = n_appended(cfg.margin_features)
        groups = {g: (n, d + (extra if g in cfg.forecast_features else 0), a)
                  for g, (n, d, a) in groups.items()}  # fmt: skip
        #: :func:`agents.learned.margin_statics` of the env being played (set per rollout).
        self.statics: np.ndarray | None = None
        self.cfg, self.groups, self.central = cfg, dict(groups), central
        self.agent_critic = central and cfg.critic_obs
        self.masks = {g: torch.ones(a) for g, (n, d, a) in groups.items()}
        self.masks.update(masks or {})
        h = cfg.hidden
        self.actors = nn.ModuleDict({g: GaussianActor(d, a, h, cfg.log_std_init)
                                     for g, (n, d, a) in groups.items()})  # fmt: skip
        # With critic_obs the agent's own features are its input minus the common
        # features (envs.sim.observe), which the state already holds.
        self.own_from = common_size(horizon_h)
        #: group -> C, the leading features its agents share (observe's common block; a
        #: group of one keeps them in ``own``: nothing to share).
        self.shared = {g: self.own_from if n > 1 else 0 for g, (n, d, a) in groups.items()}
        self._checked: set[str] = set()

        def critic(n: int, d: int) -> nn.Module:
            if self.agent_critic:
                return AgentCritic(state_dim, d - self.own_from, h)
            return Critic(state_dim, n, h) if central else Critic(d, 1, h)

        self.critics = nn.ModuleDict({g: critic(n, d) for g, (n, d, a) in groups.items()})
        if cfg.coalition_log_std_init and "coalition" in groups:
            a = groups["coalition"][2]
            if len(cfg.coalition_log_std_init) != a:
                raise ValueError(
                    f"mappo.coalition_log_std_init has {len(cfg.coalition_log_std_init)} entries; "
                    f"the coalition has {a} action entries in this env"
                )
            with torch.no_grad():
                actor = cast(GaussianActor, self.actors["coalition"])
                actor.log_std.copy_(torch.tensor(cfg.coalition_log_std_init))
        self.actors.to(self.device)
        self.critics.to(self.device)
        self.masks = {g: m.to(self.device) for g, m in self.masks.items()}
        params = list(self.actors.parameters()) + list(self.critics.parameters())
        self.optimizer = torch.optim.Adam(params, lr=cfg.lr, eps=1e-5)
        self.obs_rms = {g: RunningMeanStd((d,)) for g, (n, d, a) in groups.items()}
        self.state_rms = RunningMeanStd((state_dim,))
        self.value_rms = {g: RunningMeanStd(()) for g in groups}

    # ------------------------------------------------------------ acting
    def prepare(self, group: str, obs: np.ndarray, update: bool) -> tuple[np.ndarray, np.ndarray]:
        """Observations (E, n, D) -> the actor's normalised float32 input in two parts,
        common (E, C) and own (E, n, D' - C) (:class:`GroupBatch`), with the forecast
        features appended to own for ``cfg.forecast_features`` (updating the statistics
        if asked). The shared block and the forecast features read only market
        features, so they are computed once per env, not once per agent."""
        c = self.shared[group]
        if c and group not in self._checked:  # once a run: the split's premise
            if not np.array_equal(
                obs[:, :, :c], np.broadcast_to(obs[:, :1, :c], obs[:, :, :c].shape)
            ):
                raise ValueError(f"{group}: the first {c} observation features differ between "
                                 "agents; the shared first layer needs them equal")  # fmt: skip
            self._checked.add(group)
        common, own = obs[:, 0, :c], obs[:, :, c:]
        if group in self.cfg.forecast_features:
            statics = self.statics if self.cfg.margin_features else None
            if self.cfg.margin_features and statics is None:
                raise ValueError("mappo.margin_features: set learner.statics for the env first")
            feats = with_forecast_features(obs[:, :1], self.horizon, statics)[..., obs.shape[-1] :]
            own = np.concatenate([own, np.broadcast_to(feats, (*own.shape[:2], feats.shape[-1]))],
                                 axis=-1)  # fmt: skip
        if not self.cfg.obs_norm:
            return common.astype(np.float32), own.astype(np.float32)
        if update:
            self.obs_rms[group].update_split(common, own)
        return self.obs_rms[group].normalize_split(common, own)

    def normalize_obs(self, group: str, obs: np.ndarray, update: bool) -> np.ndarray:
        """Observations (E, n, D) -> the actor's whole normalised float32 input (E, n, D')
        (:meth:`prepare`'s parts joined)."""
        common, own = self.prepare(group, obs, update)
        common = np.broadcast_to(common[:, None], (*own.shape[:2], common.shape[-1]))
        return np.concatenate([common, own], axis=-1)

    def normalize_state(self, state: np.ndarray, update: bool) -> np.ndarray:
        """Global state (E, S) -> normalised float32."""
        if not self.cfg.obs_norm:
            return state.astype(np.float32)
        if update:
            self.state_rms.update(state)
        return self.state_rms.normalize(state)

    @torch.inference_mode()
    def act(
        self, obs: dict[str, tuple[torch.Tensor, torch.Tensor]], state: torch.Tensor
    ) -> dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Sample each group's raw actions from its (common, own) input (:meth:`prepare`):
        group -> (actions (E, n, A), logp (E, n), values (E, n) in return units)."""
        out = {}
        for g in self.groups:
            common, own = obs[g]
            dist = cast(GaussianActor, self.actors[g]).dist_split(common, own)
            a = dist.sample() * self.masks[g]
            logp = (dist.log_prob(a) * self.masks[g]).sum(-1)
            out[g] = (a, logp, self._values(g, common, own, state, denorm=True))
        return out

    def _values(
        self, g: str, common: torch.Tensor, own: torch.Tensor, state: torch.Tensor, denorm: bool
    ) -> torch.Tensor:
        """Values (..., n): from the state (MAPPO), the state and each agent's own
        features (MAPPO with ``critic_obs``) or each agent's input (IPPO)."""
        if self.agent_critic:  # own holds the features past the common block
            v = self.critics[g](state, own[..., self.own_from - common.shape[-1] :])
        elif self.central:
            v = self.critics[g](state)
        else:
            full = torch.cat([common.unsqueeze(-2).expand(*own.shape[:-1], -1), own], -1)
            v = self.critics[g](full)[..., 0]
        if denorm and self.cfg.value_norm:
            v = self.value_rms[g].denormalize_t(v)
        return v

    # ------------------------------------------------------------ update
    def update(self, batches: dict[str, GroupBatch], states: torch.Tensor) -> dict[str, float]:
        """PPO epochs over one rollout; returns ``losses/<name>/<group>`` means.

        Args:
            batches: group -> its rollout; states: (T, E, S) normalised global states.
        """
        cfg = self.cfg
        T, E = states.shape[:2]
        adv, ret, old_v = {}, {}, {}
        for g, b in batches.items():
            last = torch.zeros_like(b.values[0])  # rollouts are whole episodes: nothing follows
            a, r = compute_gae(b.rewards, b.values, b.dones, last, cfg.gamma, cfg.gae_lambda)
            adv[g] = ((a - a.mean()) / (a.std() + 1e-8)).reshape(T * E, -1)
            if cfg.value_norm:
                self.value_rms[g].update(r.cpu().numpy())
                ret[g] = self.value_rms[g].normalize_t(r).reshape(T * E, -1)
                old_v[g] = self.value_rms[g].normalize_t(b.values).reshape(T * E, -1)
            else:
                ret[g], old_v[g] = r.reshape(T * E, -1), b.values.reshape(T * E, -1)
        flat = {g: (b.common.reshape(T * E, -1), b.own.reshape(T * E, *b.own.shape[2:]),
                    b.actions.reshape(T * E, *b.actions.shape[2:]),
                    b.logp.reshape(T * E, -1)) for g, b in batches.items()}  # fmt: skip
        s_flat = states.reshape(T * E, -1)
        stats: dict[str, list[float]] = {}
        params = list(self.actors.parameters()) + list(self.critics.parameters())
        size = T * E
        mb = max(1, size // cfg.minibatches)
        for _ in range(cfg.epochs):
            perm = torch.randperm(size).to(self.device)
            for start in range(0, size, mb):
                idx = perm[start : start + mb]
                loss = torch.zeros((), device=self.device)
                for g in batches:
                    common, own, act, logp_old = (x[idx] for x in flat[g])
                    terms = self._loss(g, common, own, act, logp_old, adv[g][idx], ret[g][idx],
                                       old_v[g][idx], s_flat[idx])  # fmt: skip
                    loss = loss + terms.pop("loss")
                    for k, v in terms.items():
                        stats.setdefault(f"losses/{k}/{g}", []).append(v)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
                self.optimizer.step()
        out = {k: float(np.mean(v)) for k, v in stats.items()}
        for g in batches:
            y, pred = ret[g].flatten(), old_v[g].flatten()
            var_y = float(y.var())
            out[f"losses/explained_variance/{g}"] = (
                float("nan") if var_y == 0 else 1.0 - float((y - pred).var()) / var_y
            )
        return out

    def _loss(
        self, g: str, common: torch.Tensor, own: torch.Tensor, act: torch.Tensor,
        logp_old: torch.Tensor, adv: torch.Tensor, ret: torch.Tensor, old_v: torch.Tensor,
        state: torch.Tensor,
    ) -> dict[str, Any]:  # fmt: skip
        """Loss of one group on a minibatch (common (B, C), own (B, n, D - C), act
        (B, n, A), state (B, S), others (B, n))."""
        cfg = self.cfg
        dist = cast(GaussianActor, self.actors[g]).dist_split(common, own)
        logp = (dist.log_prob(act) * self.masks[g]).sum(-1)
        log_ratio = logp - logp_old
        ratio = log_ratio.exp()
        pg = -torch.min(ratio * adv, ratio.clamp(1 - cfg.clip, 1 + cfg.clip) * adv).mean()
        entropy = (dist.entropy() * self.masks[g]).sum(-1).mean()
        v = self._values(g, common, own, state, denorm=False)
        v_loss = (v - ret) ** 2
        if cfg.value_clip > 0:
            v_clipped = old_v + (v - old_v).clamp(-cfg.value_clip, cfg.value_clip)
            v_loss = torch.max(v_loss, (v_clipped - ret) ** 2)
        v_loss = 0.5 * v_loss.mean()
        with torch.no_grad():
            approx_kl = float(((ratio - 1) - log_ratio).mean())
            clipfrac = float(((ratio - 1).abs() > cfg.clip).float().mean())
        return {
            "loss": pg - cfg.ent_coef * entropy + cfg.vf_coef * v_loss,
            "policy_loss": pg.item(), "value_loss": v_loss.item(), "entropy": entropy.item(),
            "approx_kl": approx_kl, "clipfrac": clipfrac,
        }  # fmt: skip

    # ------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue training (weights-only safe; CPU tensors, so a
        run trained on a GPU resumes or ships on a machine without one)."""
        return {
            "actors": _cpu(self.actors.state_dict()),
            "critics": _cpu(self.critics.state_dict()),
            "optimizer": _cpu(self.optimizer.state_dict()),
            "obs_rms": {g: r.state_dict() for g, r in self.obs_rms.items()},
            "state_rms": self.state_rms.state_dict(),
            "value_rms": {g: r.state_dict() for g, r in self.value_rms.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Inverse of :meth:`state_dict` (the signature is checked before this)."""
        self.actors.load_state_dict(state["actors"])
        self.critics.load_state_dict(state["critics"])
        self.optimizer.load_state_dict(state["optimizer"])
        for g, r in self.obs_rms.items():
            r.load_state_dict(state["obs_rms"][g])
        self.state_rms.load_state_dict(state["state_rms"])
        for g, r in self.value_rms.items():
            r.load_state_dict(state["value_rms"][g])

    def export(self, coalition_slots: list[str]) -> dict[str, Any]:
        """The policy part read by :mod:`agents.learned` (actors and observation statistics)."""
        actors = {}
        for g, (_, d, a) in self.groups.items():
            rms = self.obs_rms[g]
            actors[g] = {
                "obs_dim": d, "act_dim": a, "hidden": self.cfg.hidden,
                "state_dict": _cpu(self.actors[g].state_dict()),
                "obs_mean": torch.from_numpy(rms.mean.copy()) if self.cfg.obs_norm else None,
                "obs_var": torch.from_numpy(rms.var.copy()) if self.cfg.obs_norm else None,
            }  # fmt: skip
        for g, entry in actors.items():
            entry["mask"] = self.masks[g].cpu().clone()
        return {"actors": actors, "residual": self.cfg.residual,
                "coalition_slots": list(coalition_slots),
                "forecast_features": list(self.cfg.forecast_features),
                "margin_features": self.cfg.margin_features,
                "reserve_base": self.cfg.reserve_base}  # fmt: skip


def _cpu(obj: Any) -> Any:
    """``obj`` (nested dicts, lists and tensors) with every tensor on the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.cpu()
    if isinstance(obj, dict):
        return {k: _cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_cpu(v) for v in obj)
    return obj
