"""``ppa_negotiation_v0``: bilateral PPA negotiation between a coalition and a wind aggregator.

A turn-based (AEC) PettingZoo env after seed paper 002 (Algarvio 2021, §3-§4): the
coalition's representative mediator and an opponent exchange alternating offers on a
PPA price (optionally volume) with a deadline and the option to withdraw; on each
opponent offer the coalition's members vote on it against the mediator's counter-offer,
each by its own cost function, under the team strategy (RE, RM-IDM, SSV, SBV, FUM) and
decision rule (majority, consensus 75%, unanimity). Defaults are the paper's case.

Agents
    ==========  ===============================================================
    id          role
    ==========  ===============================================================
    mediator_0  the coalition's representative (buyer); its counter-offers are
                put to the members' vote (:mod:`envs.negotiation.team`)
    opponent_0  the seller: a wind aggregator (``opponent_kind``: retailer,
                producer); accepts/counters/withdraws alone
    ==========  ===============================================================

    ``rl_seats`` (default both) lists the seats exposed as agents; a seat not listed is
    played inside the env by its config tactic (:mod:`envs.negotiation.tactics`).
    ``agents.negotiation.ConcessionAgent`` plays either seat from outside the same way.

Action space (``action_type``)
    ``box``: ``Box(-1, 1, (3,), float32)`` = ``[price, volume, decision]``. price maps
    linearly to ``[price_floor_eur_per_mwh, price_cap_eur_per_mwh]`` (default 0-100
    EUR/MWh), volume to ``[volume_floor_mw, volume_cap_mw]`` (ignored unless
    ``negotiate_volume``; the need ``need_mw`` is offered then). decision > 1/3 accepts
    the standing offer, < -1/3 withdraws, otherwise counter-offers. Out-of-bounds values
    are clipped and counted in ``info["n_clipped"]``.
    ``discrete``: ``Discrete(n_price_levels + 2)``: ``i < n_price_levels`` counters at
    price level ``i`` of ``linspace(floor, cap, n_price_levels)`` (volume = need),
    ``n_price_levels`` accepts, ``n_price_levels + 1`` withdraws.
    Accepting with no offer standing counts as a counter at that price
    (``info["n_invalid"]``). Under a voting strategy the mediator's accept is put to the
    members' vote like any counter-offer equal to the opponent's terms.

Observation space
    ``Box(-1, 1, (9,), float32)``, each agent's own view: ``[0]`` the other party's
    standing price, ``[1]`` its volume, ``[2]`` own last price, ``[3]`` own last volume
    (prices/volumes scaled to [-1, 1] by the bounds above; 0 when absent), ``[4]`` 1 if an
    offer of the other party stands, ``[5]`` 1 if the agent has offered, ``[6]`` elapsed
    share of its deadline, ``[7]`` the members' last yes-share (mediator only; 0 for the
    opponent, votes are private), ``[8]`` the agent's own limit price, scaled.
    ``state()``: both views concatenated, ``(18,)``.

Reward
    0 until the end. On agreement at price ``p``: mediator
    ``(limit_m - p) / (cap - floor)``, opponent ``(p - limit_o) / (cap - floor)`` (surplus
    over its limit, scaled). No agreement (withdrawal, deadline): 0 for both.

Termination and truncation
    Terminated on agreement or withdrawal; truncated when a party must counter past its
    ``deadline_proposals`` (default 20 each). Stepping after the end raises
    :class:`envs.errors.EpisodeOverError`.

Arguments
    ``make_env(scenario=None, *, api="aec", overrides=None, render_mode=None, **fields)``:
    ``scenario`` a name (``ppa_paper_case``) or YAML path, None = code defaults;
    ``overrides`` dotted paths (``{"opponent.concession_factor": 0.2}``); ``fields``
    top-level :class:`envs.negotiation.NegotiationConfig` fields (``team_strategy="SBV"``).
    ``api="parallel"`` raises ValueError: the protocol is turn-based. AEC-only, so the
    parallel routes (TorchRL's ``PettingZooWrapper`` with a parallel env, BenchMARL tasks,
    SuperSuit's ``pettingzoo_env_to_vec_env_v1``, RLlib's ``ParallelPettingZooEnv``) do not
    apply; TorchRL's ``PettingZooWrapper`` takes it as an AEC env (``use_mask=True``,
    with ``info_format="flat"``: TorchRL stacks numbers only).

Info keys (the same at reset and every step)
    ``outcome`` (running/agreement/withdrawn/deadline), ``price_eur_per_mwh`` (standing
    offer), ``yes_share``, ``messages`` (dict), ``n_clipped``, ``n_invalid``. With
    ``info_format="flat"`` every value is a number: ``outcome/<name>`` one-hot (0/1),
    ``price_eur_per_mwh`` and ``yes_share`` NaN while absent, ``messages/<kind>``. Unlike
    the parallel envs, the default stays ``"nested"``: the flat NaNs would fail
    PettingZoo's ``seed_test`` (NaN != NaN), and the parallel tensor routes that need
    flat infos do not apply to a turn-based env.

PettingZoo module convention
    ``env(...)`` (the AEC env with order enforcing) and ``raw_env(...)`` take the
    arguments of ``make_env`` without ``api``; there is no ``parallel_env`` (turn-based),
    hence no ``max_cycles`` either: ``deadline_proposals`` bounds the episode. Rendering:
    ``render_mode="ansi"`` returns the offers so far, ``"human"`` prints them.

Version history
    v0: first version (issue 6).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from numpy.typing import NDArray
from pettingzoo import AECEnv

from envs.adapters.infos import check_info_format, flatten_info
from envs.config.loader import apply_overrides, build, load_yaml, merge, to_dict
from envs.errors import ActionError, EpisodeOverError
from envs.negotiation import (
    SEATS,
    Move,
    Negotiation,
    NegotiationConfig,
    NegotiationResult,
    PpaContract,
    agent_id,
    contract_from_result,
    new_negotiation,
    seat_of,
)
from envs.registry import scenario_file

__all__ = [
    "ENV_ID",
    "OUTCOMES",
    "PpaNegotiationEnv",
    "env",
    "load_config",
    "make_env",
    "ppa_contract",
    "raw_env",
]

ENV_ID = "ppa_negotiation_v0"
OBS_DIM = 9
#: Values of ``info["outcome"]`` (one-hot ``outcome/<name>`` in flat infos).
OUTCOMES: tuple[str, ...] = ("running", "agreement", "withdrawn", "deadline")


def load_config(
    scenario: str | None = None, overrides: dict[str, Any] | None = None, **fields: Any
) -> NegotiationConfig:
    """Build the scenario's :class:`NegotiationConfig` (None: the paper's case in code).

    The scenario (and the overrides) are merged onto the code defaults, so a file or an
    override may set a single nested field (``{"opponent.concession_factor": 0.2}``).
    """
    data: dict[str, Any] = to_dict(NegotiationConfig())
    if scenario is not None:
        is_path = str(scenario).endswith((".yaml", ".yml")) and Path(scenario).exists()
        path = scenario if is_path else scenario_file(scenario, ENV_ID)
        data = merge(data, load_yaml(path, resolve_base=lambda n: scenario_file(n, ENV_ID)))
    data = apply_overrides(data, overrides)
    data.update(fields)
    data.pop("env", None)
    return build(NegotiationConfig, data)


class PpaNegotiationEnv(AECEnv):
    """Alternating-offers PPA negotiation (see the module docstring)."""

    metadata: ClassVar[dict[str, Any]] = {
        "name": ENV_ID,
        "render_modes": ["human", "ansi"],
        "is_parallelizable": False,
    }

    def __init__(
        self,
        config: NegotiationConfig | None = None,
        render_mode: str | None = None,
        *,
        info_format: str = "nested",
    ):
        super().__init__()
        self.config = config or NegotiationConfig()
        if render_mode not in (None, "human", "ansi"):
            raise ValueError(
                f"{ENV_ID}: render_mode={render_mode!r}; expected None, 'human' or 'ansi'"
            )
        self.render_mode = render_mode
        self.info_format = check_info_format(info_format, ENV_ID)
        # Agent ids follow PettingZoo's <type>_<n> (mediator_0, opponent_0); the protocol,
        # the config (rl_seats, first_mover) and the results speak of seats.
        self._seats = tuple(s for s in SEATS if s in self.config.rl_seats)
        self.possible_agents = [agent_id(s) for s in self._seats]
        self._np_random, _ = seeding.np_random(None)
        self._neg: Negotiation | None = None
        self.agents: list[str] = []

    # Spaces -------------------------------------------------------------------------
    @functools.cache  # noqa: B019 - one space object per agent, as PettingZoo recommends
    def observation_space(self, agent: str) -> spaces.Box:
        """``Box(-1, 1, (9,))`` for every agent."""
        return spaces.Box(-1.0, 1.0, (OBS_DIM,), np.float32)

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> spaces.Space:
        """``Box(-1, 1, (3,))`` or ``Discrete(n_price_levels + 2)`` by ``action_type``."""
        if self.config.action_type == "discrete":
            return spaces.Discrete(self.config.n_price_levels + 2)
        return spaces.Box(-1.0, 1.0, (3,), np.float32)

    @property
    def state_space(self) -> spaces.Box:
        """Both seats' views concatenated."""
        return spaces.Box(-1.0, 1.0, (2 * OBS_DIM,), np.float32)

    # Lifecycle ----------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Start a negotiation; members are drawn from the env's Generator."""
        if seed is not None or self._neg is None:
            self._np_random, _ = seeding.np_random(seed)
        self._neg = new_negotiation(self.config, self._np_random)
        self.agents = list(self.possible_agents)
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self._counts = {"n_clipped": 0, "n_invalid": 0}
        self.infos = {a: self._info() for a in self.agents}
        self._advance_scripted()
        self.agent_selection = agent_id(self._neg.turn) if not self._neg.done else self.agents[0]
        if self.render_mode == "human":
            self.render()

    def step(self, action: Any) -> None:
        """Apply the selected agent's action, then any scripted seat's moves."""
        if not self.agents or self._neg is None:
            raise EpisodeOverError("ppa_negotiation_v0: the episode is over; call reset()")
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        move = self._decode(agent, action)
        self._clear_rewards()
        self._neg.play(seat_of(agent), move)
        self._advance_scripted()
        self._finish_if_done()
        self._accumulate_rewards()
        if not self._neg.done:
            self.agent_selection = agent_id(self._neg.turn)
        if self.render_mode == "human":
            self.render()

    def observe(self, agent: str) -> NDArray[np.float32]:
        """The agent's view (module docstring, "Observation space")."""
        neg = self._neg
        cfg = self.config
        obs = np.zeros(OBS_DIM, dtype=np.float64)
        if neg is None:
            return obs.astype(np.float32)
        seat = seat_of(agent)
        mine = [o for o in neg.history if o.party == seat]
        theirs = [o for o in neg.history if o.party != seat]
        if theirs:
            obs[0], obs[1], obs[4] = (
                self._scale_p(theirs[-1].price_eur_per_mwh),
                self._scale_v(theirs[-1].volume_mw),
                1.0,
            )
        if mine:
            obs[2], obs[3], obs[5] = (
                self._scale_p(mine[-1].price_eur_per_mwh),
                self._scale_v(mine[-1].volume_mw),
                1.0,
            )
        party = getattr(cfg, seat)
        obs[6] = min(neg.proposals[seat] / party.deadline_proposals, 1.0)
        if seat == "mediator" and neg.yes_shares:
            obs[7] = neg.yes_shares[-1]
        obs[8] = self._scale_p(party.limit_price_eur_per_mwh)
        return np.clip(obs, -1.0, 1.0).astype(np.float32)

    def state(self) -> NDArray[np.float32]:
        """Both seats' observations, mediator first, ``(18,)``."""
        return np.concatenate([self.observe(agent_id(s)) for s in SEATS])

    def render(self) -> str | None:
        """``ansi``: the offers so far, one per line, then the outcome; ``human``: print
        them (each ``reset``/``step`` does) and return None."""
        if self.render_mode is None or self._neg is None:
            return None
        lines = [
            f"{o.party} #{o.number}: {o.price_eur_per_mwh:.2f} EUR/MWh, {o.volume_mw:.0f} MW"
            for o in self._neg.history
        ]
        text = "\n".join([*lines, f"outcome: {self._neg.outcome or 'running'}"])
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        """Nothing to release."""

    # Results ------------------------------------------------------------------------
    def result(self) -> NegotiationResult:
        """The negotiation's summary (outcome, agreed price, proposal, messages)."""
        if self._neg is None:
            raise EpisodeOverError("ppa_negotiation_v0: call reset() before result()")
        return self._neg.result()

    # Internals ----------------------------------------------------------------------
    def _scale_p(self, price: float) -> float:
        lo, hi = self.config.price_floor_eur_per_mwh, self.config.price_cap_eur_per_mwh
        return 2.0 * (price - lo) / (hi - lo) - 1.0

    def _scale_v(self, volume: float) -> float:
        lo, hi = self.config.volume_floor_mw, self.config.volume_cap_mw
        return 2.0 * (volume - lo) / (hi - lo) - 1.0

    def _decode(self, agent: str, action: Any) -> Move:
        cfg = self.config
        lo, hi = cfg.price_floor_eur_per_mwh, cfg.price_cap_eur_per_mwh
        volume = cfg.need_mw
        if cfg.action_type == "discrete":
            n = cfg.n_price_levels
            arr = np.asarray(action)
            if arr.shape != () or not np.issubdtype(arr.dtype, np.integer) or not 0 <= arr < n + 2:
                raise ActionError(
                    f"action for {agent} is {action!r}; expected an int in Discrete({n + 2}) "
                    f"(0..{n - 1} price levels, {n} accept, {n + 1} withdraw)"
                )
            idx = int(arr)
            if idx == n + 1:
                return Move("withdraw")
            if idx == n and self._neg is not None and self._neg.standing is not None:
                return Move("accept")
            if idx == n:
                self._counts["n_invalid"] += 1
                idx = n - 1
            return Move("counter", float(np.linspace(lo, hi, n)[idx]), volume)
        arr = np.asarray(action, dtype=np.float64) if action is not None else np.empty(0)
        if arr.shape != (3,) or not np.isfinite(arr).all():
            raise ActionError(
                f"action for {agent} is {action!r}; expected a finite array of shape (3,) "
                "in Box(-1, 1): [price, volume, decision]"
            )
        clipped = np.clip(arr, -1.0, 1.0)
        self._counts["n_clipped"] += int((clipped != arr).any())
        if clipped[2] < -1.0 / 3.0:
            return Move("withdraw")
        if clipped[2] > 1.0 / 3.0 and self._neg is not None and self._neg.standing is not None:
            return Move("accept")
        if clipped[2] > 1.0 / 3.0:
            self._counts["n_invalid"] += 1
        if cfg.negotiate_volume:
            volume = cfg.volume_floor_mw + (clipped[1] + 1.0) / 2.0 * (
                cfg.volume_cap_mw - cfg.volume_floor_mw
            )
        return Move("counter", float(lo + (clipped[0] + 1.0) / 2.0 * (hi - lo)), float(volume))

    def _advance_scripted(self) -> None:
        neg = self._neg
        while neg is not None and not neg.done and neg.turn not in self._seats:
            neg.play(neg.turn, neg.scripted_move(neg.turn))
        self._finish_if_done()

    def _finish_if_done(self) -> None:
        neg = self._neg
        if neg is None:
            return
        for a in self.agents:
            self.infos[a] = self._info()
        if not neg.done or any(self.terminations.values()) or any(self.truncations.values()):
            return
        cfg = self.config
        span = cfg.price_cap_eur_per_mwh - cfg.price_floor_eur_per_mwh
        res = neg.result()
        p = res.agreed_price_eur_per_mwh
        if p is not None:
            surplus = {
                "mediator": cfg.mediator.limit_price_eur_per_mwh - p,
                "opponent": p - cfg.opponent.limit_price_eur_per_mwh,
            }
            for a in self.agents:
                self.rewards[a] = surplus[seat_of(a)] / span
        for a in self.agents:
            self.terminations[a] = res.outcome in ("agreement", "withdrawn")
            self.truncations[a] = res.outcome == "deadline"

    def _info(self) -> dict[str, Any]:
        neg = self._neg
        if neg is None:
            raise RuntimeError("no negotiation in progress; call reset() first")
        standing = neg.standing
        res = neg.result()
        info = {
            "outcome": res.outcome,
            "price_eur_per_mwh": None if standing is None else standing.price_eur_per_mwh,
            "yes_share": neg.yes_shares[-1] if neg.yes_shares else None,
            "messages": dict(res.messages),
            **self._counts,
        }
        if self.info_format == "flat":
            # Tensor libraries keep numbers only: the outcome becomes a one-hot.
            outcome = info.pop("outcome")
            info["outcome"] = {o: int(o == outcome) for o in OUTCOMES}
            return flatten_info(info)
        return info


