"""The exploit audit's library of simple deviations (``python -m evaluation.audit``).

A deviation is what a trader would try against a market rule: it takes the coalition's
action from a reference policy (``rule``, ``mpc``) and changes one decision, in the
coalition's action layout (:mod:`envs.actors.coalition`: ``q``, ``p`` spot; ``r``, ``rp``
reserve; ``c``, ``cp`` capacity). If the members save more with the deviation than with
the reference, the market model pays for the trick; a real market would pay it only if
its rules allow it, and :attr:`Deviation.rule` names the rule each one probes.

A new deviation is one small class: a ``name``, the ``rule`` it probes, and ``apply``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from envs.actors.coalition import slots
from envs.adapters.parallel import COALITION_ID
from envs.errors import UnknownNameError

__all__ = ["DEVIATIONS", "DeviatingPolicy", "Deviation", "Slots", "deviation"]


@dataclass(frozen=True)
class Slots:
    """Where the coalition's decisions sit in its action vector, and their scales.

    Attributes:
        index: slot name -> entry of the action vector (only the open markets' slots).
        q_max_mw: MW of a spot quantity entry of 1.
    """

    index: dict[str, int]
    q_max_mw: float

    @classmethod
    def of(cls, env: Any) -> Slots:
        """The slots of a ``multimarket_v1``/``spot_v1`` env (read from its core)."""
        core = env.unwrapped.core if hasattr(env, "unwrapped") else env.core
        lay = core.layout
        names = slots(lay.reserve, lay.capacity, lay.drives_members)
        return cls({n: i for i, n in enumerate(names)}, float(core.coalition.q_max_mw))


class Deviation:
    """One simple deviation from a reference policy's coalition action."""

    #: Short id used on the command line and in the tables.
    name: ClassVar[str] = ""
    #: The market rule that pays for the deviation if it gains.
    rule: ClassVar[str] = ""

    def apply(self, action: np.ndarray, at: Slots) -> np.ndarray:
        """The deviating action (a modified copy of ``action``, inside [-1, 1])."""
        raise NotImplementedError

    def applies(self, at: Slots) -> bool:
        """Whether the deviation has anything to change in this layout."""
        return True


class _SpotShift(Deviation):
    """Bid ``mw`` MW less (``mw < 0``: more) day-ahead than the reference; the members'
    metered position is unchanged, so the difference settles at the imbalance price."""

    mw: ClassVar[float]
    rule: ClassVar[str] = (
        "day-ahead against imbalance price: a short coalition buys in real time at the "
        "imbalance price, which must carry the day-ahead scarcity value"
    )

    def apply(self, action: np.ndarray, at: Slots) -> np.ndarray:
        out = action.copy()
        out[at.index["q"]] -= self.mw / at.q_max_mw
        return np.clip(out, -1.0, 1.0)


class UnderBuy5(_SpotShift):
    """Under-buy day-ahead by 5 MW."""

    name = "underbuy_5mw"
    mw = 5.0


class UnderBuy10(_SpotShift):
    """Under-buy day-ahead by 10 MW."""

    name = "underbuy_10mw"
    mw = 10.0


class OverBuy10(_SpotShift):
    """Over-buy day-ahead by 10 MW (sell the surplus back at the imbalance price)."""

    name = "overbuy_10mw"
    mw = -10.0


class NoDayAhead(Deviation):
    """Deliberate imbalance: buy and sell nothing day-ahead, everything in real time."""

    name = "no_day_ahead"
    rule = "imbalance settlement: the whole position settled at the imbalance price"

    def apply(self, action: np.ndarray, at: Slots) -> np.ndarray:
        out = action.copy()
        out[at.index["q"]] = 0.0
        return out


class _CapacityOffer(Deviation):
    """Offer all the coalition's firm capacity in the capacity auction at the price entry
    ``cp`` (``-1``: 0 EUR/MW-day, ``+1``: the capacity price cap)."""

    cp: ClassVar[float]

    def applies(self, at: Slots) -> bool:
        return "c" in at.index

    def apply(self, action: np.ndarray, at: Slots) -> np.ndarray:
        out = action.copy()
        out[at.index["c"]], out[at.index["cp"]] = 1.0, self.cp
        return out


class CapacityAtZero(_CapacityOffer):
    """Offer all the coalition's firm capacity at 0 EUR/MW-day in the capacity auction."""

    name = "capacity_at_zero"
    rule = (
        "capacity auction: a net buyer offering at 0 suppresses the clearing price it pays "
        "as a consumer (buyer-side market power)"
    )
    cp = -1.0


class CapacityAtCap(_CapacityOffer):
    """Offer all the coalition's firm capacity at the capacity price cap."""

    name = "capacity_at_cap"
    rule = "capacity auction: an offer at the cap sets or raises the clearing price"
    cp = 1.0


class ReserveOverOffer(Deviation):
    """Offer all the members' battery power as reserve at 0 EUR/MW, whatever it can
    deliver this hour."""

    name = "reserve_over_offer"
    rule = "reserve: awards paid on offered MW, non-delivery charged only when activated"

    def applies(self, at: Slots) -> bool:
        return "r" in at.index

    def apply(self, action: np.ndarray, at: Slots) -> np.ndarray:
        out = action.copy()
        out[at.index["r"]], out[at.index["rp"]] = 1.0, -1.0
        return out


#: The audit's deviations, by name.
DEVIATIONS: dict[str, type[Deviation]] = {
    cls.name: cls
    for cls in (
        UnderBuy5,
        UnderBuy10,
        OverBuy10,
        NoDayAhead,
        CapacityAtZero,
        CapacityAtCap,
        ReserveOverOffer,
    )
}


def deviation(name: str) -> Deviation:
    """The deviation called ``name``.

    Raises:
        UnknownNameError: unknown name (the message lists the known ones).
    """
    if name not in DEVIATIONS:
        raise UnknownNameError(
            f"unknown deviation {name!r}; expected one of {', '.join(DEVIATIONS)}"
        )
    return DEVIATIONS[name]()


class DeviatingPolicy:
    """A reference policy whose coalition action goes through a :class:`Deviation`."""

    def __init__(self, reference: Any, dev: Deviation) -> None:
        self.reference, self.dev = reference, dev
        self.at: Slots | None = None

    @property
    def controls(self) -> list[str]:
        """The reference's agents."""
        return list(self.reference.controls)

    def reset(self, env: Any, seed: int | None = None) -> None:
        """Reset the reference and read the coalition's action layout."""
        self.reference.reset(env, seed=seed)
        self.at = Slots.of(env)

    def act(self, observations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The reference's actions with the coalition's deviated."""
        actions = dict(self.reference.act(observations))
        if COALITION_ID in actions and self.at is not None:
            a = np.asarray(actions[COALITION_ID], dtype=np.float32)
            actions[COALITION_ID] = self.dev.apply(a, self.at).astype(np.float32)
        return actions
