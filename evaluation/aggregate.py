"""Aggregation across seeds and scenarios: mean, IQM, bootstrap intervals, P(improvement).

After Agarwal et al. (2021), "Deep RL at the edge of the statistical precipice" (the
``rliable`` library): point estimates over all runs of all tasks, with stratified
bootstrap confidence intervals (runs resampled within each task, here seeds within each
scenario). ``rliable`` itself does not import here (its ``arch`` dependency fails on the
installed pandas), so the bootstrap is ``scipy.stats.bootstrap``, which resamples each of
several samples independently: one sample per scenario is exactly the stratified scheme.

Dims legend: S scenarios (strata), R runs (seeds) per scenario, B bootstrap resamples.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats

__all__ = ["iqm", "probability_of_improvement", "stratified_bootstrap"]

FloatArray = np.ndarray


def iqm(x: FloatArray, axis: int = -1) -> FloatArray:
    """Interquartile mean: the mean of the middle 50% (``trim_mean(x, 0.25)``).

    >>> float(iqm(np.array([0.0, 1.0, 2.0, 3.0, 100.0, -100.0, 1.0, 2.0])))
    1.5
    """
    return stats.trim_mean(x, 0.25, axis=axis)


def _pooled(stat: Callable[..., FloatArray]) -> Callable[..., FloatArray]:
    """Statistic over the concatenation of all strata (each (..., R_s)) along the last axis."""

    def pooled(*strata: FloatArray, axis: int = -1) -> FloatArray:
        return stat(np.concatenate(strata, axis=axis), axis=axis)

    return pooled


def stratified_bootstrap(
    strata: Sequence[FloatArray],
    statistic: str | Callable[..., FloatArray] = "mean",
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    rng: np.random.Generator | None = None,
) -> tuple[float, float, float]:
    """Point estimate and percentile bootstrap interval of a statistic of pooled runs.

    Args:
        strata: S arrays (R_s,) of finite scores, one per scenario; NaN entries are
            dropped and empty strata ignored.
        statistic: ``"mean"``, ``"iqm"`` or a vectorised ``f(*strata, axis=-1)``
            (then the strata are passed separately, e.g. for paired statistics).
        confidence: interval level.
        n_resamples: bootstrap resamples B.
        rng: the Generator of the resamples (default: seeded 0, for reproducible tables).

    Returns:
        ``(point, low, high)``; all NaN when no finite score remains. With a single run
        per stratum the interval collapses to the point estimate.
    """
    data = [np.asarray(s, dtype=np.float64) for s in strata]
    data = [s[np.isfinite(s)] for s in data]
    data = [s for s in data if s.size]
    if not data:
        return float("nan"), float("nan"), float("nan")
    if callable(statistic):
        fn = statistic
    elif statistic in ("mean", "iqm"):
        fn = _pooled(np.mean if statistic == "mean" else iqm)
    else:
        raise ValueError(f"statistic={statistic!r}; expected 'mean', 'iqm' or a callable")
    point = float(fn(*data, axis=-1))
    if all(s.size < 2 for s in data):
        return point, point, point
    # scipy resamples only samples of two or more runs; a single run resamples to
    # itself, so such strata enter the statistic as constants.
    varying = [i for i, s in enumerate(data) if s.size >= 2]

    def with_constants(*resampled: FloatArray, axis: int = -1) -> FloatArray:
        lead = resampled[0].shape[:-1]
        full = [np.broadcast_to(s, (*lead, s.size)) for s in data]
        for i, r in zip(varying, resampled, strict=True):
            full[i] = r
        return fn(*full, axis=axis)

    with warnings.catch_warnings():
        # A stratum of identical runs gives a degenerate distribution; the interval is
        # still the right one (it collapses), so the warning is noise here.
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        res = stats.bootstrap(
            [data[i] for i in varying],
            with_constants,
            vectorized=True,
            paired=False,
            confidence_level=confidence,
            n_resamples=n_resamples,
            method="percentile",
            random_state=rng if rng is not None else np.random.default_rng(0),
        )
    low, high = res.confidence_interval
    return point, float(low), float(high)


def _poi_statistic(n_strata: int) -> Callable[..., FloatArray]:
    """P(X > Y) averaged over strata; the first ``n_strata`` samples are X, the rest Y."""

    def poi(*samples: FloatArray, axis: int = -1) -> FloatArray:
        xs, ys = samples[:n_strata], samples[n_strata:]
        per = []
        for x, y in zip(xs, ys, strict=True):  # loop over S strata (a handful)
            gt = (x[..., :, None] > y[..., None, :]).mean(axis=(-2, -1))
            eq = (x[..., :, None] == y[..., None, :]).mean(axis=(-2, -1))
            per.append(gt + 0.5 * eq)  # Mann-Whitney U / (n m): ties count half
        return np.mean(per, axis=0)

    return poi


def probability_of_improvement(
    x_strata: Sequence[FloatArray],
    y_strata: Sequence[FloatArray],
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    rng: np.random.Generator | None = None,
) -> tuple[float, float, float]:
    """P(X > Y): the chance that a run of X beats a run of Y on a random scenario.

    Per scenario, the Mann-Whitney U statistic over all run pairs divided by ``n m`` (ties
    count half), averaged over scenarios; a stratified bootstrap gives the interval.

    Args:
        x_strata, y_strata: S arrays each, aligned by scenario; a scenario where
            either side has no finite run is left out.

    Returns:
        ``(point, low, high)`` in [0, 1]; NaN when no scenario has both.

    >>> probability_of_improvement([np.array([2.0, 3.0])], [np.array([1.0, 3.0])])[0]
    0.625
    """
    if len(x_strata) != len(y_strata):
        raise ValueError(
            f"x_strata has {len(x_strata)} scenarios and y_strata {len(y_strata)}; "
            "expected the same scenarios in the same order"
        )
    xs, ys = [], []
    for x, y in zip(x_strata, y_strata, strict=True):
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        x, y = x[np.isfinite(x)], y[np.isfinite(y)]
        if x.size and y.size:
            xs.append(x)
            ys.append(y)
    if not xs:
        return float("nan"), float("nan"), float("nan")
    return stratified_bootstrap(
        [*xs, *ys],
        _poi_statistic(len(xs)),
        confidence=confidence,
        n_resamples=n_resamples,
        rng=rng,
    )
