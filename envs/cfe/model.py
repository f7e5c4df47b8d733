"""Carbon-free-energy (CFE) matching for a procurement pool: metrics, swaps, financials.

Pure numpy functions over hourly energy arrays (DESIGN §5, seed ``003_*``). A pool of
participants each holds an hourly load and an hourly carbon-free generation (solar and
wind contracts, one energy-attribute certificate per MWh). The module answers: how much
of each participant's load is matched, year-round (volumetric) and hour by hour (24/7
CFE, as in the EnergyTag / Google hourly-matching methodology), before and after the
pool swaps surplus certificates internally, and what that is worth.

Dims legend:
    T  hours (8 760 for a non-leap year)
    P  participants

All energies are MWh per hour (numerically equal to the average MW of that hour); all
prices are EUR/MWh; percentages are 0-100. Inputs are never mutated. Hourly profiles
for ``python -m evaluation.cfe`` come from :mod:`envs.cfe.config`: synthetic ones from
the simulator's generator (:mod:`envs.data.profiles`), real ones from
:mod:`envs.data.real_profiles`.

Example:
    >>> import numpy as np
    >>> load = np.array([[2.0, 1.0], [2.0, 1.0]])  # (T=2, P=2) MWh
    >>> gen = np.array([[3.0, 0.0], [0.0, 2.0]])
    >>> standalone_cfe_pct(load, gen).round(1).tolist()
    [50.0, 50.0]
    >>> m = cfe_metrics(load, gen)
    >>> m.swapped_cfe_pct.round(1).tolist(), round(m.pool_pooled_cfe_pct, 1)
    ([75.0, 100.0], 83.3)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "CfeMetrics",
    "Financials",
    "SwapResult",
    "cfe_metrics",
    "financials",
    "hourly_match_mwh",
    "pooled_cfe_pct",
    "pro_rata_swaps",
    "scale_to_annual",
    "standalone_cfe_pct",
    "swapped_cfe_pct",
    "volumetric_re_pct",
]

Array = NDArray[np.float64]


def _hourly(name: str, values: ArrayLike) -> Array:
    """Return ``values`` as a finite, non-negative float64 (T, P) array or raise ValueError."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} has shape {arr.shape}; expected (T hours, P participants)")
    if not np.all(np.isfinite(arr)):
        t, p = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name}[{t}, {p}] = {arr[t, p]}; expected a finite MWh value")
    if np.any(arr < 0):
        t, p = np.argwhere(arr < 0)[0]
        raise ValueError(f"{name}[{t}, {p}] = {arr[t, p]}; expected MWh >= 0")
    return arr


def _pair(load_mwh: ArrayLike, gen_mwh: ArrayLike) -> tuple[Array, Array]:
    """Validate a (load, generation) pair: same (T, P) shape, every participant with load."""
    load = _hourly("load_mwh", load_mwh)
    gen = _hourly("gen_mwh", gen_mwh)
    if load.shape != gen.shape:
        raise ValueError(
            f"gen_mwh has shape {gen.shape}; expected the shape of load_mwh {load.shape}"
        )
    empty = np.flatnonzero(load.sum(axis=0) <= 0)
    if empty.size:
        raise ValueError(
            f"load_mwh[:, {empty[0]}] sums to 0 MWh; CFE % needs a positive annual load "
            "for every participant"
        )
    return load, gen


def volumetric_re_pct(load_mwh: ArrayLike, gen_mwh: ArrayLike) -> Array:
    """Annual carbon-free generation over annual load, per participant (may exceed 100).

    Args:
        load_mwh: (T, P) hourly load, MWh.
        gen_mwh: (T, P) hourly carbon-free generation (certificates), MWh.

    Returns:
        (P,) ``100 * Σ_t gen / Σ_t load``, %.

    >>> volumetric_re_pct([[1.0], [1.0]], [[3.0], [0.0]]).tolist()
    [150.0]
    """
    load, gen = _pair(load_mwh, gen_mwh)
    return 100.0 * gen.sum(axis=0) / load.sum(axis=0)


def hourly_match_mwh(load_mwh: ArrayLike, gen_mwh: ArrayLike) -> Array:
    """Energy matched in the same hour by a participant's own generation, ``min(load, gen)``.

    Args:
        load_mwh: (T, P) hourly load, MWh.
        gen_mwh: (T, P) hourly carbon-free generation, MWh.

    Returns:
        (T, P) matched energy, MWh.
    """
    load, gen = _pair(load_mwh, gen_mwh)
    return np.minimum(load, gen)


