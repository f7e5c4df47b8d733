"""The ledger: every step's cash and energy flows by market and participant (DESIGN §7).

Flows are written into preallocated arrays during the episode (T, E, M, P); the
pandas DataFrame is built only when :meth:`Ledger.frame` is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from envs.market.settlement import MARKETS

if TYPE_CHECKING:  # imported by the methods that build frames, not with the env (~0.2 s)
    import pandas as pd

    from envs.actors.fleet import FleetArrays
    from envs.actors.members import MemberArrays
    from envs.config.scenario import ScenarioConfig
    from envs.sim.draw import Episode

COLUMNS = ("step", "market", "participant", "energy_mwh", "reserve_mw", "capacity_mw", "cash_eur")


class Ledger:
    """Preallocated per-step flows of a simulator (:class:`~envs.sim.core.MarketCore`).

    Args:
        participants: names of the flow matrices' participant axis (P).
        hours: T; num_envs: E; n_members: N.
        enabled: record flows (disabled ledgers keep nothing and cost nothing).
    """

    def __init__(self, participants: tuple[str, ...], *, hours: int, num_envs: int,
                 n_members: int, enabled: bool = True) -> None:  # fmt: skip
        self.enabled = enabled
        self.participants = participants
        self.n_members = n_members
        shape = (hours, num_envs, len(MARKETS), len(participants))
        if enabled:
            self.energy = np.zeros(shape)
            self.reserve = np.zeros(shape)
            self.capacity = np.zeros(shape)
            self.cash = np.zeros(shape)
            self.bill_cf = np.zeros((hours, num_envs, n_members))
        self.steps = 0

    def clear(self) -> None:
        """Forget the recorded episode (called by reset)."""
        self.steps = 0

    def record(
        self,
        t: int,
        energy: np.ndarray,
        reserve: np.ndarray,
        capacity: np.ndarray,
        cash: np.ndarray,
        bill_cf: np.ndarray,
    ) -> None:
        """Store step ``t``'s (E, M, P) flows and (E, N) counterfactual bills."""
        if not self.enabled:
            return
        self.energy[t], self.reserve[t], self.capacity[t], self.cash[t] = (
            energy,
            reserve,
            capacity,
            cash,
        )
        self.bill_cf[t] = bill_cf
        self.steps = t + 1

    def _require(self) -> None:
        if not self.enabled:
            raise RuntimeError(
                "this simulator was built with record_ledger=False; the ledger is not kept"
            )

    def frame(self, env_index: int = 0) -> pd.DataFrame:
        """One row per non-zero flow: step, market, participant, energy_mwh, reserve_mw,
        capacity_mw, cash_eur (+ = received). Per step and market, energy_mwh and cash_eur
        each sum to zero."""
        import pandas as pd

        self._require()
        n = self.steps
        arrays = [a[:n, env_index] for a in (self.energy, self.reserve, self.capacity, self.cash)]
        step, market, part = np.meshgrid(
            np.arange(n), np.arange(len(MARKETS)), np.arange(len(self.participants)), indexing="ij"
        )
        # A NaN flow is kept (never dropped as if it were zero), so sums show it.
        keep = np.any([(np.abs(a) > 0.0) | np.isnan(a) for a in arrays], axis=0)
        return pd.DataFrame(
            {
                "step": step[keep],
                "market": np.array(MARKETS, dtype=object)[market[keep]],
                "participant": np.array(self.participants, dtype=object)[part[keep]],
                "energy_mwh": arrays[0][keep],
                "reserve_mw": arrays[1][keep],
                "capacity_mw": arrays[2][keep],
                "cash_eur": arrays[3][keep],
            }
        )

    def counterfactual(self, env_index: int = 0) -> pd.DataFrame:
        """What each member would pay alone each step: columns step, member, bill_eur."""
        import pandas as pd

        self._require()
        n = self.steps
        bills = self.bill_cf[:n, env_index]
        step, member = np.meshgrid(np.arange(n), np.arange(self.n_members), indexing="ij")
        return pd.DataFrame(
            {
                "step": step.ravel(),
                "member": np.array([f"member_{i}" for i in range(self.n_members)], dtype=object)[
                    member.ravel()
                ],
                "bill_eur": bills.ravel(),
            }
        )


