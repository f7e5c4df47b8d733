"""Table-1-style cost report and the PPA contract handed to the market simulator (§4.2).

Rows follow the paper's Table 1: a consumer on the regulated tariff, the CEC buying in
the market, the CEC with the PPA (EUR/MWh of consumption, before VAT), and the wind
aggregator's remuneration market-based and with the PPA. Every figure is computed from
:class:`~envs.negotiation.config.TariffConfig` and the negotiated price.
"""

from __future__ import annotations

from dataclasses import dataclass

from envs.negotiation.config import NegotiationConfig, TariffConfig
from envs.negotiation.protocol import NegotiationResult

__all__ = ["CostRow", "PpaContract", "contract_from_result", "cost_report"]


@dataclass(frozen=True, slots=True)
class CostRow:
    """One row of the cost report (None where Table 1 has a dash)."""

    player: str
    details: str
    energy_part_eur_per_mwh: float | None
    other_part_eur_per_mwh: float | None
    total_cost_eur_per_mwh: float | None
    remuneration_eur_per_mwh: float | None


@dataclass(frozen=True, slots=True)
class PpaContract:
    """An agreed PPA for ``multimarket_v1``: the coalition buys ``volume_mw`` of capacity
    whose output follows ``shape`` (``"wind"``: the wind fleet's profile, so delivered
    energy = volume_mw x capacity factor per hour) at a fixed price, and bears the
    deviations (§4: "the CEC is responsible for all deviations from the wind farms")."""

    price_eur_per_mwh: float
    volume_mw: float
    shape: str = "wind"


def contract_from_result(
    result: NegotiationResult, config: NegotiationConfig
) -> PpaContract | None:
    """The contract of a finished negotiation, or None when no agreement was reached."""
    if result.outcome != "agreement" or result.agreed_price_eur_per_mwh is None:
        return None
    return PpaContract(
        price_eur_per_mwh=float(result.agreed_price_eur_per_mwh),
        volume_mw=float(result.agreed_volume_mw or config.need_mw),
        shape=config.shape,
    )


def cost_report(tariff: TariffConfig, ppa_price_eur_per_mwh: float | None) -> list[CostRow]:
    """Table 1 rows from the tariff parameters and the agreed PPA price.

    Args:
        tariff: tariff parameters (defaults: §4.1's 2013 Portuguese figures).
        ppa_price_eur_per_mwh: the agreed price, or None (no PPA rows then).

    Returns:
        Rows: regulated tariff, market-based CEC, PPA CEC, aggregator market-based,
        aggregator with the PPA.

    >>> rows = cost_report(TariffConfig(), 50.17)
    >>> round(rows[0].total_cost_eur_per_mwh, 2), round(rows[2].energy_part_eur_per_mwh, 2)
    (140.5, 55.56)
    """
    t = tariff

    def consumer(player: str, details: str, energy: float, other: float) -> CostRow:
        return CostRow(player, details, energy, other, energy + other, None)

    rows = [
        consumer(
            "Consumer",
            "Regulated tariff",
            t.regulated_energy_eur_per_mwh,
            t.regulated_other_eur_per_mwh,
        ),
        consumer(
            "CEC (Consumers)",
            "Market-based",
            t.market_energy_eur_per_mwh,
            t.market_other_eur_per_mwh,
        ),
    ]
    aggregator_market = CostRow(
        "Wind Aggregator",
        "Market-based",
        None,
        None,
        None,
        t.aggregator_market_remuneration_eur_per_mwh,
    )
    if ppa_price_eur_per_mwh is None:
        return [*rows, aggregator_market]
    # Under the PPA the CEC pays the contract price and bears the wind deviations (§4.2).
    ppa_energy = ppa_price_eur_per_mwh + t.ppa_deviation_cost_eur_per_mwh
    return [
        *rows,
        consumer("CEC (Consumers)", "PPA", ppa_energy, t.ppa_other_eur_per_mwh),
        aggregator_market,
        CostRow("Wind Aggregator", "PPA", None, None, None, ppa_price_eur_per_mwh),
    ]
