"""Alternating-offers protocol between the coalition's mediator and an opponent (§3.2-§3.4).

The mediator first tells the opponent the coalition's need and asks for a price (§4.2),
then the parties alternate: the party to move accepts the standing offer, counters with a
new one, or withdraws. Each party may make at most ``deadline_proposals`` proposals; a
party that must counter past its deadline ends the negotiation without agreement
(``outcome = "deadline"``). On the mediator's turn the team decides by its strategy
(:func:`envs.negotiation.team.decide`): the members vote on the opponent's offer against
the mediator's counter-offer.

Scripted parties use their concession tactic and the "accept if the offer is at least as
good as my next proposal" criterion (Faratin et al. [76]); at their deadline they accept
anything within their limit. A scripted party withdraws when it has conceded to within
``WITHDRAW_GAP_EUR_PER_MWH`` of its limit and the standing offer is still beyond it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from envs.negotiation.config import SEATS, NegotiationConfig, PartyConfig
from envs.negotiation.tactics import concession_price
from envs.negotiation.team import Members, decide, draw_members

__all__ = [
    "WITHDRAW_GAP_EUR_PER_MWH",
    "Move",
    "Negotiation",
    "NegotiationResult",
    "Offer",
    "new_negotiation",
    "run_negotiation",
    "scripted_move",
    "tactic_offer",
]

WITHDRAW_GAP_EUR_PER_MWH = 0.01
Decision = Literal["accept", "counter", "withdraw"]


@dataclass(frozen=True, slots=True)
class Offer:
    """One proposal: who made it, its number among that party's proposals (1-based)."""

    party: str
    number: int
    price_eur_per_mwh: float
    volume_mw: float


@dataclass(frozen=True, slots=True)
class Move:
    """A move: ``accept`` the standing offer, ``counter`` (price, volume) or ``withdraw``."""

    decision: Decision
    price_eur_per_mwh: float = float("nan")
    volume_mw: float = float("nan")


@dataclass(frozen=True, slots=True)
class NegotiationResult:
    """The end of a negotiation (``outcome`` agreement, withdrawn or deadline)."""

    outcome: str
    agreed_price_eur_per_mwh: float | None
    agreed_volume_mw: float | None
    accepted_proposal: int | None
    accepted_by: str | None
    offered_by: str | None
    withdrawn_by: str | None
    messages: dict[str, int]
    history: tuple[Offer, ...]
    yes_shares: tuple[float, ...]


@dataclass
class Negotiation:
    """Mutable protocol state for one episode; the env holds one."""

    config: NegotiationConfig
    members: Members
    turn: str = ""
    history: list[Offer] = field(default_factory=list)
    proposals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEATS, 0))
    standing: Offer | None = None
    outcome: str | None = None
    accepted: Offer | None = None
    accepted_by: str | None = None
    withdrawn_by: str | None = None
    party_messages: int = 1  # the mediator's call for proposals with the need (§4.2)
    team_messages: int = 0
    yes_shares: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Give the first turn to the config's ``first_mover`` unless ``turn`` was set."""
        if not self.turn:
            self.turn = self.config.first_mover

    @property
    def done(self) -> bool:
        """Whether the negotiation has ended."""
        return self.outcome is not None

    def other(self, party: str) -> str:
        """The other seat."""
        return SEATS[1 - SEATS.index(party)]

    def at_deadline(self, party: str) -> bool:
        """Whether ``party`` has used all its proposals."""
        return self.proposals[party] >= getattr(self.config, party).deadline_proposals

    def tactic_offer(self, party: str) -> tuple[float, float]:
        """The party's next proposal by its configured tactic (price EUR/MWh, volume MW)."""
        cfg = getattr(self.config, party)
        return tactic_offer(
            cfg, self.proposals[party], self.config.need_mw, self.config.negotiate_volume
        )

    def scripted_move(self, party: str) -> Move:
        """The move of a scripted party by its tactic (the mediator's team vote follows)."""
        standing = None if self.standing is None else self.standing.price_eur_per_mwh
        cfg = self.config
        return scripted_move(
            party,
            getattr(cfg, party),
            self.proposals[party],
            standing,
            cfg.need_mw,
            cfg.negotiate_volume,
        )

    def play(self, party: str, move: Move) -> None:
        """Apply ``party``'s move.

        Raises:
            ValueError: the negotiation is over, it is not ``party``'s turn, ``accept``
                with no offer standing, or a counter's price/volume is not finite.
        """
        if self.done:
            raise ValueError(f"the negotiation is over ({self.outcome}); {party} may not move")
        if party != self.turn:
            raise ValueError(f"it is the {self.turn}'s turn; the {party} may not move now")
        if move.decision == "accept" and self.standing is None:
            raise ValueError(f"{party} may not accept: no offer is standing yet")
        if (
            move.decision == "counter"
            and not np.isfinite([move.price_eur_per_mwh, move.volume_mw]).all()
        ):
            raise ValueError(f"{party} counter-offer needs a finite price and volume, got {move}")
        self.party_messages += 1
        if move.decision == "withdraw":
            self.outcome, self.withdrawn_by = "withdrawn", party
            self._close_team()
            return
        if party == "mediator":
            move = self._team_move(move)
        if move.decision == "accept":
            self.outcome, self.accepted, self.accepted_by = "agreement", self.standing, party
            self._close_team()
            return
        if self.at_deadline(party):
            self.outcome = "deadline"
            self._close_team()
            return
        self.proposals[party] += 1
        offer = Offer(party, self.proposals[party], move.price_eur_per_mwh, move.volume_mw)
        self.history.append(offer)
        self.standing = offer
        self.turn = self.other(party)

    def _team_move(self, move: Move) -> Move:
        """The coalition's decision on the mediator's proposed move (§3.4)."""
        cfg = self.config
        offer = self.standing
        standing = None if offer is None else (offer.price_eur_per_mwh, offer.volume_mw)
        counter: tuple[float, float] | None
        if self.at_deadline("mediator"):
            # No proposal left: members weigh the offer against no deal (market-based).
            counter = None
        elif move.decision == "accept":
            # Accepting = proposing the opponent's own terms; the team still votes.
            counter = standing
        else:
            counter = (move.price_eur_per_mwh, move.volume_mw)
        result = decide(
            cfg.team_strategy,
            cfg.decision_rule,
            self.members,
            cfg.tariff,
            cfg.need_mw,
            standing,
            counter,
            self.proposals["mediator"],
            cfg.mediator,
        )
        self.team_messages += result.messages
        if offer is not None:
            self.yes_shares.append(result.yes_share)
        if result.accept:
            return Move("accept")
        return Move("counter", result.counter_price_eur_per_mwh, result.counter_volume_mw)

    def _close_team(self) -> None:
        # Every member learns the outcome; under RE this is its only message (§3.2).
        self.team_messages += self.members.count

    def result(self) -> NegotiationResult:
        """Summary of the (finished or running) negotiation."""
        acc = self.accepted
        return NegotiationResult(
            outcome=self.outcome or "running",
            agreed_price_eur_per_mwh=None if acc is None else acc.price_eur_per_mwh,
            agreed_volume_mw=None if acc is None else acc.volume_mw,
            accepted_proposal=None if acc is None else acc.number,
            accepted_by=self.accepted_by,
            offered_by=None if acc is None else acc.party,
            withdrawn_by=self.withdrawn_by,
            messages={
                "between_parties": self.party_messages,
                "within_team": self.team_messages,
                "total": self.party_messages + self.team_messages,
            },
            history=tuple(self.history),
            yes_shares=tuple(self.yes_shares),
        )


