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
        b_mean, b_var, b_count = x.mean(0), x.var(0), x.shape[0]
        delta = b_mean - self.mean
        total = self.count + b_count
        self.mean = np.asarray(self.mean + delta * b_count / total)
        m2 = self.var * self.count + b_var * b_count + delta**2 * self.count * b_count / total
        self.var = np.asarray(m2 / total)
        self.count = total

    def normalize(self, x: np.ndarray) -> np.ndarray:
        """``(x - mean) / std``, clipped, float32."""
        z = (np.asarray(x, np.float64) - self.mean) / np.sqrt(self.var + 1e-8)
        return np.clip(z, -self.clip, self.clip).astype(np.float32)

    def normalize_t(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`normalize` for a float32 tensor (no clipping: used for value targets)."""
        mean = torch.as_tensor(self.mean, dtype=x.dtype)
        return (x - mean) / torch.as_tensor(np.sqrt(self.var + 1e-8), dtype=x.dtype)

    def denormalize_t(self, x: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`normalize_t`."""
        mean = torch.as_tensor(self.mean, dtype=x.dtype)
        return x * torch.as_tensor(np.sqrt(self.var + 1e-8), dtype=x.dtype) + mean

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
