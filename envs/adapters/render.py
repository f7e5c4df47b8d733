"""The ``rgb_array`` frame of the market envs: a small image of the hour last cleared.

Left: the day-ahead merit order (offers sorted by price, cumulative MW) and the demand
(bids sorted by price, highest first) with the clearing price; the coalition's own bid
(or sale) is marked. Right: the coalition's position (bid, accepted, imbalance, MW or
MWh) and the members' states of charge (share of each battery, mean and range). The
title carries the hour and the spot, reserve and capacity prices. Drawn with
matplotlib's Agg canvas (no window, no display); one frame takes a few tens of ms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from envs.sim.core import MarketCore

#: Frame size in pixels (width, height) and the dots per inch that give it.
WIDTH, HEIGHT, DPI = 480, 360, 100


def _merit_order(q: np.ndarray, p: np.ndarray, descending: bool) -> tuple[np.ndarray, ...]:
    """Step-curve points (cumulative MW, EUR/MWh) of blocks ``q`` MW at prices ``p``."""
    keep = q > 0
    q, p = q[keep], p[keep]
    order = np.argsort(-p if descending else p, kind="stable")
    q, p = q[order], p[order]
    x = np.concatenate([[0.0], np.cumsum(q)])
    return x, np.concatenate([p, p[-1:]]) if p.size else np.zeros(1)


def market_frame(core: MarketCore, book: dict[str, np.ndarray] | None) -> np.ndarray:
    """The frame of env 0 of ``core`` as a (HEIGHT, WIDTH, 3) uint8 array.

    Args:
        core: the simulator after the hour was cleared (prices, states of charge).
        book: :meth:`MarketCore.day_ahead_book` of that hour, computed before the step;
            None before the first step (the frame then says no hour has cleared).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    canvas = FigureCanvasAgg(fig)
    last = core.last
    fig.suptitle(
        f"hour {core.t}: spot {last.price[0]:.0f} EUR/MWh, reserve "
        f"{last.reserve_price[0]:.0f} EUR/MW, capacity "
        f"{core.state.cap_price_eur_per_mw_day[0]:.0f} EUR/MW-day",
        fontsize=9,
    )
    ax = fig.add_axes((0.11, 0.13, 0.5, 0.74))
    side = fig.add_axes((0.71, 0.13, 0.19, 0.74))
    for a in (ax, side):
        a.tick_params(labelsize=7)
    if book is None:
        ax.text(0.5, 0.5, "no hour cleared yet", ha="center", va="center", fontsize=9)
    else:
        sx, sy = _merit_order(book["supply_q"][0], book["supply_p"][0], descending=False)
        dx, dy = _merit_order(book["demand_q"][0], book["demand_p"][0], descending=True)
        price = float(book["price"][0])
        # Prices at the cap or floor (inelastic load, must-run offers) are drawn at the
        # frame's edges so that both curves stay visible around the clearing price.
        low, high = min(-10.0, price - 50.0), max(200.0, 2.0 * price)
        ax.step(sx, np.clip(sy, low, high), where="post", color="tab:blue", lw=1, label="offers")
        dx, dy = np.append(dx, dx[-1]), np.append(np.clip(dy, low, high), low)  # drop at the end
        ax.step(dx, dy, where="post", color="tab:orange", lw=1, label="bids")
        ax.axhline(price, color="k", lw=0.6, ls="--", label=f"clear {price:.0f}")
        ax.set_ylim(low - 5.0, high + 5.0)
        ax.legend(fontsize=7, loc="upper left", frameon=False)
        ax.set_xlabel("day-ahead MW", fontsize=8)
        ax.set_ylabel("EUR/MWh", fontsize=8)
        bid = book["demand_q"][0, -1] - book["supply_q"][0, -1]  # + buy, - sell
        got = book["demand_acc"][0, -1] - book["supply_acc"][0, -1]
        imb = float(core.last.imbalance[0])
        side.bar([0, 1, 2], [bid, got, imb], color=["tab:gray", "tab:green", "tab:red"])
        side.set_xticks([0, 1, 2], ["bid", "won", "imb"], fontsize=7)
        side.set_ylabel("coalition MW", fontsize=8)
        side.axhline(0.0, color="k", lw=0.4)
    if core.dims.N and book is not None:
        soc = core.state.soc_mwh[0] * core.scales.inv_battery_mwh
        twin = side.twinx()
        twin.set_ylim(0.0, 1.0)
        twin.errorbar([3], [soc.mean()], yerr=[[soc.mean() - soc.min()], [soc.max() - soc.mean()]],
                      fmt="o", ms=3, color="tab:purple", lw=0.8)  # fmt: skip
        twin.tick_params(labelsize=7)
        twin.set_ylabel("members' state of charge", fontsize=8, color="tab:purple")
        side.set_xticks([0, 1, 2, 3], ["bid", "won", "imb", "soc"], fontsize=7)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[:, :, :3].copy()
