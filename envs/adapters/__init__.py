"""Adapters over the simulator: PettingZoo (parallel and AEC), Gymnasium single-agent, batched
vector env and its SB3 view, and the factories the env modules share.
"""
