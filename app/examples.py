"""Examples for /docs, computed by the engine once at start-up so they are always true:
XOR on a 2-2-1 sigmoid network, a batch of two, a few iterations."""
from __future__ import annotations

from typing import Any

import orjson

from engine import Session
from engine.presets import build_config

from . import encoding, exports
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
    examples["past"] = _plain(encoding.past(engine.at(2)))
    examples["diagnostics"] = _plain(encoding.diagnostics(engine.diagnostics()))
    engine.set_breakpoints({"grad_norm_below": 1e-3, "grad_norm_iterations": 5})
    examples["breakpoints"] = _plain(encoding.breakpoints(engine))
    engine.forward()
    examples["summary"] = _plain(encoding.summary(live))
    examples["train"] = {"iterations_run": 3, "stopped_by": None, "breakpoint": None,
                         "session": examples["summary"]}
    examples["network"] = _plain(encoding.network(engine))
    examples["trace"] = _plain(engine.trace())
    examples["history"] = _plain(encoding.history(engine.history()))
    examples["predict"] = _plain(engine.predict([[0.5, 0.5]]))
    examples["boundary"] = _plain(engine.boundary(3))
    examples["gradcheck"] = _plain(encoding.gradcheck(engine.gradcheck()))
    examples["full_gradient"] = _plain(encoding.full_gradient(engine.compare_gradients()))
    examples["data"] = _plain(encoding.data(engine))
    engine.loss()
    engine.backward()
    rule = engine.chain_rule(0, 1, 0)
    examples["chain_rule"] = _plain(rule)
    examples["chain_rule.tex"] = exports.chain_rule_tex(rule, digits=6)
    examples["trace.csv"] = "".join(exports.trace_csv(engine.trace()).splitlines(keepends=True)[:12]) + "…\n"
    return examples


EXAMPLES = build()


def ok(name: str, status: int = 200, media_type: str = "application/json") -> dict[int | str, dict[str, Any]]:
    """The success response's example, for a route's `responses`."""
    content: dict[str, Any] = {"example": EXAMPLES[name]}
    if media_type != "application/json":   # text: FastAPI knows no schema for it
        content["schema"] = {"type": "string"}
    return {status: {"content": {media_type: content}}}
