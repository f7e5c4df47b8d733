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
prices are EUR/MWh; percentages are 0-100. Inputs are never mutated. The last section
holds the small seeded synthetic profile generator used by ``python -m evaluation.cfe``
(daily shapes by sector, clear-sky solar times cloudiness, Weibull/AR wind through a
power curve); real profiles come from :mod:`envs.real_profiles`.

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
from scipy.signal import lfilter
from scipy.special import gamma as gamma_fn
from scipy.special import ndtr

__all__ = [
    "SECTORS",
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
    "synthetic_load_mwh",
    "synthetic_solar_cf",
    "synthetic_wind_cf",
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


# --- Synthetic profiles ---------------------------------------------------------------
# Relative hourly load by sector (hour 0-23, local time), weekend factor, summer-cooling
# and winter-heating amplitudes, and the sd of the AR(1) multiplicative noise. Shapes
# follow typical commercial load research curves: flat data centres, 24/7 hospitals,
# shops open 9-21, two-shift industry, morning/evening residential peaks, 8-18 offices.
# fmt: off
_SECTOR_TABLE: dict[str, tuple[tuple[float, ...], float, float, float, float]] = {
    "data_centre": ((0.97, 0.97, 0.97, 0.97, 0.97, 0.97, 0.97, 0.97, 1.0, 1.01, 1.02, 1.03,
                     1.04, 1.05, 1.05, 1.04, 1.03, 1.01, 1.0, 0.99, 0.98, 0.98, 0.97, 0.97),
                    1.0, 0.08, 0.0, 0.02),
    "hospital": ((0.75, 0.75, 0.75, 0.75, 0.75, 0.75, 0.85, 0.95, 1.1, 1.1, 1.1, 1.1,
                  1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.0, 0.95, 0.9, 0.85, 0.8, 0.78),
                 0.85, 0.25, 0.1, 0.04),
    "retailer": ((0.35, 0.35, 0.35, 0.35, 0.35, 0.35, 0.35, 0.5, 0.8, 1.0, 1.0, 1.0,
                  1.0, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.0, 0.8, 0.55, 0.4, 0.35),
                 0.9, 0.35, 0.05, 0.05),
    "industrial": ((0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
                    1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.7),
                   0.6, 0.1, 0.05, 0.05),
    "residential": ((0.5, 0.45, 0.42, 0.4, 0.42, 0.5, 0.75, 0.95, 0.9, 0.75, 0.7, 0.7,
                     0.72, 0.7, 0.72, 0.8, 0.95, 1.15, 1.3, 1.35, 1.3, 1.15, 0.9, 0.65),
                    1.1, 0.45, 0.2, 0.08),
    "business": ((0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.7, 0.95, 1.05, 1.05, 1.05,
                  1.05, 1.05, 1.05, 1.05, 1.05, 1.05, 0.8, 0.6, 0.5, 0.45, 0.42, 0.4),
                 0.45, 0.3, 0.08, 0.05),
}
# fmt: on
#: Sectors with a synthetic daily shape.
SECTORS: tuple[str, ...] = tuple(_SECTOR_TABLE)


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


def _ar1(rng: np.random.Generator, rho: float, size: tuple[int, ...]) -> Array:
    """Stationary unit-variance AR(1) series along axis 0 (lfilter, no Python loop)."""
    eps = rng.standard_normal(size)
    # Innovations have variance 1 - rho^2; the first draw keeps variance 1, so the
    # series starts in its stationary law.
    eps[1:] *= np.sqrt(1.0 - rho**2)
    return np.asarray(lfilter([1.0], [1.0, -rho], eps, axis=0), dtype=np.float64)


def _day_of_year(hours: int) -> tuple[NDArray[np.int64], Array]:
    """(T,) hour of day and (T,) day of year (0-based, fractional-free) for hour index t."""
    t = np.arange(hours)
    return t % 24, (t // 24).astype(np.float64)


def synthetic_load_mwh(
    sectors: list[str] | tuple[str, ...],
    annual_load_mwh: ArrayLike,
    rng: np.random.Generator,
    *,
    hours: int = 8760,
    first_weekday: int = 6,
) -> Array:
    """Hourly load by sector: daily shape x weekend x cooling/heating season x AR noise.

    Args:
        sectors: P sector names from :data:`SECTORS`.
        annual_load_mwh: (P,) annual load of each participant, MWh.
        rng: the random stream.
        hours: T, number of hours from 1 January 00:00.
        first_weekday: weekday of 1 January (0 = Monday ... 6 = Sunday; 2023 starts on 6).

    Returns:
        (T, P) load, MWh per hour, each column summing to its annual load.

    Raises:
        ValueError: an unknown sector (the message lists the valid ones).
    """
    unknown = [s for s in sectors if s not in _SECTOR_TABLE]
    if unknown:
        raise ValueError(f"sector {unknown[0]!r} is unknown; valid sectors: {', '.join(SECTORS)}")
    table = [_SECTOR_TABLE[s] for s in sectors]
    daily = np.array([row[0] for row in table])  # (P, 24)
    weekend, cool, heat, noise_sd = (np.array([row[i] for row in table]) for i in range(1, 5))
    hour, day = _day_of_year(hours)
    is_weekend = ((day.astype(np.int64) + first_weekday) % 7) >= 5
    # Cooling peaks late July (day 200), heating mid-January (day 15): ERCOT-like.
    summer = np.maximum(np.cos(2 * np.pi * (day - 200.0) / 365.0), 0.0)
    winter = np.maximum(np.cos(2 * np.pi * (day - 15.0) / 365.0), 0.0)
    shape = daily.T[hour]  # (T, P)
    shape = shape * np.where(is_weekend[:, None], weekend, 1.0)
    shape = shape * (1.0 + cool * summer[:, None] + heat * winter[:, None])
    noise = np.exp(noise_sd * _ar1(rng, 0.9, (hours, len(sectors))))
    return scale_to_annual(shape * noise, annual_load_mwh)


def synthetic_solar_cf(
    rng: np.random.Generator, *, hours: int = 8760, latitude_deg: float = 31.0
) -> Array:
    """Hourly PV capacity factor: Haurwitz clear-sky GHI x Kasten-Czeplak cloud factor.

    Clear-sky GHI = 1098 cos Z exp(-0.057 / cos Z) W/m^2 (Haurwitz 1945) at the mid-hour
    solar position (Cooper's declination, solar time = clock time). Cloud cover is a
    daily AR(1) latent Gaussian mapped to [0, 1] plus hourly jitter; the clear-sky index
    is 1 - 0.75 c^3.4 (Kasten & Czeplak 1980). Output = 0.85 performance ratio x GHI /
    1000 W/m^2, clipped to [0, 1].

    Args:
        rng: the random stream.
        hours: T, number of hours from 1 January 00:00.
        latitude_deg: site latitude, degrees north.

    Returns:
        (T,) capacity factor in [0, 1].
    """
    hour, day = _day_of_year(hours)
    decl = np.radians(23.44) * np.sin(2 * np.pi * (284.0 + day + 1.0) / 365.0)
    omega = np.radians(15.0 * (hour + 0.5 - 12.0))
    lat = np.radians(latitude_deg)
    cos_z = np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(omega)
    safe = np.maximum(cos_z, 1e-3)
    ghi_clear = np.where(cos_z > 0.0, 1098.0 * cos_z * np.exp(-0.057 / safe), 0.0)
    n_days = int(np.ceil(hours / 24))
    daily = _ar1(rng, 0.6, (n_days,))[(np.arange(hours) // 24)]
    cloud = np.clip(ndtr(daily - 0.3 + 0.3 * _ar1(rng, 0.8, (hours,))), 0.0, 1.0)
    kt = 1.0 - 0.75 * cloud**3.4
    return np.clip(0.85 * ghi_clear * kt / 1000.0, 0.0, 1.0)


def synthetic_wind_cf(
    rng: np.random.Generator,
    *,
    hours: int = 8760,
    mean_speed_m_per_s: float = 7.5,
    weibull_k: float = 2.0,
) -> Array:
    """Hourly wind capacity factor: AR(1) Gaussian copula -> Weibull speed -> power curve.

    Speeds keep a Weibull(k, c) marginal (c = mean / Gamma(1 + 1/k)) with hour-to-hour
    persistence rho = 0.97; c is modulated by a night-time maximum and a spring maximum
    (typical of inland plains wind). A generic power curve: 0 below 3 m/s, cubic to rated
    at 12 m/s, rated to the 25 m/s cut-out.

    Args:
        rng: the random stream.
        hours: T, number of hours from 1 January 00:00.
        mean_speed_m_per_s: long-run mean hub-height wind speed, m/s.
        weibull_k: Weibull shape parameter.

    Returns:
        (T,) capacity factor in [0, 1].
    """
    hour, day = _day_of_year(hours)
    scale = mean_speed_m_per_s / gamma_fn(1.0 + 1.0 / weibull_k)
    modulation = (
        1.0
        + 0.15 * np.cos(2 * np.pi * (hour - 3.0) / 24.0)
        + 0.10 * np.cos(2 * np.pi * (day - 100.0) / 365.0)
    )
    u = np.clip(ndtr(_ar1(rng, 0.97, (hours,))), 1e-12, 1.0 - 1e-12)
    speed = scale * modulation * (-np.log1p(-u)) ** (1.0 / weibull_k)
    cut_in, rated, cut_out = 3.0, 12.0, 25.0
    ramp = (speed**3 - cut_in**3) / (rated**3 - cut_in**3)
    return np.where(speed < cut_in, 0.0, np.where(speed < rated, ramp, (speed < cut_out) * 1.0))
