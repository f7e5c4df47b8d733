"""reservation_exchange_v0: prosumers reserve energy on a continuous double auction.

The reservation exchange of seed ``001_*`` (§2-3 "reservation instead of walk-in", §3-3,
§3-4, §3-6 "LOB-3D"): prosumers reserve a *rate* (MW held for one delivery hour) for each
of the next D delivery hours on one limit order book per hour (``envs.market.orderbook``).
A book opens D hours before its delivery with an opening call (uniform-price auction),
trades continuously with price-time priority, and stops at gate closure, ``gate_lead``
trading intervals before delivery. After delivery, each prosumer's realised net load is
settled against its reservation: a shortfall pays the short imbalance price (or, with
``no_reservation_no_service``, is not served and pays the value of lost load), a surplus
is paid the long imbalance price (or is spilled unpaid).

Agents
    ================  =====  ==================================================
    id                group  role
    ================  =====  ==================================================
    ``member_<i>``    member prosumer i (net load = load - PV, MW), i < N
    ================  =====  ==================================================

Time: one ``step`` is one trading interval (``1 / intervals_per_hour`` h). Delivery hour h
(0 <= h < H) opens at interval ``h * I``, its gate closes at ``(h + D) * I - gate_lead``,
and it is delivered during intervals ``[(h + D) * I, (h + D + 1) * I)``. An episode has
``T = (H + D) * I`` steps (the first D hours are trading only). Row d of every per-hour
array is the d-th open book by time to gate closure (row 0 closes next); rows whose hour is
not open (yet) are zeros and their actions are ignored.

Observation (``Dict`` of float32 Boxes; D = ``market.horizon_h``, P = ``market.price_bins``)
    ``lob``           (D, P, 2) [0, inf) MW: the LOB-3D, resting bid (0) / ask (1) volume
                      per delivery hour x price bin; rows ordered by time to gate closure
    ``best_price``    (D, 2) [floor, cap] EUR/MWh: best bid, best ask (floor / cap if none)
    ``depth``         (D, 2) [0, inf) MW: total resting bid, ask volume
    ``time_to_gate``  (D,) [0, D*I] intervals until gate closure (0: row not open)
    ``own_orders``    (D, 2) [0, inf) MW: own resting bid, ask volume
    ``reservation``   (D,) (-inf, inf) MW: own net reservation (bought - sold)
    ``need``          (D,) (-inf, inf) MW: own nominal net load (consumption +)

Action (``Box(-1, 1, (D, 6), float32)``; out-of-bounds values are clipped and counted in
``infos[agent]["n_clipped"]``). Per row d, in this order:
    0 cancel    > 0: cancel all own resting orders in the book first
    1 buy_qty   max(a, 0) * max_order_mw MW, rounded down to lots (< 1 lot: no bid)
    2 buy_px    floor + (a + 1) / 2 * (cap - floor) EUR/MWh, nearest tick
    3 sell_qty  as buy_qty, for an ask
    4 sell_px   as buy_px
    5 market    > 0: both orders are market orders (prices ignored, never rest)
The all-zero action does nothing, as does leaving an agent out of ``actions``. Within an
interval the agents' orders arrive in an order drawn from the env's Generator, so no agent
is always first (seed §3-6 "simultaneous execution of orders"); the engine then breaks
every tie by arrival. Self-trades are allowed
(they net to zero).

Reward (EUR, per agent and step): cash from the step's trades (sell +, buy -, price x MW x
1 h) plus the settlement of the hour delivered in this step, if any:
``-short_px * max(e, 0) + long_px * max(-e, 0)`` with imbalance ``e = realised - reserved``
(MWh); with ``no_reservation_no_service``: ``-voll * max(e, 0)`` (the shortfall is unserved,
a surplus is spilled). Rewards are computed once per step for all agents.

Termination: every agent terminates after step T; with ``max_cycles`` every agent is
truncated after that many steps instead (if fewer than T). Stepping again raises
``EpisodeOverError``. Infos per agent (the same keys at ``reset``, with zeros): ``t``
(intervals elapsed), ``n_clipped``, ``trade_cash_eur``, ``settlement_eur``,
``imbalance_mwh``, ``unserved_mwh``, ``n_trades``; all numbers, so ``info_format`` is
accepted only for the market envs' sake (``"flat"`` gives the same dict).

State (``state()``, ``state_space``): ``Box(-inf, inf, (D*P*2 + D + 2*N*D,), float32)``,
the LOB-3D, ``time_to_gate`` and every agent's ``reservation`` then ``need`` per row.

Library routes: a Dict-space env. TorchRL's ``PettingZooWrapper`` takes the default
spaces (a ``Composite`` observation per agent); BenchMARL's MLP, RLlib's PPO and
SuperSuit's padding and ``agent_indicator_v0`` need ``flat_spaces=True`` (the examples in
``evaluation/examples`` raise a ValueError naming this argument otherwise).

Flat spaces (``flat_spaces=True``, for RLlib, which refuses a 2-D action Box, and
AgileRL, which takes the (D, P, 2) ``lob`` for an image): the observation is
``gymnasium.spaces.flatten_space`` of the Dict above (its keys in sorted order, each
raveled row-major) and the action a ``Box(-1, 1, (D*6,))`` read as the (D, 6) action
row-major. Values and dynamics are unchanged.

Rendering: ``render_mode="ansi"`` makes ``render()`` return the interval and each open
book's best bid, best ask (EUR/MWh) and depth (MW); ``"human"`` prints it at every
``reset``/``step``.

Arguments: ``make_env(scenario=None, *, api="parallel", overrides=None, render_mode=None,
max_cycles=None, flat_spaces=False, info_format="flat", **fields)`` (also as PettingZoo's
``parallel_env``, ``env`` (AEC) and ``raw_env``); ``scenario`` is a name from
``configs/scenarios`` (``reservation_exchange``) or a YAML path, ``overrides`` dotted paths
(``{"market.horizon_h": 6}``), ``fields`` top-level config fields (``hours=12``). See
:class:`ExchangeConfig`.

Version history
    v0: first release (issue 7).
"""

