"""Settlement bookkeeping: markets, participants and the per-step flow matrices.

Dims: E envs, M markets, P participants. Every flow is (E, M, P): energy in MWh
(+ = delivered/sold, - = taken/bought), cash in EUR (+ = received), reserve and
capacity in MW held. Per step and market, energy and cash each sum to zero over
participants (the market operator's surplus is a participant, DESIGN §7).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

#: Markets of the ledger, in column order of the flow matrices.
MARKETS: tuple[str, ...] = (
    "spot",
    "reserve",
    "capacity",
    "balancing",
    "imbalance",
    "network",
    "ppa",
    "allocation",
)
M_SPOT, M_RESERVE, M_CAPACITY, M_BALANCING, M_IMBALANCE, M_NETWORK, M_PPA, M_ALLOCATION = range(
    len(MARKETS)
)

#: Non-agent participants appended after incumbents, coalition and members.
OTHER_PARTICIPANTS: tuple[str, ...] = (
    "background_load",
    "system_renewables",
    "market_operator",
    "network_operator",
    "ppa_seller",
)


def participants(n_generators: int, n_members: int) -> tuple[str, ...]:
    """Participant names in flow-matrix order: incumbents, coalition, members, others."""
    return (
        *(f"incumbent_{g}" for g in range(n_generators)),
        "coalition",
        *(f"member_{i}" for i in range(n_members)),
        *OTHER_PARTICIPANTS,
    )


class Columns:
    """Index helpers for the participant axis of the flow matrices."""

    def __init__(self, n_generators: int, n_members: int) -> None:
        self.gens = slice(0, n_generators)
        self.coalition = n_generators
        self.members = slice(n_generators + 1, n_generators + 1 + n_members)
        base = n_generators + 1 + n_members
        self.background, self.renewables, self.operator, self.network = (
            base,
            base + 1,
            base + 2,
            base + 3,
        )
        self.ppa_seller = base + 4
        self.size = base + 5
