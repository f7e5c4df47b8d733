"""The ledger: every step's cash and energy flows by market and participant (DESIGN §7).

Flows are written into preallocated arrays during the episode (T, E, M, P); the
pandas DataFrame is built only when :meth:`Ledger.frame` is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from envs.market.settlement import MARKETS

if TYPE_CHECKING:
    from envs.core import MarketCore

COLUMNS = ("step", "market", "participant", "energy_mwh", "reserve_mw", "capacity_mw", "cash_eur")


class Ledger:
    """Preallocated per-step flows of a :class:`~envs.core.MarketCore`.

    Args:
        core: the simulator whose flows are recorded.
        enabled: record flows (disabled ledgers keep nothing and cost nothing).
    """

    def __init__(self, core: MarketCore, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.participants = core.participants
        self.n_members = core.N
        shape = (core.T, core.E, len(MARKETS), len(core.participants))
        if enabled:
            self.energy = np.zeros(shape)
            self.reserve = np.zeros(shape)
            self.capacity = np.zeros(shape)
            self.cash = np.zeros(shape)
            self.bill_cf = np.zeros((core.T, core.E, core.N))
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
        self._require()
        n = self.steps
        arrays = [a[:n, env_index] for a in (self.energy, self.reserve, self.capacity, self.cash)]
        step, market, part = np.meshgrid(
            np.arange(n), np.arange(len(MARKETS)), np.arange(len(self.participants)), indexing="ij"
        )
        keep = np.any([np.abs(a) > 0.0 for a in arrays], axis=0)
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