from __future__ import annotations

from typing import Any, cast

import gymnasium
import numpy as np
from gymnasium.utils import seeding
from numpy.typing import NDArray
from pettingzoo import ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec_wrapper
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from envs.adapters.infos import check_info_format
from envs.config.exchange import (
    ENV_ID,
    ExchangeConfig,
    MarketConfig,
    ProsumerConfig,
    SettlementConfig,
    load_config,
)
from envs.errors import ActionError, EpisodeOverError
from envs.market.orderbook import BUY, SELL, OrderBook, Trades

__all__ = [
    "ExchangeConfig",
    "MarketConfig",
    "ProsumerConfig",
    "ReservationExchangeEnv",
    "SettlementConfig",
    "env",
    "load_config",
    "make_env",
    "parallel_env",
    "raw_env",
]

_ACTION_COLS = 6
#: Keys of every agent's info, at reset (zeros) and at every step.
INFO_KEYS: tuple[str, ...] = (
    "t",
    "n_clipped",
    "trade_cash_eur",
    "settlement_eur",
    "imbalance_mwh",
    "unserved_mwh",
    "n_trades",
)


class ReservationExchangeEnv(ParallelEnv):
    """PettingZoo ``ParallelEnv`` of the reservation exchange (see the module docstring)."""

    metadata = {"name": ENV_ID, "render_modes": ["human", "ansi"], "is_parallelizable": True}

    def __init__(
        self,
        config: ExchangeConfig | None = None,
        render_mode: str | None = None,
        *,
        max_cycles: int | None = None,
        flat_spaces: bool = False,
        info_format: str = "flat",
    ):
        if render_mode not in (None, "human", "ansi"):
            raise ValueError(
                f"{ENV_ID}: render_mode={render_mode!r}; expected None, 'human', 'ansi'"
            )
        if max_cycles is not None and (isinstance(max_cycles, bool) or int(max_cycles) < 1):
            raise ValueError(f"{ENV_ID}: max_cycles={max_cycles!r}; expected None or an int >= 1")
        self.render_mode = render_mode
        self.max_cycles = None if max_cycles is None else int(max_cycles)
        self.flat_spaces = bool(flat_spaces)
        self.info_format = check_info_format(info_format, ENV_ID)
        self.config = cfg = config or ExchangeConfig()
        m = cfg.market
        self._grid = m.grid
        self._n_ticks = self._grid.n_ticks
        self._d, self._iph, self._lead = m.horizon_h, m.intervals_per_hour, m.gate_lead_intervals
        self._n, self._h = cfg.prosumers.count, cfg.hours
        self.possible_agents = [f"member_{i}" for i in range(self._n)]
        self.agent_groups = {"member": list(self.possible_agents)}
        self.agents: list[str] = []
        d, p, f32 = self._d, m.price_bins, np.float32
        lo, hi = m.price_floor_eur_per_mwh, m.price_cap_eur_per_mwh
        obs_space: gymnasium.spaces.Space[Any] = gymnasium.spaces.Dict(
            {
                "lob": gymnasium.spaces.Box(0.0, np.inf, (d, p, 2), f32),
                "best_price": gymnasium.spaces.Box(lo, hi, (d, 2), f32),
                "depth": gymnasium.spaces.Box(0.0, np.inf, (d, 2), f32),
                "time_to_gate": gymnasium.spaces.Box(0.0, float(m.window_intervals), (d,), f32),
                "own_orders": gymnasium.spaces.Box(0.0, np.inf, (d, 2), f32),
                "reservation": gymnasium.spaces.Box(-np.inf, np.inf, (d,), f32),
                "need": gymnasium.spaces.Box(-np.inf, np.inf, (d,), f32),
            }
        )
        self._dict_space = obs_space
        act_shape = (d * _ACTION_COLS,) if self.flat_spaces else (d, _ACTION_COLS)
        if self.flat_spaces:
            obs_space = gymnasium.spaces.flatten_space(obs_space)
        # One space object per agent, built once (PettingZoo requires the same object).
        self._obs_spaces = {a: obs_space for a in self.possible_agents}
        self._act_spaces = {
            a: gymnasium.spaces.Box(-1.0, 1.0, act_shape, f32) for a in self.possible_agents
        }
        n_state = d * p * 2 + d + 2 * self._n * d
        self.state_space = gymnasium.spaces.Box(-np.inf, np.inf, (n_state,), f32)
        # Price bin k covers [floor + k (cap - floor) / P, floor + (k + 1) (cap - floor) / P).
        ticks = np.arange(self._n_ticks)
        self._bin_of_tick = np.minimum(ticks * p // max(self._n_ticks - 1, 1), p - 1)
        self._done = True
        self.np_random, _ = seeding.np_random(None)

    def observation_space(self, agent: str) -> gymnasium.spaces.Space:
        """The (shared, cached) observation space of ``agent``."""
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> gymnasium.spaces.Space:
        """The (cached) action space of ``agent``: ``Box(-1, 1, (D, 6))`` (flat: ``(D*6,)``)."""
        return self._act_spaces[agent]

    def _gate(self, h: int) -> int:
        return (h + self._d) * self._iph - self._lead

    def _rows(self) -> list[int]:
        """Delivery hour in each row d at the current interval, -1 when not open."""
        h0 = (self._t + self._lead) // self._iph - self._d + 1
        return [h if h in self._books else -1 for h in range(h0, h0 + self._d)]

    def _open_books(self) -> None:
        if self._t % self._iph == 0 and self._t // self._iph < self._h:
            h = self._t // self._iph
            self._books[h] = OrderBook(
                h, self._grid, opening_auction=self.config.market.opening_auction
            )
            self._seen[h] = 0

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, dict[str, NDArray[np.float32]]], dict[str, dict[str, Any]]]:
        """Start an episode; draws the prosumers' load and PV from the env's Generator."""
        if seed is not None or not hasattr(self, "_t"):
            self.np_random, _ = seeding.np_random(seed)
        rng, pc, n, hours = self.np_random, self.config.prosumers, self._n, self._h
        hod = (self.config.start_hour + np.arange(hours)) % 24
        load_shape = 0.75 + 0.25 * np.sin(2 * np.pi * (hod - 13) / 24) ** 2  # evening-heavy
        solar = np.clip(np.sin(np.pi * (hod - 6) / 12), 0.0, None) * rng.uniform(0.5, 1.0, hours)
        load = rng.uniform(pc.load_mw_low, pc.load_mw_high, (n, 1))
        pv = rng.uniform(pc.pv_peak_mw_low, pc.pv_peak_mw_high, (n, 1))
        self._need_mw = load * load_shape - pv * solar  # (N, H) nominal net load, MW
        noise = rng.normal(0.0, pc.forecast_error_std, (n, hours)) * (load + pv)
        self._realised_mw = self._need_mw + noise  # (N, H), never observed before delivery
        self._res_lots = np.zeros((n, hours), dtype=np.int64)
        self._books: dict[int, OrderBook] = {}
        self._seen: dict[int, int] = {}
        self._closed_trades: list[Trades] = []
        self._closed_orders: list[dict[str, NDArray[np.int64]]] = []
        self._settled = np.zeros((n, hours), dtype=np.float64)
        self._t = 0
        self._done = False
        self.agents = list(self.possible_agents)
        self._open_books()
        obs = self._observe()
        if self.render_mode == "human":
            self.render()
        # The step's keys with zeros, so that libraries sizing buffers at reset keep them all.
        zero = {k: 0 if k in ("t", "n_clipped", "n_trades") else 0.0 for k in INFO_KEYS}
        return obs, {a: dict(zero) for a in self.agents}

    def _decode(self, agent: str, action: Any) -> tuple[NDArray[np.float64], int]:
        try:
            a = np.asarray(action)
        except (TypeError, ValueError) as exc:
            raise ActionError(f"action of {agent} is not an array: {exc}") from None
        space = self._act_spaces[agent]
        if a.dtype.kind != "f" or a.shape != space.shape:
            raise ActionError(
                f"action of {agent} has shape {a.shape} and dtype {a.dtype}; expected {space} "
                f"(D={self._d} rows x {_ACTION_COLS} columns, floats in [-1, 1])"
            )
        if not np.all(np.isfinite(a)):
            raise ActionError(f"action of {agent} contains NaN or inf; expected {space}")
        # The flat action is the (D, 6) action read row-major; decode it back.
        a = a.astype(np.float64).reshape(self._d, _ACTION_COLS)
        n_clipped = int(np.count_nonzero((a < -1.0) | (a > 1.0)))
        return np.clip(a, -1.0, 1.0), n_clipped

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        """Submit every agent's orders for interval t, run the exchange, settle deliveries."""
        if self._done:
            raise EpisodeOverError(f"{ENV_ID}: the episode is over; call reset() before step()")
        unknown = sorted(set(actions) - set(self.agents))
        if unknown:
            raise ActionError(f"actions for unknown agent(s) {unknown}; live agents: {self.agents}")
        decoded = {a: self._decode(a, act) for a, act in actions.items()}
        m, t, rows = self.config.market, self._t, self._rows()
        span = m.price_cap_eur_per_mwh - m.price_floor_eur_per_mwh
        scale = m.max_order_mw / m.lot_mw
        for i in self.np_random.permutation(self._n):
            agent = self.possible_agents[i]
            if agent not in decoded:
                continue
            a = decoded[agent][0]
            qty = np.floor(np.maximum(a[:, [1, 3]], 0.0) * scale + 1e-4).astype(np.int64).tolist()
            px = np.rint((a[:, [2, 4]] + 1.0) * 0.5 * span / m.tick_eur_per_mwh).astype(np.int64)
            px = np.minimum(px, self._n_ticks - 1).tolist()
            cancel, mkt = (a[:, 0] > 0).tolist(), (a[:, 5] > 0).tolist()
            for d, h in enumerate(rows):
                if h < 0:
                    continue
                book = self._books[h]
                if cancel[d]:
                    book.cancel_owner(i)
                for k, side in ((0, BUY), (1, SELL)):
                    if qty[d][k] > 0:
                        if mkt[d]:
                            book.market(i, side, qty[d][k], t)
                        else:
                            book.limit(i, side, px[d][k], qty[d][k], t)
        return self._advance(decoded)

    def _advance(self, decoded: dict[str, tuple[NDArray[np.float64], int]]) -> tuple:
        t, n = self._t, self._n
        cash = np.zeros(n)
        n_trades = np.zeros(n, dtype=np.int64)
        for h, book in list(self._books.items()):
            if t == h * self._iph and book.phase == 0:  # end of the opening call
                book.open(t)
            new = book.trades(self._seen[h])
            self._seen[h] = book.n_trades
            if len(new):
                value = new.price_eur_per_mwh * new.qty_mw
                lots = np.rint(new.qty_mw / self._grid.lot_mw).astype(np.int64)
                np.add.at(cash, new.seller, value)
                np.add.at(cash, new.buyer, -value)
                np.add.at(self._res_lots[:, h], new.buyer, lots)
                np.add.at(self._res_lots[:, h], new.seller, -lots)
                np.add.at(n_trades, new.buyer, 1)
                np.add.at(n_trades, new.seller, 1)
            if self._gate(h) == t + 1:  # gate closure: nothing trades from t + 1 on
                book.close()
                self._closed_trades.append(book.trades())
                self._closed_orders.append(book.orders())
                del self._books[h]
        settle, imbalance, unserved = np.zeros(n), np.zeros(n), np.zeros(n)
        if (t + 1) % self._iph == 0 and 0 <= (t + 1) // self._iph - self._d - 1 < self._h:
            h = (t + 1) // self._iph - self._d - 1
            s = self.config.settlement
            imbalance = self._realised_mw[:, h] - self._res_lots[:, h] * self._grid.lot_mw
            short, long = np.maximum(imbalance, 0.0), np.maximum(-imbalance, 0.0)
            if s.no_reservation_no_service:
                unserved = short
                settle = -s.voll_eur_per_mwh * short
            else:
                settle = (
                    -s.imbalance_short_eur_per_mwh * short + s.imbalance_long_eur_per_mwh * long
                )
            self._settled[:, h] = settle
        self._t = t = t + 1
        self._done = t >= self.config.n_steps
        # max_cycles is a time limit: agents are truncated, not terminated.
        cut = not self._done and self.max_cycles is not None and t >= self.max_cycles
        if not self._done:
            self._open_books()
        reward = cash + settle
        agents = list(self.agents)
        obs = self._observe()
        rewards = {a: float(reward[i]) for i, a in enumerate(agents)}
        terms = dict.fromkeys(agents, self._done)
        truncs = dict.fromkeys(agents, cut)
        infos = {
            a: {
                "t": t,
                "n_clipped": decoded[a][1] if a in decoded else 0,
                "trade_cash_eur": float(cash[i]),
                "settlement_eur": float(settle[i]),
                "imbalance_mwh": float(imbalance[i]),
                "unserved_mwh": float(unserved[i]),
                "n_trades": int(n_trades[i]),
            }
            for i, a in enumerate(agents)
        }
        if self._done or cut:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return obs, rewards, terms, truncs, infos

    def _market_view(self) -> dict[str, NDArray[np.float32]]:
        """Public part of the observation, computed once per step for all agents."""
        d, p = self._d, self.config.market.price_bins
        lot, grid = self._grid.lot_mw, self._grid
        lob = np.zeros((d, p, 2))
        best = np.tile([grid.price_floor_eur_per_mwh, grid.price_cap_eur_per_mwh], (d, 1))
        ttg = np.zeros(d)
        for r, h in enumerate(self._rows()):
            if h < 0:
                continue
            book = self._books[h]
            ttg[r] = self._gate(h) - self._t
            for k, side in ((0, BUY), (1, SELL)):
                ticks, lots = book.levels(side)
                if ticks.size:
                    lob[r, :, k] = np.bincount(self._bin_of_tick[ticks], lots, minlength=p) * lot
                    best[r, k] = grid.price(ticks[0])
        return {
            "lob": lob.astype(np.float32),
            "best_price": best.astype(np.float32),
            "depth": lob.sum(axis=1).astype(np.float32),
            "time_to_gate": ttg.astype(np.float32),
        }

    def _private(self, i: int, rows: list[int]) -> dict[str, NDArray[np.float32]]:
        d, lot = self._d, self._grid.lot_mw
        own, res, need = np.zeros((d, 2)), np.zeros(d), np.zeros(d)
        for r, h in enumerate(rows):
            if h < 0:
                continue
            own[r] = self._books[h].open_lots(i)
            res[r] = self._res_lots[i, h]
            need[r] = self._need_mw[i, h]
        return {
            "own_orders": (own * lot).astype(np.float32),
            "reservation": (res * lot).astype(np.float32),
            "need": need.astype(np.float32),
        }

    def _observe(self) -> dict[str, Any]:
        public = self._market_view()
        rows = self._rows() if not self._done else [-1] * self._d
        obs = {
            a: {**public, **self._private(i, rows)}
            for i, a in enumerate(self.possible_agents)
            if a in self.agents
        }
        if self.flat_spaces:
            flat = gymnasium.spaces.flatten
            # A Dict of Boxes flattens to one array, never to a dict or tuple.
            return {
                a: cast("NDArray[Any]", flat(self._dict_space, o)).astype(np.float32)
                for a, o in obs.items()
            }
        return obs

    def render(self) -> str | None:
        """``ansi``: the interval and each open book's best bid / ask (EUR/MWh) and depth
        (MW) as one line; ``human``: print it (each ``reset``/``step`` does) and return None."""
        if self.render_mode is None or not hasattr(self, "_t"):
            return None
        view = self._market_view()
        books = [
            f"h{h}: {view['best_price'][r, 0]:.1f}/{view['best_price'][r, 1]:.1f} EUR/MWh "
            f"{view['depth'][r, 0]:.1f}/{view['depth'][r, 1]:.1f} MW"
            for r, h in enumerate(self._rows())
            if h >= 0 and not self._done
        ]
        line = f"t={self._t:4d} " + (" | ".join(books) or "no open book")
        if self.render_mode == "human":
            print(line)
            return None
        return line

    def state(self) -> NDArray[np.float32]:
        """Global state for a centralised critic: LOB-3D, time to gate, every agent's
        reservation and need per row, flattened (``state_space``)."""
        public = self._market_view()
        rows = self._rows()
        private = [self._private(i, rows) for i in range(self._n)]
        parts = [public["lob"].ravel(), public["time_to_gate"]]
        parts += [p["reservation"] for p in private] + [p["need"] for p in private]
        return np.concatenate(parts).astype(np.float32)

    def trades(self) -> Trades:
        """Every trade of the episode so far (closed books first, then open ones)."""
        return Trades.concat(self._closed_trades + [b.trades() for b in self._books.values()])

    def orders(self) -> dict[str, NDArray[np.int64]]:
        """Every order of the episode so far as (O,) int64 columns: ``delivery_hour``,
        ``order_id`` (the id in ``trades().buy_order``/``sell_order``), ``owner``, ``side``,
        ``tick`` (price = floor + tick x tick size; market orders at the cap or floor),
        ``lots`` (x ``lot_mw`` = MW), ``remaining``, ``status``, ``market``."""
        tables = self._closed_orders + [b.orders() for b in self._books.values()]
        keys = (
            "delivery_hour",
            "order_id",
            "owner",
            "side",
            "tick",
            "lots",
            "remaining",
            "status",
            "market",
        )
        return {
            k: np.concatenate([t[k] for t in tables]) if tables else np.zeros(0, np.int64)
            for k in keys
        }

    def reservations_mw(self) -> NDArray[np.float64]:
        """(N, H) net reservation per agent and delivery hour, MW."""
        # int64 lots times a float lot size: float64 (numpy stubs say floating[Any]).
        return cast("NDArray[np.float64]", self._res_lots * self._grid.lot_mw)

    def realised_mw(self) -> NDArray[np.float64]:
        """(N, H) realised net load, MW (known to the env; agents see it only via settlement)."""
        return self._realised_mw.copy()

    def close(self) -> None:
        """Nothing to release."""