def standalone_cfe_pct(load_mwh: ArrayLike, gen_mwh: ArrayLike) -> Array:
    """Hourly (24/7) CFE score of each participant on its own: ``Σ_t min(load, gen) / Σ_t load``.

    Args:
        load_mwh: (T, P) hourly load, MWh.
        gen_mwh: (T, P) hourly carbon-free generation, MWh.

    Returns:
        (P,) standalone CFE, %.

    >>> standalone_cfe_pct([[1.0], [1.0]], [[3.0], [0.0]]).tolist()
    [50.0]
    """
    load, gen = _pair(load_mwh, gen_mwh)
    return 100.0 * np.minimum(load, gen).sum(axis=0) / load.sum(axis=0)


@dataclass(frozen=True, slots=True)
class SwapResult:
    """Certificates moved inside the pool by :func:`pro_rata_swaps`.

    Attributes:
        received_mwh: (T, P) certificates each participant receives from the pool, MWh;
            at most its own hourly deficit ``max(load - gen, 0)``.
        exported_mwh: (T, P) certificates each participant gives to the pool, MWh; at
            most its own hourly surplus ``max(gen - load, 0)``.
        swapped_mwh: (T,) certificates changing hands in each hour, MWh.
    """

    received_mwh: Array
    exported_mwh: Array
    swapped_mwh: Array

    def gen_after_mwh(self, gen_mwh: ArrayLike) -> Array:
        """(T, P) certificates each participant holds after the swaps, MWh."""
        return np.asarray(gen_mwh, dtype=np.float64) - self.exported_mwh + self.received_mwh


def pro_rata_swaps(load_mwh: ArrayLike, gen_mwh: ArrayLike) -> SwapResult:
    """Swap surplus certificates inside the pool, hour by hour, pro rata.

    In each hour the over-producers' surplus ``S_t = Σ_p max(gen - load, 0)`` meets the
    under-producers' deficit ``D_t = Σ_p max(load - gen, 0)``; ``X_t = min(S_t, D_t)``
    certificates change hands. Each exporter gives ``X_t * surplus_p / S_t`` and each
    importer receives ``X_t * deficit_p / D_t`` (the seed tool's pro-rata rule). Swaps
    never create certificates (Σ_p received = Σ_p exported = X_t) and never lower a CFE
    score: importers gain matched energy and exporters keep ``gen >= load``.

    Args:
        load_mwh: (T, P) hourly load, MWh.
        gen_mwh: (T, P) hourly carbon-free generation, MWh.

    Returns:
        The received, exported and swapped certificates.

    >>> r = pro_rata_swaps([[1.0, 2.0, 1.0]], [[3.0, 0.0, 0.0]])
    >>> r.received_mwh.tolist(), r.exported_mwh.tolist()
    ([[0.0, 1.3333333333333333, 0.6666666666666666]], [[2.0, 0.0, 0.0]])
    """
    load, gen = _pair(load_mwh, gen_mwh)
    surplus = np.maximum(gen - load, 0.0)
    deficit = np.maximum(load - gen, 0.0)
    total_surplus = surplus.sum(axis=1)
    total_deficit = deficit.sum(axis=1)
    swapped = np.minimum(total_surplus, total_deficit)
    # Ratios in [0, 1] first, then scale: keeps received <= deficit exactly in float64.
    import_ratio = np.divide(
        swapped, total_deficit, out=np.zeros_like(swapped), where=total_deficit > 0
    )
    export_ratio = np.divide(
        swapped, total_surplus, out=np.zeros_like(swapped), where=total_surplus > 0
    )
    return SwapResult(
        received_mwh=deficit * import_ratio[:, None],
        exported_mwh=surplus * export_ratio[:, None],
        swapped_mwh=swapped,
    )


def swapped_cfe_pct(load_mwh: ArrayLike, gen_mwh: ArrayLike) -> Array:
    """Hourly CFE score of each participant after :func:`pro_rata_swaps`.

    Args:
        load_mwh: (T, P) hourly load, MWh.
        gen_mwh: (T, P) hourly carbon-free generation, MWh.

    Returns:
        (P,) ``Σ_t min(load, gen_after_swaps) / Σ_t load``, %.
    """
    load, gen = _pair(load_mwh, gen_mwh)
    received = pro_rata_swaps(load, gen).received_mwh
    return 100.0 * (np.minimum(load, gen) + received).sum(axis=0) / load.sum(axis=0)


