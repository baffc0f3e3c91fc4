"""Every knob of the server in one dataclass: read from `TAFFY_*` variables and the CLI.

Each field is a limit or a tuning value; all of them except `db` are advertised by
`GET /api/presets`, so a client knows what it may ask for before it asks.
"""
from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

from engine import Limits

ENV_PREFIX = "TAFFY_"


def default_db_path() -> str:
    """A file in the user's data directory, as each platform names it."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return str(base / "taffy" / "taffy.db")


@dataclass(frozen=True)
class Settings:
    db: str = ""                          # SQLite file; "" means default_db_path(); ":memory:" for tests

    # sizes of a session (the engine's Limits)
    max_layers: int = 10                  # entries in network.layers, input and output included
    max_neurons: int = 64                 # per layer after the input
    max_inputs: int = 1024                # data columns
    max_parameters: int = 200_000
    max_rows: int = 10_000                # data set rows
    max_batch_size: int = 10_000
    max_history: int = 1_000              # iterations kept for rewind
    max_history_bytes: int = 16 * 2**20   # memory for those snapshots, per session

    # sizes of a request
    max_train_iterations: int = 100_000   # per train call (epochs count as their iterations)
    max_resolution: int = 200             # boundary grid side
    max_predict_rows: int = 10_000
    max_gradcheck_parameters: int = 20_000   # the check runs two forward passes per parameter
    max_body_bytes: int = 16 * 2**20      # an HTTP request body (custom data, an import)
    max_message_bytes: int = 64 * 2**10   # a websocket command

    # the server
    max_sessions_in_memory: int = 100     # least recently used ones spill to the store
    idle_expiry_seconds: float = 7 * 24 * 3600.0
    frame_rate: float = 30.0              # frames per second to each follower while playing
    frame_resolution: int = 32            # boundary grid side in play frames
    play_journal_seconds: float = 1.0     # play mode: training a crash may lose, at most
    compact_after_iterations: int = 2_000 # replay work before the stored journal is folded

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name != "db" and not value > 0:
                raise ValueError(f"{ENV_PREFIX}{f.name.upper()} must be above 0, not {value}")

    @property
    def db_path(self) -> str:
        return self.db or default_db_path()

    def engine_limits(self) -> Limits:
        names = {f.name for f in fields(Limits)}
        return Limits(**{k: v for k, v in asdict(self).items() if k in names})

    def advertised(self) -> dict[str, Any]:
        """What /api/presets tells clients: every limit and rate, not where the data lives."""
        return {k: v for k, v in asdict(self).items() if k != "db"}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ, **overrides: Any) -> "Settings":
        """Defaults, then `TAFFY_<FIELD>` variables, then explicit overrides (the CLI's)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = parse_value(f.name, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)


def field_type(name: str) -> type:
    """The Python type of a settings field (str, int or float)."""
    return type(getattr(Settings(), name))


def parse_value(name: str, raw: str) -> Any:
    kind = field_type(name)
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"{ENV_PREFIX}{name.upper()} must be a {kind.__name__}, not {raw!r}") from None
