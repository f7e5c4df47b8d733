"""Money and energy flows of one step: who pays whom in each market (DESIGN §3.5, §7).

Dims: E envs, G generators, N members, M markets, P participants. Split from
:mod:`envs.core` so that the simulator's physics and the settlement rules can each be
read in one sitting.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from envs.market import allocate
from envs.market import settlement as st
from envs.scenario import ScenarioConfig

F64 = NDArray[np.float64]


def settle(
    cfg: ScenarioConfig, cols: st.Columns, permutations: NDArray[np.intp], **q: F64
) -> dict[str, F64]:
    """Build the (E, M, P) flow matrices of one step (DESIGN §7) from its quantities.

    Keyword arrays are (E,) or (E, G)/(E, N) quantities computed by
    :meth:`envs.core.MarketCore.step`; see the comments for each market's rule.
    """
    c, E = cols, q["price"].shape[0]
    P, M = c.size, len(st.MARKETS)
    cash = np.zeros((E, M, P))
    energy = np.zeros((E, M, P))
    reserve_mw = np.zeros((E, M, P))
    capacity_mw = np.zeros((E, M, P))
    price = q["price"]
    # Spot: sellers +, buyers -; the operator keeps any pay-as-bid difference (none here).
    energy[:, st.M_SPOT, c.gens] = q["dispatch"]
    cash[:, st.M_SPOT, c.gens] = q["gen_spot_cash"]
    energy[:, st.M_SPOT, c.renewables] = q["ren_mw"]
    cash[:, st.M_SPOT, c.renewables] = q["ren_cash"]
    energy[:, st.M_SPOT, c.coalition] = q["sold"] - q["bought"]
    cash[:, st.M_SPOT, c.coalition] = q["sold_cash"] - q["bought"] * q["buyer_price"]
    energy[:, st.M_SPOT, c.background] = -q["bg_mw"]
    cash[:, st.M_SPOT, c.background] = -q["bg_mw"] * q["buyer_price"]
    cash[:, st.M_SPOT, c.operator] = -cash[:, st.M_SPOT].sum(-1)
    # Balancing: activated reserve energy, paid the spot price by the background load
    # whose deviation it covers.
    act_g, act_c = q["act_g"], q["act_c"]
    act_total = act_g.sum(-1) + act_c
    energy[:, st.M_BALANCING, c.gens] = act_g
    cash[:, st.M_BALANCING, c.gens] = act_g * price[:, None]
    energy[:, st.M_BALANCING, c.coalition] = act_c
    cash[:, st.M_BALANCING, c.coalition] = act_c * price
    energy[:, st.M_BALANCING, c.background] = -act_total
    cash[:, st.M_BALANCING, c.background] = -act_total * price
    # Imbalance: the coalition's deviation settles with the operator at spot +/- spread.
    sp = cfg.spot
    imb = q["imbalance"]
    p_imb = np.where(
        imb > 0,
        np.minimum(price + sp.imbalance_spread_eur_per_mwh, sp.price_cap_eur_per_mwh),
        np.maximum(price - sp.imbalance_spread_eur_per_mwh, sp.price_floor_eur_per_mwh),
    )
    energy[:, st.M_IMBALANCE, c.coalition] = -imb
    cash[:, st.M_IMBALANCE, c.coalition] = -imb * p_imb
    energy[:, st.M_IMBALANCE, c.operator] = imb
    cash[:, st.M_IMBALANCE, c.operator] = imb * p_imb
    # Reserve and capacity payments are recovered from load pro rata to consumption;
    # penalties go to the operator.
    imports = np.maximum(q["metered"], 0.0)
    bg_share, co_share = st.consumer_shares(q["bg_mw"], imports)
    res_pay_g = q["award_g"] * q["res_price"][:, None]
    res_pay_c = q["award_c"] * q["res_price"]
    res_total = res_pay_g.sum(-1) + res_pay_c
    pen_res = q["act_short"] * cfg.reserve.non_delivery_penalty_eur_per_mwh
    reserve_mw[:, st.M_RESERVE, c.gens] = q["award_g"]
    reserve_mw[:, st.M_RESERVE, c.coalition] = q["award_c"]
    cash[:, st.M_RESERVE, c.gens] = res_pay_g
    cash[:, st.M_RESERVE, c.coalition] = res_pay_c - pen_res - co_share * res_total
    cash[:, st.M_RESERVE, c.background] = -bg_share * res_total
    cash[:, st.M_RESERVE, c.operator] = pen_res
    hourly = q["cap_price"] / 24.0
    cap_pay_g = q["cap_award_g"] * hourly[:, None]
    cap_pay_c = q["cap_award_c"] * hourly
    cap_total = cap_pay_g.sum(-1) + cap_pay_c
    pen_cap_g = q["perf_g"] * cfg.capacity.performance_penalty_eur_per_mwh
    pen_cap_c = q["perf_c"] * cfg.capacity.performance_penalty_eur_per_mwh
    capacity_mw[:, st.M_CAPACITY, c.gens] = q["cap_award_g"]
    capacity_mw[:, st.M_CAPACITY, c.coalition] = q["cap_award_c"]
    cash[:, st.M_CAPACITY, c.gens] = cap_pay_g - pen_cap_g
    cash[:, st.M_CAPACITY, c.coalition] = cap_pay_c - pen_cap_c - co_share * cap_total
    cash[:, st.M_CAPACITY, c.background] = -bg_share * cap_total
    cash[:, st.M_CAPACITY, c.operator] = pen_cap_g.sum(-1) + pen_cap_c
    # Network charges and taxes on members' gross imports; the community discount
    # waives part of the network charge on energy shared inside the community.
    tf = cfg.tariff
    net = q["net"]
    gross_in = np.maximum(net, 0.0).sum(-1)
    shared = np.minimum(gross_in, np.maximum(-net, 0.0).sum(-1))
    charge = (tf.network_eur_per_mwh + tf.taxes_eur_per_mwh) * gross_in - (
        tf.community_discount * tf.network_eur_per_mwh * shared
    )
    cash[:, st.M_NETWORK, c.coalition] = -charge
    cash[:, st.M_NETWORK, c.network] = charge
    # PPA: the coalition takes the contracted wind-shaped energy at the PPA price.
    ppa = q["ppa_mw"]
    energy[:, st.M_PPA, c.coalition] = -ppa
    energy[:, st.M_PPA, c.ppa_seller] = ppa
    cash[:, st.M_PPA, c.coalition] = -ppa * cfg.ppa.price_eur_per_mwh
    cash[:, st.M_PPA, c.ppa_seller] = ppa * cfg.ppa.price_eur_per_mwh
    # Allocation: the coalition passes its whole result to members.
    result = cash[:, :, c.coalition].sum(-1)
    charge_rate = np.full(E, tf.network_eur_per_mwh + tf.taxes_eur_per_mwh)
    alloc = allocate(
        result,
        net,
        price,
        charge_rate,
        rule=cfg.coalition.allocation,
        permutations=permutations,
    )
    cash[:, st.M_ALLOCATION, c.coalition] = -result
    cash[:, st.M_ALLOCATION, c.members] = alloc
    energy[:, st.M_ALLOCATION, c.coalition] = q["metered"]
    energy[:, st.M_ALLOCATION, c.members] = -net
    return {
        "cash": cash,
        "energy": energy,
        "reserve_mw": reserve_mw,
        "capacity_mw": capacity_mw,
    }
