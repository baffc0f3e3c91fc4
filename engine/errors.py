"""The engine's errors: each says what was wrong and what to do instead."""


class TaffyError(Exception):
    """Base of every error the engine raises on purpose."""


class ConfigError(TaffyError, ValueError):
    """A configuration value breaks a rule. `field` is its path, e.g. "network.layers[2]"."""

    def __init__(self, field: str, rule: str):
        self.field = field
        self.rule = rule
        super().__init__(f"{field} {rule}")


class PhaseOrderError(TaffyError):
    """A phase was called out of order; `expected` is the phase to call instead."""

    def __init__(self, called: str, expected: str):
        self.called = called
        self.expected = expected
        super().__init__(f"cannot run {called} now: call {expected} next")


class DivergedError(TaffyError):
    """The session holds a NaN or inf; only rewind or setting the network can go on."""

    def __init__(self, divergence: "dict"):
        self.divergence = divergence
        super().__init__(
            f"the session diverged at iteration {divergence['iteration']} during "
            f"{divergence['phase']} ({divergence['detail']}); rewind or set the network first"
        )


class RewindError(TaffyError):
    """Rewinding further back than the kept history; `max_rewind` is how far it can go."""

    def __init__(self, asked: int, max_rewind: int):
        self.asked = asked
        self.max_rewind = max_rewind
        super().__init__(
            f"cannot rewind {asked} iterations: the kept history goes back {max_rewind}"
        )
