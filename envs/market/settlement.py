"""Settlement bookkeeping: markets, participants and the per-step flow matrices.

Dims: E envs, M markets, P participants, G generators, N members. Every flow is
(E, M, P): energy in MWh (+ = delivered/sold, - = taken/bought), cash in EUR
(+ = received), reserve and capacity in MW held. Per step and market, energy and cash
each sum to zero over participants (the market operator's surplus is a participant,
DESIGN §7).

The settlement rules are stated once, as the compiled ``settle_*`` functions below,
each writing one env's (M, P) rows of one market (or two) for the simulator's step.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from envs.market.capacity import performance_row

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


class FlowColumns(NamedTuple):
    """Participant columns of the flow matrices as integers, for the compiled step."""

    coalition: int
    members: int  # first member; member i is members + i
    background: int
    renewables: int
    operator: int
    network: int
    ppa_seller: int

    @classmethod
    def of(cls, n_generators: int, n_members: int) -> FlowColumns:
        """The columns for ``n_generators`` generators and ``n_members`` members."""
        c = Columns(n_generators, n_members)
        return cls(c.coalition, c.members.start, c.background, c.renewables, c.operator,
                   c.network, c.ppa_seller)  # fmt: skip


@njit(cache=True)
def settle_spot(cs, en, col, dispatch, gen_cash, ren_mw, ren_paid, sold, sold_paid, bought,
                buyer, bg_mw):  # fmt: skip
    """Spot: generators, system renewables and the coalition's sale are paid what
    cleared (EUR, ``gen_cash`` (G,) per unit); the coalition's purchase and the
    background load pay the buyers' price ``buyer`` EUR/MWh; the operator keeps the rest
    (zero under uniform pricing)."""
    for g in range(dispatch.shape[0]):
        en[M_SPOT, g] = dispatch[g]
        cs[M_SPOT, g] = gen_cash[g]
    en[M_SPOT, col.renewables] = ren_mw
    cs[M_SPOT, col.renewables] = ren_mw * ren_paid
    en[M_SPOT, col.coalition] = sold - bought
    cs[M_SPOT, col.coalition] = sold * sold_paid - bought * buyer
    en[M_SPOT, col.background] = -bg_mw
    cs[M_SPOT, col.background] = -bg_mw * buyer
    # The operator's entry balances the market; it is left out of the sum (the flow
    # matrices are reused between steps, so it still holds the last step's value).
    spot_sum = 0.0
    for p_ in range(cs.shape[1]):
        if p_ != col.operator:
            spot_sum += cs[M_SPOT, p_]
    cs[M_SPOT, col.operator] = -spot_sum


@njit(cache=True)
def settle_balancing(cs, en, col, a_g, ren_bal, act_c, imb_price):
    """Balancing energy (DESIGN §3 step 4): each activated unit delivers ``a_g`` (G,) MW
    (+ up, - down), the system renewables ``ren_bal`` MW and the coalition its reserve
    activation ``act_c`` MW, every MWh paid the single imbalance price ``imb_price``
    EUR/MWh by the system operator (the operator's column), which passes it on to the
    imbalance market.

    Returns:
        Net activated energy, MWh.
    """
    total = ren_bal + act_c
    for g in range(a_g.shape[0]):
        total += a_g[g]
        en[M_BALANCING, g] = a_g[g]
        cs[M_BALANCING, g] = a_g[g] * imb_price
    en[M_BALANCING, col.renewables] = ren_bal
    cs[M_BALANCING, col.renewables] = ren_bal * imb_price
    en[M_BALANCING, col.coalition] = act_c
    cs[M_BALANCING, col.coalition] = act_c * imb_price
    en[M_BALANCING, col.operator] = -total
    cs[M_BALANCING, col.operator] = -total * imb_price
    return total


@njit(cache=True)
def imbalance_prices(imb_price, da_price, dual):
    """The prices a deviation settles at, EUR/MWh: (short, long).

    Single pricing (the EU default, ENTSO-E Imbalance Settlement Harmonisation
    Methodology, ACER Decision 18/2020, Art. 9): every deviation at the one imbalance
    price, so a party that helps the system is paid what its help is worth. Dual pricing
    (allowed by the same Art. 9(6), EBGL Art. 52(2)(d)): a short position pays at least,
    and a long one receives at most, the day-ahead price, so no deviation ever beats
    having traded day-ahead."""
    if dual:
        return max(imb_price, da_price), min(imb_price, da_price)
    return imb_price, imb_price


@njit(cache=True, inline="always")
def _deviation_cash(dev, short_price, long_price):
    """Cash of a deviation ``dev`` MWh (+ short), EUR (+ received)."""
    return -dev * (short_price if dev > 0.0 else long_price)


@njit(cache=True)
def settle_imbalance(cs, en, col, imb_c, shed_c, bg_dev, ren_dev, short_price, long_price):
    """Imbalance (DESIGN §3 step 4): every balance-responsible party's deviation (+ = it took
    more than it traded) settles at the imbalance price of its side
    (:func:`imbalance_prices`; one price under single pricing): the coalition's ``imb_c``,
    the background load's ``bg_dev`` (its consumption over its purchase, load shed excluded)
    and the system renewables' ``ren_dev`` (what they sold less what they produced: + short,
    - long). The members' imports shed (``shed_c`` MWh) are charged as if consumed, at the
    short price (the cap, when load is shed): lost load is valued at the value of lost load
    the cap stands for (ENTSO-E ERAA's VOLL), so a coalition never saves by having its
    members cut off. The system operator is the counterparty: it keeps what dual pricing and
    lost load leave over; under single pricing with no load shed its cash over the balancing
    and imbalance markets nets to zero."""
    en[M_IMBALANCE, col.coalition] = -imb_c
    cs[M_IMBALANCE, col.coalition] = _deviation_cash(imb_c + shed_c, short_price, long_price)
    en[M_IMBALANCE, col.background] = -bg_dev
    cs[M_IMBALANCE, col.background] = _deviation_cash(bg_dev, short_price, long_price)
    en[M_IMBALANCE, col.renewables] = -ren_dev
    cs[M_IMBALANCE, col.renewables] = _deviation_cash(ren_dev, short_price, long_price)
    en[M_IMBALANCE, col.operator] = imb_c + bg_dev + ren_dev
    cs[M_IMBALANCE, col.operator] = -(cs[M_IMBALANCE, col.coalition]
                                      + cs[M_IMBALANCE, col.background]
                                      + cs[M_IMBALANCE, col.renewables])  # fmt: skip


@njit(cache=True)
def consumer_shares(bg_cons, imports):
    """Shares of the consumers' costs (reserve, capacity): (coalition, background).

    Costs go to consumers by their share of the energy served (``bg_cons`` MW to the
    background load, ``imports`` MW to the members), each share within [0, 1] and the two
    summing to 1, so the operator pays out exactly what consumers pay in; with nothing
    served the background load carries the cost."""
    bg, co = max(bg_cons, 0.0), max(imports, 0.0)
    total = bg + co
    if total <= 1e-12:
        return 0.0, 1.0
    return co / total, bg / total


@njit(cache=True)
def settle_reserve(cs, rv, col, award, paid, act_short, penalty, co_share, bg_share):
    """Reserve: every award (G + 1,) MW is paid its ``paid`` (G + 1,) EUR/MW (the reserve
    market's rule: :func:`envs.market.reserve.award_payments_row`); the cost is charged
    to consumers by their share of consumption (``co_share`` to the coalition,
    ``bg_share`` to the background load); activation the coalition did not deliver
    (``act_short`` MWh) pays ``penalty`` EUR/MWh to the operator.

    Returns:
        The coalition's cash as a provider (its award's payment less the penalty), EUR:
        the part of its reserve cash its members' batteries back.
    """
    g_n = award.shape[0] - 1
    res_total = award[g_n] * paid[g_n]
    for g in range(g_n):
        res_total += award[g] * paid[g]
        rv[M_RESERVE, g] = award[g]
        cs[M_RESERVE, g] = award[g] * paid[g]
    rv[M_RESERVE, col.coalition] = award[g_n]
    provided = award[g_n] * paid[g_n] - act_short * penalty
    cs[M_RESERVE, col.coalition] = provided - co_share * res_total
    cs[M_RESERVE, col.background] = -bg_share * res_total
    cs[M_RESERVE, col.operator] = act_short * penalty
    return provided


@njit(cache=True)
def settle_capacity(cs, cm, col, cap_g, cap_c, cap_price, dispatch, balancing, award, scarce,
                    perf_c, load_mw, reserve_mw, rate, stop_loss, cum, cum_out, co_share,
                    bg_share):  # fmt: skip
    """Capacity (PJM RPM): committed MW (``cap_g`` (G,), ``cap_c``) are paid ``cap_price / 24``
    EUR/MW per hour, charged to consumers by consumption share. A scarcity hour is a
    Performance Assessment Interval (:func:`envs.market.capacity.performance_row`): each
    unit delivers its energy ``dispatch`` plus reserve ``award`` ((G + 1,), coalition last),
    the coalition ``perf_c`` MW; a unit's MW dispatched down in balancing (``balancing``
    (G,) MW, - down) are excused (PJM OATT Attachment DD §10A(c)); shortfalls against
    committed MW * balancing ratio less what is excused pay
    ``rate`` EUR/MWh up to ``stop_loss`` EUR per committed MW (``cum`` (G + 1,) EUR so far,
    ``cum_out`` after this hour), and the charges are paid as bonuses to over-performers
    (to consumers by share where nobody over-performs): the operator keeps nothing.

    Returns:
        Committed capacity, MW.
    """
    g_n = cap_g.shape[0]
    committed = np.empty(g_n + 1)
    actual = np.empty(g_n + 1)
    charge = np.zeros(g_n + 1)
    bonus = np.zeros(g_n + 1)
    excused = np.zeros(g_n + 1)  # the coalition is never dispatched down by the operator
    for g in range(g_n):
        committed[g] = cap_g[g]
        actual[g] = dispatch[g] + award[g]
        excused[g] = max(-balancing[g], 0.0)
    committed[g_n] = cap_c
    actual[g_n] = perf_c
    to_load = 0.0
    if scarce:
        _, _, to_load = performance_row(committed, actual, excused, load_mw, reserve_mw, rate,
                                        stop_loss, cum, charge, bonus)  # fmt: skip
    hourly = cap_price / 24.0
    cap_total = 0.0
    for k in range(g_n + 1):
        cap_total += committed[k] * hourly
        cum_out[k] = cum[k] + charge[k]
    for g in range(g_n):
        cm[M_CAPACITY, g] = cap_g[g]
        cs[M_CAPACITY, g] = cap_g[g] * hourly - charge[g] + bonus[g]
    # Consumers pay for capacity and, where nobody over-performed, get the charges back.
    consumers = cap_total - to_load
    cm[M_CAPACITY, col.coalition] = cap_c
    cs[M_CAPACITY, col.coalition] = (cap_c * hourly - charge[g_n] + bonus[g_n]
                                     - co_share * consumers)  # fmt: skip
    cs[M_CAPACITY, col.background] = -bg_share * consumers
    cs[M_CAPACITY, col.operator] = 0.0
    total = 0.0
    for k in range(g_n + 1):
        total += committed[k]
    return total


@njit(cache=True)
def settle_network_ppa(cs, en, col, net, network, taxes, discount, ppa_mw, ppa_price):
    """Network charges and taxes on members' gross imports (``net`` (N,) MW), less the
    community discount on the network part of what members' exports cover; the PPA's
    delivery ``ppa_mw`` paid at ``ppa_price`` EUR/MWh to its seller."""
    gross_in = 0.0
    gross_out = 0.0
    for i in range(net.shape[0]):
        gross_in += max(net[i], 0.0)
        gross_out += max(-net[i], 0.0)
    charge = (network + taxes) * gross_in - discount * network * min(gross_in, gross_out)
    cs[M_NETWORK, col.coalition] = -charge
    cs[M_NETWORK, col.network] = charge
    en[M_PPA, col.coalition] = -ppa_mw
    en[M_PPA, col.ppa_seller] = ppa_mw
    cs[M_PPA, col.coalition] = -ppa_mw * ppa_price
    cs[M_PPA, col.ppa_seller] = ppa_mw * ppa_price


@njit(cache=True)
def coalition_result(cs, col):
    """The coalition's cash over every market before allocation, EUR."""
    result = 0.0
    for m_ in range(M_ALLOCATION):
        result += cs[m_, col.coalition]
    return result


@njit(cache=True)
def settle_allocation(cs, en, col, result, metered, alloc, net):
    """Allocation: the coalition passes its result and metered energy to its members
    (``alloc`` EUR and ``net`` MW, (N,) each)."""
    cs[M_ALLOCATION, col.coalition] = -result
    en[M_ALLOCATION, col.coalition] = metered
    for i in range(net.shape[0]):
        cs[M_ALLOCATION, col.members + i] = alloc[i]
        en[M_ALLOCATION, col.members + i] = -net[i]
