"""Taffy's engine: a NumPy neural network trained one phase at a time, every number exposed.

    from engine import Config, Session
    s = Session(Config.from_dict({"data": {"name": "xor"}, "network": {"layers": [2, 4, 1]}}))
    s.forward(); s.loss(); s.backward().grad_W[0]; s.update()
    s.train(epochs=10); s.metrics()
"""
from .config import Config, Limits
from .datasets import DATASETS, Dataset, make_dataset
from .errors import ConfigError, DivergedError, PhaseOrderError, RewindError, TaffyError
from .presets import PRESETS, preset_config
from .serialize import session_from_state, session_to_state
from .session import PHASES, Session

__all__ = [
    "Config", "Limits", "DATASETS", "Dataset", "make_dataset", "ConfigError", "DivergedError",
    "PhaseOrderError", "RewindError", "TaffyError", "PRESETS", "preset_config",
    "session_from_state", "session_to_state", "PHASES", "Session",
]
