"""Errors for bad input: messages name the field or agent, the bad value and what is allowed."""


class ConfigError(ValueError):
    """A scenario or training config has an unknown key, a bad type or a value out of range."""


class ActionError(ValueError):
    """An action is NaN/inf, has the wrong shape or dtype, or names an unknown agent."""


class UnknownNameError(KeyError):
    """An env id, scenario or agent name is not known; the message lists the valid names."""

    def __str__(self) -> str:
        """The message as given (KeyError's own ``__str__`` would quote it like a key)."""
        return str(self.args[0]) if self.args else ""


class EpisodeOverError(RuntimeError):
    """``step`` was called on an episode that has terminated or been truncated; call ``reset``."""


class CheckpointError(ValueError):
    """A file that is not a sound checkpoint: empty, truncated, corrupted, not a checkpoint
    of this package, or of another algorithm than the one asked for (names the file)."""


class DeprecatedEnvError(UnknownNameError):
    """An env id replaced by a newer version when its dynamics changed (names the new id)."""
