"""``multimarket_v0``: removed in favour of :mod:`envs.multimarket_v1` (market model v2).

Importing this module raises :class:`envs.errors.DeprecatedEnvError`, as PettingZoo does
for an env whose version went up; ``envs.make("multimarket_v0")`` says the same.
"""

from envs.errors import DeprecatedEnvError
from envs.registry import removed_message

raise DeprecatedEnvError(removed_message("multimarket_v0"))
