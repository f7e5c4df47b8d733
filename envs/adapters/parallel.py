"""PettingZoo ``ParallelEnv`` adapter over :class:`envs.sim.core.MarketCore` (E = 1).

Dicts are converted to arrays (and back) here only, in ``possible_agents`` order.
The env-specific modules (``multimarket_v1``, ``spot_v1``) hold the documentation
and pick the scenario.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gymnasium
import numpy as np
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv

from envs.adapters.infos import check_info_format
from envs.config.scenario import ScenarioConfig
from envs.errors import ActionError, EpisodeOverError
from envs.market.settlement import MARKETS
from envs.sim import kernel as kn
from envs.sim import observe as ob
from envs.sim import scripted
from envs.sim.build import build_core

if TYPE_CHECKING:  # pandas is imported when a ledger is asked for, not with the env
    import pandas as pd

#: Keys of the shared market section of every agent's info, and the coalition's own.
PUBLIC_INFO, COALITION_INFO = kn.PUBLIC_INFO_KEYS, kn.COALITION_INFO_KEYS
#: The coalition's PettingZoo agent id (PettingZoo's ``<type>_<n>`` names); its group,
#: in ``agent_groups``, ``make_vector(agent=...)`` and the batched dicts, is ``"coalition"``.
COALITION_ID = "coalition_0"


def agent_groups(cfg: ScenarioConfig) -> dict[str, list[str]]:
    """Group name -> agent ids (the coalition; members if agents; incumbents if controlled)."""
    groups = {"coalition": [COALITION_ID]}
    if cfg.members.agents:
        groups["members"] = [f"member_{i}" for i in range(cfg.members.count)]
    if cfg.fleet.controlled:
        groups["incumbents"] = [f"incumbent_{g}" for g in range(len(cfg.fleet.generators))]
    return groups


def validate_actions(
    actions: Any, ids: list[str], size: int, space_text: str
) -> tuple[np.ndarray, np.ndarray]:
    """Stack one group's actions into (len(ids), size) float64, clipped to [-1, 1].

    Returns:
        (actions, clipped): the clipped array and the count of clipped entries per agent.

    Raises:
        ActionError: a missing agent, wrong shape or dtype, NaN or inf (names the agent).
    """
    try:  # one stack for the whole group when every action is a numeric array of its shape
        rows = [actions[aid] for aid in ids]
        kinds = {r.dtype.kind for r in rows}
        arr = np.array(rows, dtype=np.float64) if kinds <= set("fiu") else None
    except (KeyError, AttributeError, ValueError):  # a missing agent, a list, a ragged row
        arr = None
    if arr is None or arr.shape != (len(ids), size):
        arr = _stack_checked(actions, ids, size, space_text)
    if not np.isfinite(arr).all():
        bad = ids[int(np.argmin(np.isfinite(arr).all(-1)))]
        raise ActionError(
            f"action of {bad!r} contains NaN or inf; expected finite values in {space_text}"
        )
    out = np.clip(arr, -1.0, 1.0)
    return out, (out != arr).sum(-1)


def _stack_checked(actions: Any, ids: list[str], size: int, space_text: str) -> np.ndarray:
    """The agent-by-agent stack of :func:`validate_actions`: names the first agent whose
    action is missing, not a real numeric array, or not of shape (size,)."""
    rows = []
    for aid in ids:
        if aid not in actions:
            raise ActionError(f"no action for agent {aid!r}; expected {space_text}")
        a = actions[aid]
        a = a if isinstance(a, np.ndarray) else np.asarray(a)
        if a.dtype.kind not in "fiu":
            raise ActionError(
                f"action of {aid!r} has dtype {a.dtype}; "
                f"expected a real numeric array for {space_text}"
            )
        if a.shape != (size,):
            raise ActionError(f"action of {aid!r} has shape {a.shape}; expected {space_text}")
        rows.append(a)
    return np.array(rows, dtype=np.float64)


class MarketParallelEnv(ParallelEnv):
    """Parallel multi-agent view of one market simulation; see ``envs.multimarket_v1``."""

    # render_fps: the frame rate of ``rgb_array`` videos (Gymnasium's RecordVideo).
    metadata: dict[str, Any] = {
        "name": "multimarket_v1",
        "render_modes": ["human", "ansi", "rgb_array"],
        "is_parallelizable": True,
        "render_fps": 4,
    }

    def __init__(
        self,
        cfg: ScenarioConfig,
        *,
        render_mode: str | None = None,
        name: str = "multimarket_v1",
        max_cycles: int | None = None,
        info_format: str = "flat",
    ) -> None:
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(
                f"{name}: render_mode={render_mode!r}; expected None, 'human', 'ansi' or "
                "'rgb_array'"
            )
        if max_cycles is not None and (isinstance(max_cycles, bool) or int(max_cycles) < 1):
            raise ValueError(f"{name}: max_cycles={max_cycles!r}; expected None or an int >= 1")
        self.metadata = {**self.metadata, "name": name}
        self.render_mode = render_mode
        self.max_cycles = None if max_cycles is None else int(max_cycles)
        self.info_format = check_info_format(info_format, name)
        self._cycles = 0
        self.cfg = cfg
        self.core = build_core(cfg, 1, record_ledger=True)
        self.agent_groups = agent_groups(cfg)
        self.possible_agents = [a for ids in self.agent_groups.values() for a in ids]
        self.agents: list[str] = []
        self._group_of = {a: g for g, ids in self.agent_groups.items() for a in ids}
        obs_sizes = ob.sizes(self.core)
        act_sizes = {
            "coalition": self.core.layout.coalition,
            "members": self.core.layout.member,
            "incumbents": self.core.layout.incumbent,
        }
        b = ob.OBS_BOUND
        self._obs_spaces = {
            g: gymnasium.spaces.Box(-b, b, (obs_sizes[g],), np.float32) for g in self.agent_groups
        }
        self._act_spaces = {
            g: gymnasium.spaces.Box(-1.0, 1.0, (act_sizes[g],), np.float32)
            for g in self.agent_groups
        }
        self.state_space = gymnasium.spaces.Box(-b, b, (ob.state_size(self.core),), np.float32)
        self.np_random, _ = seeding.np_random(None)
        self._obs: dict[str, np.ndarray] | None = None
        self._book: dict[str, np.ndarray] | None = None  # rgb_array: the last hour's book

    # --------------------------------------------------------------- spaces
    def observation_space(self, agent: str) -> gymnasium.spaces.Box:
        """Box of normalised features (layout in :mod:`envs.sim.observe`)."""
        return self._obs_spaces[self._group_of[agent]]

    def action_space(self, agent: str) -> gymnasium.spaces.Box:
        """Box in [-1, 1]; layout documented in the env module."""
        return self._act_spaces[self._group_of[agent]]

    # ------------------------------------------------------------------ api
    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        """Start an episode; ``seed`` makes it reproducible bit for bit."""
        if seed is not None:
            self.np_random, _ = seeding.np_random(seed)
        self.core.reset(self.np_random)
        self.agents = list(self.possible_agents)
        self._cycles = 0
        self._book = None
        self._obs = ob.observe(self.core, tuple(self.agent_groups))
        if self.render_mode == "human":
            self.render()
        return self._split_obs(self._obs), self._reset_infos()

    def _reset_infos(self) -> dict[str, dict]:
        """The step infos' keys with zeros: no hour has cleared yet. Same keys as a step's
        so that libraries that size their buffers at reset (TorchRL) keep every key."""
        c, n, g = self.core.settlement.cols, self.core.dims.N, self.core.dims.G
        return self._infos(
            np.zeros(len(kn.INFO_KEYS)),
            np.zeros((len(MARKETS), c.size)),
            np.zeros((1, n)),
            np.zeros((1, n)),
            np.zeros((1, g)),
            np.zeros((1, g)),
            np.zeros((1, g)),
            {grp: np.zeros(len(ids), np.int64) for grp, ids in self.agent_groups.items()},
        )

    def _split_obs(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        # Rows of a copy: the caller may write into its observations, and self._obs
        # feeds state() (one copy per group, not per agent).
        out: dict[str, np.ndarray] = {}
        for g, ids in self.agent_groups.items():
            out.update(zip(ids, obs[g][0].copy(), strict=True))
        return out

    def check_action(self, agent: str, action: Any) -> None:
        """Raise the ``ActionError`` that ``step`` would for ``agent``'s ``action`` (the AEC
        view checks each action as it arrives, so a bad one is never stored)."""
        group = self._group_of.get(agent)
        if group is None:
            raise ActionError(f"unknown agent {agent!r}; agents are {self.possible_agents}")
        space = self._act_spaces[group]
        text = f"Box(-1.0, 1.0, {space.shape}, float32) for {group}"
        validate_actions({agent: action}, [agent], space.shape[0], text)

    def _group_actions(self, actions: dict, group: str) -> tuple[np.ndarray, np.ndarray]:
        ids = self.agent_groups[group]
        space = self._act_spaces[group]
        text = f"Box(-1.0, 1.0, {space.shape}, float32) for {group}"
        return validate_actions(actions, ids, space.shape[0], text)

    def step(self, actions: dict) -> tuple[dict, dict, dict, dict, dict]:
        """Clear all markets for one hour; see the env module for rewards and infos."""
        if not self.agents:
            raise EpisodeOverError(
                "the episode is over (or reset() was never called); call reset() before step()"
            )
        if not isinstance(actions, dict):
            raise ActionError(
                f"actions must be a dict of agent id -> array, got {type(actions).__name__}"
            )
        unknown = set(actions) - set(self.possible_agents)
        if unknown:
            raise ActionError(
                f"actions for unknown agents {sorted(unknown)}; agents are {self.possible_agents}"
            )
        a_c, n_c = self._group_actions(actions, "coalition")
        clipped = {"coalition": n_c}
        a_m = a_i = None
        if "members" in self.agent_groups:
            a_m, clipped["members"] = self._group_actions(actions, "members")
            a_m = a_m[None]
        if "incumbents" in self.agent_groups:
            a_i, clipped["incumbents"] = self._group_actions(actions, "incumbents")
            a_i = a_i[None]
        if self.render_mode == "rgb_array":  # the hour's book, as the step clears it
            self._book = self.core.day_ahead_book(a_c, a_i)
        res = self.core.step(a_c, a_m, a_i)
        self._obs = ob.observe(self.core, tuple(self.agent_groups))
        obs = self._split_obs(self._obs)
        rewards = {COALITION_ID: float(res.reward_coalition[0])}
        if a_m is not None:
            rewards.update(
                zip(self.agent_groups["members"], res.reward_members[0].tolist(), strict=True)
            )
        if a_i is not None:
            rewards.update(
                zip(self.agent_groups["incumbents"], res.reward_incumbents[0].tolist(), strict=True)
            )
        assert res.cash is not None  # the core keeps a ledger (record_ledger=True)
        infos = self._infos(
            res.info_array[0],
            res.cash[0],
            res.saving,
            res.bill_alone,
            res.reward_incumbents,
            res.markup,
            res.dispatch,
            clipped,
        )
        self._cycles += 1
        done = res.terminated
        # max_cycles cuts the episode short: a time limit, so truncated, not terminated.
        cut = not done and self.max_cycles is not None and self._cycles >= self.max_cycles
        terms = dict.fromkeys(self.agents, done)
        truncs = dict.fromkeys(self.agents, cut)
        if done or cut:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return obs, rewards, terms, truncs, infos

    def _infos(
        self,
        info_row: np.ndarray,
        cash: np.ndarray,
        saving_eur: np.ndarray,
        bill_alone_eur: np.ndarray,
        profit_eur: np.ndarray,
        markups: np.ndarray,
        dispatch_mw: np.ndarray,
        clipped: dict[str, np.ndarray],
    ) -> dict[str, dict]:
        """Every agent's info of one hour (module docstring) from the step's arrays:
        ``info_row`` (len(INFO_KEYS),), ``cash`` (markets, participants) EUR, the others
        (1, n)."""
        info = dict(zip(kn.INFO_KEYS, info_row.tolist(), strict=True))  # floats, one call
        market = {k: info[k] for k in PUBLIC_INFO}
        row = _row_builder(market, flat=self.info_format == "flat")
        c = self.core.settlement.cols
        infos = {
            COALITION_ID: row(cash[:, c.coalition].tolist(),
                              {"n_clipped": int(clipped["coalition"][0]),
                               **{k: info[k] for k in COALITION_INFO}})
        }  # fmt: skip
        if "members" in self.agent_groups:
            # One comprehension over columns: at 5,000 members the per-member loop of dict
            # updates it replaces took 70% of the PettingZoo step.
            infos.update(
                {aid: row(mc, {"saving_eur": s, "counterfactual_bill_eur": b, "n_clipped": n})
                 for aid, mc, s, b, n in zip(
                     self.agent_groups["members"], zip(*cash[:, c.members].tolist(), strict=True),
                     saving_eur[0].tolist(), bill_alone_eur[0].tolist(),
                     clipped["members"].tolist(), strict=True)}
            )  # fmt: skip
        if "incumbents" in self.agent_groups:
            own = zip(
                cash[:, c.gens].T.tolist(),
                profit_eur[0].tolist(),
                markups[0].tolist(),
                dispatch_mw[0].tolist(),
                clipped["incumbents"].tolist(),
                strict=True,
            )
            for aid, (gc, profit, markup, dispatch, n) in zip(
                self.agent_groups["incumbents"], own, strict=True
            ):
                infos[aid] = row(
                    gc,
                    {
                        "profit_eur": profit,
                        "markup": markup,
                        "dispatch_mw": dispatch,
                        "n_clipped": n,
                    },
                )
        return infos  # fmt: skip

    def observations(self) -> dict[str, np.ndarray]:
        """The observations returned by the last ``reset`` or ``step``, by agent (copies)."""
        if self._obs is None:
            raise EpisodeOverError("observations() called before reset()")
        return self._split_obs(self._obs)

    def state(self) -> np.ndarray:
        """Global state for centralised critics, float32 (:func:`envs.sim.observe.state`)."""
        if self._obs is None:
            raise EpisodeOverError("state() called before reset()")
        return ob.state(self.core, self._obs)[0]

    # -------------------------------------------------------------- records
    def ledger(self) -> pd.DataFrame:
        """Every cash and energy flow of the episode so far (DESIGN §7)."""
        return self.core.ledger.frame()

    def counterfactual_bills(self) -> pd.DataFrame:
        """What each member would pay alone each step (retail tariff, own battery for
        self-consumption, feed-in tariff for exports); independent of the policy."""
        return self.core.ledger.counterfactual()

    def scripted_actions(self) -> dict[str, np.ndarray]:
        """The scenario's scripted action for every agent this hour (a baseline)."""
        out: dict[str, np.ndarray] = {}
        mem = scripted.member_actions(self.core)
        out[COALITION_ID] = scripted.coalition_actions(self.core, mem)[0].astype(np.float32)
        if "members" in self.agent_groups:
            out.update(zip(self.agent_groups["members"], mem[0].astype(np.float32), strict=True))
        if "incumbents" in self.agent_groups:
            out.update(
                zip(
                    self.agent_groups["incumbents"],
                    scripted.incumbent_actions(self.core)[0].astype(np.float32),
                    strict=True,
                )
            )
        return out

    def render(self) -> str | np.ndarray | None:
        """``ansi``: return one line with the hour, prices and the coalition's imbalance;
        ``human``: print that line (also done by every ``reset`` and ``step``) and return
        None; ``rgb_array``: a (360, 480, 3) uint8 image of the hour last cleared (merit
        order, clearing price, the coalition's and members' positions;
        :mod:`envs.adapters.render`); no render mode: None."""
        if self.render_mode is None:
            return None
        core = self.core
        if self.render_mode == "rgb_array":
            from envs.adapters.render import market_frame

            return market_frame(core, self._book)
        line = (
            f"t={core.t:4d} spot={core.last.price[0]:8.2f} EUR/MWh "
            f"reserve={core.last.reserve_price[0]:7.2f} EUR/MW "
            f"capacity={core.state.cap_price_eur_per_mw_day[0]:7.2f} EUR/MW-day "
            f"imbalance={core.last.imbalance[0]:7.3f} MWh"
        )
        if self.render_mode == "human":
            print(line)
            return None
        return line

    def close(self) -> None:
        """Nothing to release."""


def _row_builder(market: dict[str, float], flat: bool) -> Any:
    """``row(cash values by MARKETS, own entries) -> one agent's info`` for this hour.

    Nested: ``{"market": market, "cash_eur": {market: EUR}, **own}`` (the market section
    shared by every agent). Flat (:func:`envs.adapters.infos.flatten_info`'s keys): the
    market section flattened once and copied into each row, then ``cash_eur/<market>``,
    then the agent's own entries, built directly rather than nested and flattened (every
    leaf is already a float or an int)."""
    if not flat:
        return lambda cash, own: {
            "market": market,
            "cash_eur": dict(zip(MARKETS, cash, strict=True)),
            **own,
        }
    head = {f"market/{k}": v for k, v in market.items()}
    cash_keys = tuple(f"cash_eur/{m}" for m in MARKETS)

    def row(cash: list[float], own: dict[str, Any]) -> dict[str, Any]:
        out = head.copy()
        out.update(zip(cash_keys, cash, strict=True))
        out.update(own)
        return out

    return row
