"""Training: PPO (stable-baselines3) and MAPPO/IPPO on the batched market env.

``python -m training.train --config configs/training/<algo>.yaml``; see :mod:`training.train`.
"""

import os

# numba's parallel kernels and torch both run OpenMP thread pools on the same cores; with
# the default (active) wait policy each pool's idle threads spin and starve the other
# (a 64x64 tanh layer took 16 ms instead of 0.4 ms after an env step on 2 cores). libgomp
# reads this when it is loaded, so it must be set before torch or numba are imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
