"""Agents that choose actions without learning at run time, and the policy loader.

``agents.load("rule")`` or ``agents.load("my_pkg.my_mod:MyAgent", **kwargs)``; see
:mod:`agents.base` for the protocol.
"""

from agents.base import BUILTINS, MarketPolicy, Policy, Team, load

__all__ = ["BUILTINS", "MarketPolicy", "Policy", "Team", "load"]
