"""``spot_v1``: the coalition in the spot (energy) market only.

The same simulator as :mod:`envs.multimarket_v1` with the reserve and capacity markets
closed (``reserve.enabled`` and ``capacity.enabled`` forced to false), so the coalition's
action is ``[q, p]`` (plus ``[b, f]`` when members are not agents) and incumbents bid
``K`` markups and a withheld share. Agents, observations, rewards, termination, infos
and arguments are as documented in :mod:`envs.multimarket_v1`.

Version history
---------------
- v1: market model v2 (see :mod:`envs.multimarket_v1`); trajectories differ from v0's.
- v0: first release (market model v1); removed.
"""

from __future__ import annotations

from envs.adapters.factories import market_factories

ENV_ID = "spot_v1"
make_env, make_gym, make_vector, env, parallel_env, raw_env = market_factories(
    ENV_ID, {"reserve.enabled": False, "capacity.enabled": False}
)