def tactic_offer(
    cfg: PartyConfig, made: int, need_mw: float, negotiate_volume: bool
) -> tuple[float, float]:
    """A party's next proposal (price EUR/MWh, volume MW) after ``made`` proposals."""
    kw: dict[str, Any] = {
        "kind": cfg.tactic,
        "factor": cfg.concession_factor,
        "deadline": cfg.deadline_proposals,
    }
    price = float(
        concession_price(cfg.initial_price_eur_per_mwh, cfg.limit_price_eur_per_mwh, made, **kw)
    )
    if not negotiate_volume:
        return price, need_mw
    return price, float(concession_price(cfg.initial_volume_mw, cfg.limit_volume_mw, made, **kw))


def _gain(party: str, price: float) -> float:
    """Per-MWh gain of a price to a party (seller: higher is better; buyer: lower)."""
    return price if party == "opponent" else -price


def scripted_move(
    party: str,
    cfg: PartyConfig,
    made: int,
    standing_price_eur_per_mwh: float | None,
    need_mw: float,
    negotiate_volume: bool,
) -> Move:
    """A tactic-driven party's move (used by the env's scripted seats and by
    :class:`agents.negotiation.ConcessionAgent`).

    Args:
        party: ``mediator`` or ``opponent``.
        cfg: the party's offers, tactic and deadline.
        made: proposals the party has made so far.
        standing_price_eur_per_mwh: the other party's standing price, None at the opening.
        need_mw: the coalition's need (the volume offered when volume is not negotiated).
        negotiate_volume: whether volume concedes too.

    The opponent accepts an offer at least as good as its own next proposal; the
    mediator always counter-proposes and leaves acceptance to the members' vote (RM-IDM,
    §4.2). At its deadline a party accepts an offer within its limit.
    """
    standing = standing_price_eur_per_mwh
    limit = cfg.limit_price_eur_per_mwh
    within = standing is not None and _gain(party, standing) >= _gain(party, limit) - 1e-9
    if made >= cfg.deadline_proposals:
        if within:
            return Move("accept")
        if cfg.withdraw_at_limit:
            return Move("withdraw")
        return Move("counter", *tactic_offer(cfg, made, need_mw, negotiate_volume))
    price, volume = tactic_offer(cfg, made, need_mw, negotiate_volume)
    if standing is not None and party == "opponent":
        if _gain(party, standing) >= _gain(party, price) - 1e-9:
            return Move("accept")
    at_limit = abs(price - limit) < WITHDRAW_GAP_EUR_PER_MWH
    if standing is not None and cfg.withdraw_at_limit and at_limit and not within:
        return Move("withdraw")
    return Move("counter", price, volume)


def new_negotiation(config: NegotiationConfig, rng: np.random.Generator) -> Negotiation:
    """A fresh negotiation with members drawn from ``rng``."""
    members = draw_members(config.members, config.mediator, config.tariff, rng)
    return Negotiation(config, members)


def run_negotiation(config: NegotiationConfig, rng: np.random.Generator) -> NegotiationResult:
    """Play a whole negotiation with both parties scripted by their tactics."""
    neg = new_negotiation(config, rng)
    # Each move makes a proposal or ends the game, so this ends within both deadlines.
    while not neg.done:
        neg.play(neg.turn, neg.scripted_move(neg.turn))
    return neg.result()