def member_savings(ledger: pd.DataFrame, counterfactual: pd.DataFrame) -> pd.DataFrame:
    """Each member's bill alone, its cost in the coalition and its saving, EUR.

    The saving is the README's equation, per member: what it would pay alone
    (``sum_t bill_eur``) plus its allocation cash (the coalition's share-out; negative
    when the member pays), i.e. ``alone - cost`` with ``cost = -allocation cash``.

    Args:
        ledger: the episode ledger.
        counterfactual: ``env.counterfactual_bills()`` (T x N rows).

    Returns:
        (N,) rows indexed by member id, columns ``alone_eur``, ``cost_eur``, ``saving_eur``.

    >>> import pandas as pd
    >>> led = pd.DataFrame({"step": [0, 0, 0], "market": ["allocation"] * 3,
    ...     "participant": ["member_0", "member_1", "coalition"], "cash_eur": [-3.0, 1.0, 2.0]})
    >>> cf = pd.DataFrame({"step": [0, 0], "member": ["member_0", "member_1"],
    ...     "bill_eur": [5.0, 0.0]})
    >>> member_savings(led, cf).saving_eur.tolist()
    [2.0, 1.0]
    """
    import pandas as pd

    alone = counterfactual.groupby("member", sort=False).bill_eur.sum()
    alloc = ledger[(ledger.market == "allocation") & ledger.participant.isin(alone.index)]
    cash = alloc.groupby("participant").cash_eur.sum().reindex(alone.index, fill_value=0.0)
    out = pd.DataFrame({"alone_eur": alone, "cost_eur": -cash})
    out["saving_eur"] = out.alone_eur - out.cost_eur
    out.index.name = "member"
    return out


class Simulated(Protocol):
    """What :func:`flow_bound_eur` reads of a simulator (a
    :class:`~envs.sim.core.MarketCore` after ``reset``; named by what it has, since the
    core imports this module)."""

    cfg: ScenarioConfig
    fleet: FleetArrays
    members: MemberArrays
    episode: Episode


def flow_bound_eur(core: Simulated) -> float:
    """The largest cash flow any participant can have in any market in one step of the
    episode ``core`` has drawn (:class:`Simulated`), EUR.

    Every flow is a price times a quantity, and both are bounded by the config: the
    quantity by the MW that can move in an hour (the fleet's capacity, the background's
    and the members' largest load, the system's and the members' renewables, the PPA and
    the members' batteries, each at its largest over the episode's profiles), the price
    by the dearest rate any rule applies (the spot cap or floor, the reserve scarcity
    price, its non-delivery penalty, the capacity Non-Performance Charge Rate, the
    network charge and taxes, the capacity price per hour). The allocation market passes
    on the coalition's result over every other market, hence the factor of the number of
    markets. A flow above this bound is a bug (the hypothesis test of extreme actions
    checks it, ``tests/envs/test_bounded_money.py``).
    """
    cfg, fleet, m, ep = core.cfg, core.fleet, core.members, core.episode
    mw = (
        float(fleet.capacity_mw.sum())
        + float(ep.sys_load.max()) + float(ep.sys_ren.max()) + float(ep.ppa_mw.max())
        + float(ep.load.sum(-1).max()) + float(ep.ren.sum(-1).max())
        + float(m.battery_mw.sum() + m.flex_mw.sum())
    )  # fmt: skip
    sp, rc, cc, tf = cfg.spot, cfg.reserve, cfg.capacity, cfg.tariff
    price = max(
        sp.price_cap_eur_per_mwh,
        abs(sp.price_floor_eur_per_mwh),
        rc.scarcity_price_eur_per_mw + sp.price_cap_eur_per_mwh,
        rc.non_delivery_penalty_eur_per_mwh,
        cc.non_performance_rate_eur_per_mwh,
        cc.price_cap_eur_per_mw_day / 24.0,
        tf.network_eur_per_mwh + tf.taxes_eur_per_mwh + tf.margin_eur_per_mwh,
        cfg.ppa.price_eur_per_mwh,
    )
    return len(MARKETS) * mw * price
