"""Pro-rata rationing of blocks tied at the marginal price (EUPHEMIA's rule).

Where several blocks share a price, a clearing decides only how much the price level as
a whole takes; who among the tied blocks gets it is a rule. EUPHEMIA shares the accepted
quantity pro rata to the offered (bid) quantity (NEMO Committee, *EUPHEMIA Public
Description*, 2020, §5 "curtailment"): every tied block gets the same accepted/offered
ratio. An index rule would ration whoever is listed last (the coalition's block), so
the market rules here never break ties by index or at random (STYLE §2).

Where blocks belong to units with a shared limit (energy + reserve of a unit <= its
limit, the co-optimised clearing of :mod:`envs.market.cooptimise`), a tied block may
not have room for its pro-rata share: the share is water-filled, each unit getting
min(its pro-rata share, its room) and the excess going round again among the others.
The price level's total, and so the objective and both balances, are unchanged.

Dims: n blocks of one env; U units. Quantities in MW, prices in the market's unit.
"""

from __future__ import annotations

from numba import njit

__all__ = ["price_order_row", "ration_row", "ration_units_row"]

_EPS = 1e-9


@njit(cache=True)
def price_order_row(price, descending, order):
    """Block indices in price order, ties in index order, written to ``order`` in place.

    The order of ``np.argsort(price, kind="mergesort")`` (descending: of ``-price``), so
    that tied blocks are contiguous for the pro-rata rules below; by insertion sort,
    which allocates nothing and beats a merge sort on the few dozen blocks of one book.

    Args:
        price: (n,) block prices (finite).
        descending: dearest first if True.
        order: (n,) int64 output.
    """
    n = price.shape[0]
    for i in range(n):
        j = i
        v = price[i]
        # Shift only past strictly worse blocks: a stable sort, as mergesort.
        if descending:
            while j > 0 and price[order[j - 1]] < v:
                order[j] = order[j - 1]
                j -= 1
        else:
            while j > 0 and price[order[j - 1]] > v:
                order[j] = order[j - 1]
                j -= 1
        order[j] = i


@njit(cache=True)
def ration_row(q, price, order, acc):
    """Share each price level's accepted MW pro rata to the blocks' MW, in place.

    Args:
        q: (n,) offered (bid) MW, >= 0.
        price: (n,) block prices as the clearing read them (clipped).
        order: (n,) block indices sorted by price (either direction), so that equal
            prices are contiguous.
        acc: (n,) accepted MW, overwritten with the pro-rata shares; each level's total
            is kept.
    """
    n = order.shape[0]
    g0 = 0
    while g0 < n:
        g1 = g0 + 1
        while g1 < n and price[order[g1]] == price[order[g0]]:
            g1 += 1
        if g1 - g0 > 1:
            tot = 0.0
            qs = 0.0
            for gg in range(g0, g1):
                tot += acc[order[gg]]
                qs += q[order[gg]]
            if qs > 0.0:
                ratio = min(tot / qs, 1.0)
                for gg in range(g0, g1):
                    j = order[gg]
                    acc[j] = q[j] if ratio == 1.0 else q[j] * ratio
        g0 = g1


@njit(cache=True)
def ration_units_row(q, price, owner, order, ulim, used, acc, ent_q, ent_cap, ent_state):
    """Pro-rata shares of each price level under the units' shared limits, in place.

    A unit's tied blocks form one entity (their MW summed; its room is its limit less
    what it holds outside this price level); a unit-less block is an entity of its own.
    Entities are water-filled: ratio = remaining MW / MW of the entities not yet capped;
    an entity whose share would exceed its room is capped at it and the rest goes round
    again. Within a unit the share is split pro rata to its blocks' MW.

    Args:
        q: (n,) offered MW, >= 0.
        price: (n,) block prices (clipped).
        owner: (n,) int64 unit of each block, -1 for none.
        order: (n,) block indices sorted by price.
        ulim: (U,) units' shared limits, MW.
        used: (U,) MW each unit holds in all its blocks (energy and reserve); updated.
        acc: (n,) accepted MW; overwritten with the shares, each level's total kept.
        ent_q, ent_cap: float scratch of length >= U + n.
        ent_state: int64 scratch of length >= U + n (0 unseen, 1 open, 2 capped).
    """
    n = order.shape[0]
    n_units = ulim.shape[0]
    g0 = 0
    while g0 < n:
        g1 = g0 + 1
        while g1 < n and price[order[g1]] == price[order[g0]]:
            g1 += 1
        tot = 0.0
        qs = 0.0
        for gg in range(g0, g1):
            tot += acc[order[gg]]
            qs += q[order[gg]]
        # A level taken whole or not at all has no one to ration.
        if g1 - g0 > 1 and tot > _EPS and tot < qs - _EPS:
            _water_fill(q, owner, order, g0, g1, tot, n_units, ulim, used, acc, ent_q,
                        ent_cap, ent_state)  # fmt: skip
        g0 = g1


@njit(cache=True, inline="always")
def _entity(owner, j, n_units):
    return owner[j] if owner[j] >= 0 else n_units + j


@njit(cache=True, inline="always")
def _water_fill(q, owner, order, g0, g1, tot, n_units, ulim, used, acc, ent_q, ent_cap, state):
    for gg in range(g0, g1):
        k = _entity(owner, order[gg], n_units)
        ent_q[k] = 0.0
        ent_cap[k] = 0.0
        state[k] = 0
    for gg in range(g0, g1):
        j = order[gg]
        k = _entity(owner, j, n_units)
        ent_q[k] += q[j]
        ent_cap[k] += acc[j]  # held in this level, for the room below
    open_q = 0.0
    for gg in range(g0, g1):
        j = order[gg]
        k = _entity(owner, j, n_units)
        if state[k] == 0:
            state[k] = 1
            if k < n_units:  # room: the limit less what the unit holds elsewhere
                ent_cap[k] = min(ent_q[k], ulim[k] - used[k] + ent_cap[k])
            else:
                ent_cap[k] = ent_q[k]
            open_q += ent_q[k]
    rem = tot
    ratio = 0.0
    for _ in range(g1 - g0 + 1):
        ratio = rem / open_q if open_q > 0.0 else 0.0
        capped = False
        for gg in range(g0, g1):
            k = _entity(owner, order[gg], n_units)
            if state[k] == 1 and ratio * ent_q[k] >= ent_cap[k]:
                state[k] = 2
                rem -= ent_cap[k]
                open_q -= ent_q[k]
                capped = True
        if not capped:
            break
    for gg in range(g0, g1):
        j = order[gg]
        k = _entity(owner, j, n_units)
        share = ent_cap[k] if state[k] == 2 else ratio * ent_q[k]
        new = share * q[j] / ent_q[k] if ent_q[k] > 0.0 else 0.0
        if k < n_units:
            used[k] += new - acc[j]
        acc[j] = new
