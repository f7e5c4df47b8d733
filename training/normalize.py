"""Running mean and variance for observation and value normalisation.

Welford/Chan's parallel update in float64 (as SB3's ``RunningMeanStd``); the state is
plain tensors so checkpoints load with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["RunningMeanStd"]


class RunningMeanStd:
    """Mean and variance of a stream of vectors of ``shape``.

    Args:
        shape: feature shape (``()`` for scalars).
        clip: normalised values are clipped to ``[-clip, clip]``.
        epsilon: initial count (avoids division by zero before the first update).
    """

    def __init__(self, shape: tuple[int, ...] = (), clip: float = 10.0, epsilon: float = 1e-4):
        self.mean = np.zeros(shape, np.float64)
        self.var = np.ones(shape, np.float64)
        self.count = float(epsilon)
        self.clip = float(clip)

    def update(self, x: np.ndarray) -> None:
        """Fold in a batch ``x`` of shape ``(..., *shape)`` (every leading axis is samples)."""
        x = np.asarray(x, np.float64).reshape(-1, *self.mean.shape)
        self._fold(x.mean(0), x.var(0), x.shape[0])

    def update_split(self, common: np.ndarray, own: np.ndarray) -> None:
        """:meth:`update` with vectors ``cat(common[e], own[e, i])`` for every agent ``i``.

        A group's agents share their first C features, so each sample's common part
        stands for n identical rows: its mean and variance over the E samples are those
        over the E * n rows, and the count is E * n, without building the rows.

        Args:
            common: (E, C) the shared features; own: (E, n, D - C) the rest.
        """
        c = np.asarray(common, np.float64)
        o = np.asarray(own, np.float64).reshape(-1, own.shape[-1])
        mean = np.concatenate([c.mean(0), o.mean(0)])
        var = np.concatenate([c.var(0), o.var(0)])
        self._fold(mean, var, o.shape[0])

    def normalize_split(self, common: np.ndarray, own: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`normalize` of :meth:`update_split`'s two parts, each float32."""
        k = common.shape[-1]
        return self._scaled(common, slice(None, k)), self._scaled(own, slice(k, None))

    def _fold(self, b_mean: np.ndarray, b_var: np.ndarray, b_count: int) -> None:
        """Chan's parallel update with a batch's mean, variance and count."""
        delta = b_mean - self.mean
        total = self.count + b_count
        self.mean = np.asarray(self.mean + delta * b_count / total)
        m2 = self.var * self.count + b_var * b_count + delta**2 * self.count * b_count / total
        self.var = np.asarray(m2 / total)
        self.count = total

    def normalize(self, x: np.ndarray) -> np.ndarray:
        """``(x - mean) / std``, clipped, float32."""
        return self._scaled(x, slice(None))

    def _scaled(self, x: np.ndarray, features: slice) -> np.ndarray:
        """:meth:`normalize` of ``x`` (..., k) against the statistics of ``features``."""
        z = (np.asarray(x, np.float64) - self.mean[features]) / np.sqrt(self.var[features] + 1e-8)
        return np.clip(z, -self.clip, self.clip).astype(np.float32)

    def normalize_t(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`normalize` for a float32 tensor (no clipping: used for value targets)."""
        mean = torch.as_tensor(self.mean, dtype=x.dtype, device=x.device)
        std = torch.as_tensor(np.sqrt(self.var + 1e-8), dtype=x.dtype, device=x.device)
        return (x - mean) / std

    def denormalize_t(self, x: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`normalize_t`."""
        mean = torch.as_tensor(self.mean, dtype=x.dtype, device=x.device)
        return x * torch.as_tensor(np.sqrt(self.var + 1e-8), dtype=x.dtype, device=x.device) + mean

    def state_dict(self) -> dict[str, torch.Tensor | float]:
        """Tensors and floats only (safe for ``weights_only`` loading)."""
        return {
            "mean": torch.from_numpy(self.mean.copy()),
            "var": torch.from_numpy(self.var.copy()),
            "count": self.count,
            "clip": self.clip,
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore from :meth:`state_dict`.

        Raises:
            ValueError: the saved statistics have another shape.
        """
        mean = state["mean"].numpy().astype(np.float64)
        if mean.shape != self.mean.shape:
            raise ValueError(
                f"normaliser statistics have shape {mean.shape}; expected {self.mean.shape}"
            )
        self.mean, self.var = mean, state["var"].numpy().astype(np.float64)
        self.count, self.clip = float(state["count"]), float(state["clip"])