def ppa_contract(
    source: PpaNegotiationEnv | NegotiationResult, config: NegotiationConfig | None = None
) -> PpaContract | None:
    """The agreed PPA of a finished negotiation (env or result), or None without agreement."""
    if isinstance(source, PpaNegotiationEnv):
        return contract_from_result(source.result(), source.config)
    return contract_from_result(source, config or NegotiationConfig())


def make_env(
    scenario: str | None = None,
    *,
    api: str = "aec",
    overrides: dict[str, Any] | None = None,
    render_mode: str | None = None,
    info_format: str = "nested",
    **fields: Any,
) -> PpaNegotiationEnv:
    """Build the AEC env (the protocol is turn-based: there is no parallel api).

    ``render_mode``: None, ``"ansi"`` or ``"human"``; ``info_format``: ``"nested"`` (the
    default) or ``"flat"`` (module docstring, "Info keys").

    Raises:
        ValueError: ``api`` is not ``"aec"``.
        UnknownNameError: unknown scenario name.
        ConfigError: bad override or scenario value.
    """
    if api != "aec":
        raise ValueError(
            f"{ENV_ID} is turn-based (alternating offers) and only has the AEC api; got "
            f"api={api!r}. Use envs.make('{ENV_ID}', api='aec')"
        )
    return PpaNegotiationEnv(
        load_config(scenario, overrides, **fields),
        render_mode=render_mode,
        info_format=info_format,
    )


def raw_env(scenario: str | None = None, **kwargs: Any) -> PpaNegotiationEnv:
    """PettingZoo's ``raw_env``: the unwrapped AEC env (arguments of :func:`make_env`)."""
    return make_env(scenario, api="aec", **kwargs)


def env(scenario: str | None = None, **kwargs: Any) -> Any:
    """PettingZoo's ``env``: :func:`raw_env` with order enforcing (no clipping wrapper: the
    env clips and counts out-of-bounds actions itself)."""
    from pettingzoo.utils.wrappers import OrderEnforcingWrapper

    return OrderEnforcingWrapper(raw_env(scenario, **kwargs))
