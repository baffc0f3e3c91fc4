"""Examples for /docs, computed by the engine once at start-up so they are always true:
XOR on a 2-2-1 sigmoid network, a batch of two, one whole iteration."""
from __future__ import annotations

from typing import Any

import orjson

from engine import Session
from engine.presets import build_config

from . import encoding
from .sessions import LiveSession

CONFIG = {"data": {"name": "custom", "X": [[0, 0], [0, 1], [1, 0], [1, 1]], "y": [0, 1, 1, 0], "test_fraction": 0},
          "network": {"layers": [2, 2, 1], "activation": "sigmoid", "output_activation": "sigmoid"},
          "loss": "bce", "optimizer": {"name": "sgd", "learning_rate": 0.5}, "batch_size": 2}


def _plain(value: Any) -> Any:
    return orjson.loads(encoding.dumps(value))


def build() -> dict[str, Any]:
    engine = Session(build_config(CONFIG))
    live = LiveSession("3q2-Tk1Bc7sVxa9W", b"", engine)
    examples: dict[str, Any] = {"created": {**_plain(encoding.summary(live)), "token": "mE2v…(43 characters)"}}
    for phase in ("forward", "loss", "backward", "update"):
        examples[phase] = _plain(encoding.phase_body(engine, engine.run_phase(phase)))
    engine.train(iterations=3)
    engine.forward()
    examples["summary"] = _plain(encoding.summary(live))
    examples["train"] = {"iterations_run": 3, "session": examples["summary"]}
    examples["network"] = _plain(engine.network_state())
    examples["trace"] = _plain(engine.trace())
    examples["history"] = _plain(engine.history())
    examples["predict"] = _plain(engine.predict([[0.5, 0.5]]))
    examples["boundary"] = _plain(engine.boundary(3))
    examples["gradcheck"] = _plain(encoding.gradcheck(engine.gradcheck()))
    examples["data"] = _plain(encoding.data(engine))
    return examples


EXAMPLES = build()


def ok(name: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """The success response's example, for a route's `responses`."""
    return {status: {"content": {"application/json": {"example": EXAMPLES[name]}}}}
