"""Bilateral PPA negotiation between a coalition (CEC) and an opponent (seed paper 002).

Pure logic, no PettingZoo: config (:mod:`.config`), concession tactics (:mod:`.tactics`),
members' votes and team strategies (:mod:`.team`), the alternating-offers protocol
(:mod:`.protocol`) and the Table-1 cost report plus the PPA contract (:mod:`.report`).
The env adapter is :mod:`envs.ppa_negotiation_v0`.
"""

from envs.negotiation.config import (
    SEATS,
    MembersConfig,
    NegotiationConfig,
    PartyConfig,
    TariffConfig,
    agent_id,
    seat_of,
)
from envs.negotiation.protocol import (
    Move,
    Negotiation,
    NegotiationResult,
    Offer,
    new_negotiation,
    run_negotiation,
)
from envs.negotiation.report import CostRow, PpaContract, contract_from_result, cost_report
from envs.negotiation.tactics import TACTICS, concession_price
from envs.negotiation.team import Members, TeamDecision, decide, member_costs, rule_passes

__all__ = [
    "SEATS",
    "TACTICS",
    "CostRow",
    "Members",
    "MembersConfig",
    "Move",
    "Negotiation",
    "NegotiationConfig",
    "NegotiationResult",
    "Offer",
    "PartyConfig",
    "PpaContract",
    "TariffConfig",
    "TeamDecision",
    "agent_id",
    "concession_price",
    "contract_from_result",
    "cost_report",
    "decide",
    "member_costs",
    "new_negotiation",
    "rule_passes",
    "run_negotiation",
    "seat_of",
]
