"""TensorBoard scalars, the config as text, and a progress bar (STYLE §9).

Tags (x axis: env steps summed over the E envs):

- ``losses/<name>`` (PPO) or ``losses/<name>/<group>`` (MAPPO, one actor per group):
  policy_loss, value_loss, entropy, approx_kl, clipfrac, explained_variance;
- ``charts/episodic_return/<group>``: mean per-agent episode return, EUR (unscaled);
  ``charts/episodic_length``: hours;
- ``market/``: clearing_price_eur_per_mwh (episode mean), markup (mean Lerner index
  of the clearing price), coalition_saving_eur (members' total saving per episode),
  unserved_energy_mwh and emissions_t (episode totals), welfare_eur (episode total);
- ``time/sps``: env steps per second of the whole iteration (rollout and update).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

__all__ = ["MarketStats", "RunLogger"]

log = logging.getLogger(__name__)

#: market/<tag> -> (info key, reduction over the episode's hours).
MARKET_TAGS: dict[str, tuple[str, str]] = {
    "clearing_price_eur_per_mwh": ("price_eur_per_mwh", "mean"),
    "markup": ("lerner_index", "mean"),
    "coalition_saving_eur": ("members_saving_eur", "sum"),
    "unserved_energy_mwh": ("unserved_energy_mwh", "sum"),
    "emissions_t": ("emissions_t", "sum"),
    "welfare_eur": ("welfare_eur", "sum"),
}


class MarketStats:
    """Accumulates the market info keys of one batched episode (arrays of shape (E,))."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.hours = 0

    def add(self, info: dict[str, np.ndarray]) -> None:
        """Fold in one step's infos (each an (E,) array); means over E are kept."""
        for key, _ in MARKET_TAGS.values():
            if key in info:
                self.sums[key] = self.sums.get(key, 0.0) + float(np.mean(info[key]))
        self.hours += 1

    def scalars(self) -> dict[str, float]:
        """``market/<tag>`` -> value for the episode (mean over envs)."""
        out = {}
        for tag, (key, how) in MARKET_TAGS.items():
            if key in self.sums:
                total = self.sums[key]
                out[f"market/{tag}"] = total / max(self.hours, 1) if how == "mean" else total
        return out


def config_markdown(cfg: dict[str, Any]) -> str:
    """The resolved config as a Markdown table (TensorBoard's text plugin renders it)."""

    def flat(d: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = []
        for k, v in d.items():
            if isinstance(v, dict) and v:
                rows += flat(v, f"{prefix}{k}.")
            else:
                rows.append((f"{prefix}{k}", v))
        return rows

    lines = ["|key|value|", "|-|-|"] + [f"|{k}|{v}|" for k, v in flat(cfg)]
    return "\n".join(lines)


class RunLogger:
    """A ``SummaryWriter`` in ``run_dir`` plus a tqdm bar over the run's env steps.

    Args:
        run_dir: folder of the run (event files go there).
        config: the resolved config (plain dict), logged once as text.
        total_steps: env steps of the whole run (the bar's total).
        start_step: env steps already done (resumed runs).
        progress: show the progress bar.
    """

    def __init__(
        self,
        run_dir: str | Path,
        config: dict[str, Any],
        total_steps: int,
        start_step: int = 0,
        progress: bool = True,
    ) -> None:
        self.writer = SummaryWriter(str(run_dir))
        self.writer.add_text("config", config_markdown(config), start_step)
        self.writer.add_text("config_yaml", "```\n" + yaml.safe_dump(config) + "```", start_step)
        self.show_progress = progress
        self.bar = tqdm(total=total_steps, initial=start_step, unit="step", disable=not progress,
                        dynamic_ncols=True, smoothing=0.1)  # fmt: skip

    def scalars(self, values: dict[str, float], step: int) -> None:
        """Write each ``tag -> value`` at ``step`` (NaN values are skipped)."""
        for tag, value in values.items():
            if value is not None and np.isfinite(value):
                self.writer.add_scalar(tag, float(value), step)

    def progress(self, steps: int, saving_eur: float | None) -> None:
        """Advance the bar by ``steps`` and show the latest members' saving (EUR per
        episode, ``market/coalition_saving_eur``: what the run's last line reports too)."""
        if saving_eur is not None:
            self.bar.set_postfix_str(f"members' saving {saving_eur:,.0f} EUR", refresh=False)
        self.bar.update(steps)

    def note(self, line: str) -> None:
        """Print a line above the bar (and keep it in the event file as text)."""
        tqdm.write(line)
        self.writer.add_text("notes", line, 0)

    def close(self) -> None:
        """Flush the event file and close the bar."""
        self.writer.flush()
        self.writer.close()
        self.bar.close()