def pooled_cfe_pct(load_mwh: ArrayLike, gen_mwh: ArrayLike) -> tuple[Array, float]:
    """CFE when the pool buys as one: ``Σ_t min(Σ_p load, Σ_p gen) / Σ_t Σ_p load``.

    Per participant, the pool's hourly coverage ratio ``r_t = min(1, G_t / L_t)`` is
    applied to its own load (each member's share of pooled matching is pro rata to its
    load in that hour), so the per-participant scores weighted by annual load give the
    pool score.

    Args:
        load_mwh: (T, P) hourly load, MWh.
        gen_mwh: (T, P) hourly carbon-free generation, MWh.

    Returns:
        ((P,) per-participant pooled CFE %, pool CFE %).

    >>> per, pool = pooled_cfe_pct([[1.0, 1.0], [1.0, 3.0]], [[0.0, 2.0], [0.0, 2.0]])
    >>> per.round(1).tolist(), round(pool, 1)
    ([75.0, 62.5], 66.7)
    """
    load, gen = _pair(load_mwh, gen_mwh)
    pool_load = load.sum(axis=1)
    pool_gen = gen.sum(axis=1)
    coverage = np.divide(
        np.minimum(pool_load, pool_gen), pool_load, out=np.ones_like(pool_load), where=pool_load > 0
    )
    per = 100.0 * (load * coverage[:, None]).sum(axis=0) / load.sum(axis=0)
    pool = 100.0 * float(np.minimum(pool_load, pool_gen).sum() / pool_load.sum())
    return per, pool


@dataclass(frozen=True, slots=True)
class CfeMetrics:
    """All four scores per participant ((P,) arrays, %) and for the pool (floats, %).

    The pool's standalone score sums each member's own hourly match; its swapped score
    equals its pooled score, because swapping moves ``min(S_t, D_t)`` certificates and
    ``Σ_p min(l, g) + min(S_t, D_t) = min(L_t, G_t)``.
    """

    volumetric_re_pct: Array
    standalone_cfe_pct: Array
    swapped_cfe_pct: Array
    pooled_cfe_pct: Array
    pool_volumetric_re_pct: float
    pool_standalone_cfe_pct: float
    pool_swapped_cfe_pct: float
    pool_pooled_cfe_pct: float


def cfe_metrics(load_mwh: ArrayLike, gen_mwh: ArrayLike) -> CfeMetrics:
    """Compute volumetric RE %, standalone, swapped and pooled CFE % in one pass.

    Args:
        load_mwh: (T, P) hourly load, MWh.
        gen_mwh: (T, P) hourly carbon-free generation, MWh.

    Returns:
        The :class:`CfeMetrics` of the pool.
    """
    load, gen = _pair(load_mwh, gen_mwh)
    annual_load = load.sum(axis=0)
    total_load = float(annual_load.sum())
    own = np.minimum(load, gen)
    received = pro_rata_swaps(load, gen).received_mwh
    pooled, pool_pooled = pooled_cfe_pct(load, gen)
    return CfeMetrics(
        volumetric_re_pct=100.0 * gen.sum(axis=0) / annual_load,
        standalone_cfe_pct=100.0 * own.sum(axis=0) / annual_load,
        swapped_cfe_pct=100.0 * (own + received).sum(axis=0) / annual_load,
        pooled_cfe_pct=pooled,
        pool_volumetric_re_pct=100.0 * float(gen.sum()) / total_load,
        pool_standalone_cfe_pct=100.0 * float(own.sum()) / total_load,
        pool_swapped_cfe_pct=100.0 * float((own + received).sum()) / total_load,
        pool_pooled_cfe_pct=pool_pooled,
    )