def parallel_env(
    scenario: str | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    render_mode: str | None = None,
    max_cycles: int | None = None,
    flat_spaces: bool = False,
    info_format: str = "flat",
    **fields: Any,
) -> ReservationExchangeEnv:
    """The PettingZoo ``ParallelEnv`` (PettingZoo's module convention).

    Args:
        scenario: scenario name, YAML path, or None for the code defaults.
        overrides: dotted-path overrides, e.g. ``{"settlement.no_reservation_no_service": True}``.
        render_mode: None, ``"ansi"`` or ``"human"`` (module docstring, "Rendering").
        max_cycles: truncate every agent after this many trading intervals; None: T.
        flat_spaces: flat observation and action Boxes (module docstring, "Flat spaces").
        info_format: ``"flat"`` or ``"nested"`` (identical here: the infos are flat).
        **fields: top-level config fields, e.g. ``hours=12``.

    Raises:
        ConfigError: unknown key or bad value.
        ValueError: bad ``render_mode``, ``max_cycles`` or ``info_format``.
    """
    return ReservationExchangeEnv(
        load_config(scenario, overrides, **fields),
        render_mode=render_mode,
        max_cycles=max_cycles,
        flat_spaces=flat_spaces,
        info_format=info_format,
    )


def raw_env(scenario: str | None = None, **kwargs: Any) -> Any:
    """The AEC view of :func:`parallel_env` (same arguments), without wrappers."""
    return parallel_to_aec_wrapper(parallel_env(scenario, **kwargs))


def env(scenario: str | None = None, **kwargs: Any) -> Any:
    """The AEC env (PettingZoo's ``env()``): :func:`raw_env` with order enforcing; the env
    clips and counts out-of-bounds actions itself, so no clipping wrapper."""
    return OrderEnforcingWrapper(raw_env(scenario, **kwargs))


def make_env(scenario: str | None = None, *, api: str = "parallel", **kwargs: Any) -> Any:
    """Build ``reservation_exchange_v0`` (``api="parallel"``) or its AEC view (``"aec"``);
    the other arguments are those of :func:`parallel_env`.

    Raises:
        ValueError: unknown ``api``.
        ConfigError: unknown key or bad value.
    """
    if api not in ("parallel", "aec"):
        raise ValueError(f"api={api!r} is not supported; expected 'parallel' or 'aec'")
    return env(scenario, **kwargs) if api == "aec" else parallel_env(scenario, **kwargs)
