"""Pure market-clearing functions over batched numpy arrays (no agents, gym or logging).

Dims legend used across the package: E envs, S supply blocks, B demand blocks,
R reserve offers, C capacity offers, G generators, K tranches per generator,
N members, H forecast hours, T episode hours.
"""

from envs.market.allocation import allocate
from envs.market.capacity import (
    CapacityResult,
    VrrCurve,
    assess_performance,
    clear_capacity,
    vrr_price,
)
from envs.market.cooptimise import JointResult, clear_joint
from envs.market.metrics import MarketPowerResult, market_power
from envs.market.reserve import ReserveResult, clear_reserve
from envs.market.spot import SpotResult, clear_spot

__all__ = [
    "CapacityResult",
    "JointResult",
    "MarketPowerResult",
    "ReserveResult",
    "SpotResult",
    "VrrCurve",
    "allocate",
    "assess_performance",
    "clear_capacity",
    "clear_joint",
    "clear_reserve",
    "clear_spot",
    "market_power",
    "vrr_price",
]