@dataclass(frozen=True, slots=True)
class Financials:
    """Annual settlement of each participant, EUR ((P,) arrays; + = money received).

    Attributes:
        certificate_revenue_eur: surplus certificates left after swaps, sold outside the
            pool at the certificate price.
        swap_revenue_eur: certificates given to pool partners, paid at the swap price.
        swap_cost_eur: certificates received from pool partners, paid at the swap price.
        shortage_cost_eur: unmatched load after swaps, bought at the shortage price
            (firming power or hourly certificates from outside the pool).
        net_settlement_eur: revenue + swap revenue - swap cost - shortage cost.
        standalone_net_eur: the same settlement without the pool (no swaps).
    """

    certificate_revenue_eur: Array
    swap_revenue_eur: Array
    swap_cost_eur: Array
    shortage_cost_eur: Array
    net_settlement_eur: Array
    standalone_net_eur: Array

    @property
    def pooling_gain_eur(self) -> Array:
        """(P,) net settlement in the pool minus standalone, EUR."""
        return self.net_settlement_eur - self.standalone_net_eur


def _price(name: str, value: ArrayLike, n: int) -> Array:
    """Broadcast a scalar or (P,) price to (P,) EUR/MWh, rejecting NaN, inf and negatives."""
    arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name}={arr.tolist()}; expected finite prices >= 0 EUR/MWh")
    return arr


def financials(
    load_mwh: ArrayLike,
    gen_mwh: ArrayLike,
    *,
    certificate_price_eur_per_mwh: ArrayLike,
    shortage_price_eur_per_mwh: ArrayLike,
    swap_price_eur_per_mwh: float,
) -> Financials:
    """Settle certificates and shortages for the year, with and without the pool.

    Args:
        load_mwh: (T, P) hourly load, MWh.
        gen_mwh: (T, P) hourly carbon-free generation, MWh.
        certificate_price_eur_per_mwh: scalar or (P,) price of a surplus certificate
            sold outside the pool, EUR/MWh.
        shortage_price_eur_per_mwh: scalar or (P,) price of an unmatched MWh, EUR/MWh.
        swap_price_eur_per_mwh: internal transfer price of a swapped certificate, EUR/MWh;
            swap payments net to zero over the pool.

    Returns:
        The :class:`Financials` of each participant.

    >>> f = financials([[1.0, 2.0]], [[3.0, 0.0]], certificate_price_eur_per_mwh=5.0,
    ...                shortage_price_eur_per_mwh=50.0, swap_price_eur_per_mwh=10.0)
    >>> f.net_settlement_eur.tolist(), f.pooling_gain_eur.tolist()
    ([20.0, -20.0], [10.0, 80.0])
    """
    load, gen = _pair(load_mwh, gen_mwh)
    n = load.shape[1]
    cert = _price("certificate_price_eur_per_mwh", certificate_price_eur_per_mwh, n)
    short = _price("shortage_price_eur_per_mwh", shortage_price_eur_per_mwh, n)
    swap = float(_price("swap_price_eur_per_mwh", swap_price_eur_per_mwh, 1)[0])
    surplus = np.maximum(gen - load, 0.0).sum(axis=0)
    deficit = np.maximum(load - gen, 0.0).sum(axis=0)
    swaps = pro_rata_swaps(load, gen)
    exported = swaps.exported_mwh.sum(axis=0)
    received = swaps.received_mwh.sum(axis=0)
    revenue = (surplus - exported) * cert
    shortage = (deficit - received) * short
    swap_revenue = exported * swap
    swap_cost = received * swap
    return Financials(
        certificate_revenue_eur=revenue,
        swap_revenue_eur=swap_revenue,
        swap_cost_eur=swap_cost,
        shortage_cost_eur=shortage,
        net_settlement_eur=revenue + swap_revenue - swap_cost - shortage,
        standalone_net_eur=surplus * cert - deficit * short,
    )


# --- Annual volumes ---------------------------------------------------------------
def scale_to_annual(shape: ArrayLike, annual_mwh: ArrayLike) -> Array:
    """Rescale non-negative hourly shapes so that each column sums to its annual volume.

    Args:
        shape: (T,) or (T, P) non-negative hourly profile (any unit).
        annual_mwh: scalar or (P,) target annual energy, MWh.

    Returns:
        Array of ``shape``'s shape whose columns sum to ``annual_mwh``, MWh per hour.

    >>> scale_to_annual([1.0, 3.0], 8.0).tolist()
    [2.0, 6.0]
    """
    arr = np.asarray(shape, dtype=np.float64)
    total = arr.sum(axis=0)
    if np.any(total <= 0) or np.any(arr < 0) or not np.all(np.isfinite(arr)):
        raise ValueError("shape must be finite, >= 0 and not all zero in every column")
    return arr * (np.asarray(annual_mwh, dtype=np.float64) / total)
