"""Short scripts that train on the envs with outside libraries (``pip install .[examples]``).

Each runs a few thousand steps and is run by a ``slow`` test in ``tests/evaluation/``.
"""
