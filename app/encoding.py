"""Engine results as JSON bytes: orjson straight from the NumPy arrays, field names as in
docs/api.md. JSON has no NaN or inf, so a diverged session's non-finite numbers go out as
the strings "NaN", "Infinity" and "-Infinity", never as null."""
from __future__ import annotations

import base64
import math
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from engine import Session
from engine import trace as t
from engine.diagnostics import COLUMNS as DIAGNOSTIC_COLUMNS

if TYPE_CHECKING:
    from .sessions import LiveSession

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY
_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


def dumps(value: Any) -> bytes:
    return orjson.dumps(finite(value), option=_OPTIONS)


def with_type(kind: str, body: bytes) -> bytes:
    """An event from an already serialised object body: `{"type": kind, ...body}`."""
    prefix = b'{"type":' + orjson.dumps(kind)
    return prefix + (b"," + body[1:] if body != b"{}" else b"}")


def finite(value: Any) -> Any:
    """Dataclasses as dicts, non-finite numbers as strings; finite arrays pass untouched.
    (Dispatch on the exact type: this runs on every response.)"""
    kind = type(value)
    if kind is np.ndarray:
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            return _spell_non_finite(value.tolist())
        return value if value.flags.c_contiguous else np.ascontiguousarray(value)   # as orjson needs
    if kind is float or kind is np.float64:
        return value if math.isfinite(value) else _spell(value)
    if kind is dict:
        return {k: finite(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [finite(v) for v in value]
    if hasattr(kind, "__dataclass_fields__"):
        return {k: finite(v) for k, v in vars(value).items()}
    return value


def _spell(x: float, nan: Any = "NaN") -> Any:
    return nan if math.isnan(x) else _NON_FINITE[x]


def _spell_non_finite(value: Any, nan: Any = "NaN") -> Any:
    if isinstance(value, list):
        return [_spell_non_finite(v, nan) for v in value]
    return value if math.isfinite(value) else _spell(value, nan)


# ---- one body per route ----------------------------------------------------------------

def public_config(config: dict[str, Any]) -> dict[str, Any]:
    """A full config as clients see it: without custom data rows (large; served by /data),
    and without W and b unless they were given."""
    config["data"].pop("X", None)
    config["data"].pop("y", None)
    for key in ("W", "b"):
        if config["network"].get(key) is None:
            config["network"].pop(key, None)
    return config


def summary(live: "LiveSession") -> dict[str, Any]:
    s = live.engine
    return {
        "id": live.id, "config": orjson.Fragment(live.config_json), "phase": s.phase, "next_phase": s.next_phase,
        "layer": s.layer,
        "iteration": s.iteration, "epoch": s.epoch, "batch_in_epoch": s.batch_pos,
        "batches_per_epoch": s.batches_per_epoch, "status": s.status, "divergence": s.divergence,
        "playing": live.playing, "metrics": asdict(s.metrics()), "max_rewind": s.max_rewind,
        "task": s.task,
    }


def phase_body(session: Session, result: Any) -> dict[str, Any]:
    """A phase's numbers, with where the session now stands."""
    body = finite(result)
    body["phase"], body["next_phase"] = session.phase, session.next_phase
    return body


def network(session: Session) -> dict[str, Any]:
    """Weights, biases, the latest gradients and the optimizer's state."""
    return {**finite(session.network_state()), "optimizer_state": finite(session.optimizer_state())}


def breakpoints(session: Session) -> dict[str, Any]:
    bp = session.breakpoints
    return {"breakpoints": None if bp is None else bp.to_dict()}


def breakpoint_body(session: Session, result: t.TrainResult) -> dict[str, Any] | None:
    """What stopped a train or play, with the epoch also for a NaN (the engine's divergence
    record has the iteration and phase only)."""
    if result.breakpoint is None:
        return None
    return finite({"epoch": session.epoch, **result.breakpoint})


def history(h: t.History) -> dict[str, Any]:
    """The logged rows; in the diagnostics, null where a column does not apply (NaN in the engine)."""
    return {**finite({k: v for k, v in vars(h).items() if k != "diagnostics"}),
            "diagnostics": _nan_as_null(h.diagnostics)}


def diagnostics(d: t.Diagnostics | None) -> dict[str, Any]:
    if d is None:   # before the first completed iteration
        return {"iteration": None, "columns": list(DIAGNOSTIC_COLUMNS), "layers": [], "hints": []}
    return {"iteration": d.iteration, "columns": list(d.columns), "layers": _nan_as_null(d.layers),
            "hints": finite(d.hints)}


def _nan_as_null(values: np.ndarray) -> Any:
    return _spell_non_finite(values.tolist(), nan=None)


def full_gradient(c: t.GradientComparison) -> dict[str, Any]:
    return finite({"batch": c.batch, "full": {"grad_W": c.full_W, "grad_b": c.full_b},
                   "mini_batch": {"grad_W": c.batch_W, "grad_b": c.batch_b},
                   "cosine": c.cosine, "norm_ratio": c.norm_ratio})


def past(then: Session) -> dict[str, Any]:
    """A detached copy of a session as it was at an iteration's start, then that iteration's
    numbers (stepping the copy changes nothing else)."""
    iteration = then.iteration
    start = {"network": {k: v for k, v in finite(then.network_state()).items() if k in ("layers", "W", "b")},
             "metrics": finite(then.metrics()), "config": public_config(then.config.to_dict())}
    for phase in ("forward", "loss", "backward", "update"):
        then.run_phase(phase)
        if then.status != "ok":   # that iteration diverged: its trace stops where it did
            break
    return {"iteration": iteration, **start, "trace": finite(then.trace())}


def data(session: Session) -> dict[str, Any]:
    d = session.dataset
    return {"task": d.task, "feature_names": d.feature_names, "class_names": d.class_names,
            "input_range": d.input_range, "X_train": d.X_train, "y_train": d.y_train,
            "X_test": d.X_test, "y_test": d.y_test, "targets_train": session.targets_train}


def gradcheck(result: t.GradCheck) -> dict[str, Any]:
    """Each weight and bias as {analytic, numerical, relative_error}."""
    def entries(analytic: np.ndarray, numerical: np.ndarray, relative: np.ndarray) -> Any:
        if analytic.ndim > 1:
            return [entries(*rows) for rows in zip(analytic, numerical, relative)]
        return [{"analytic": a, "numerical": n, "relative_error": r}
                for a, n, r in zip(analytic.tolist(), numerical.tolist(), relative.tolist())]

    return finite({
        "iteration": result.iteration, "batch": result.batch, "epsilon": result.epsilon,
        "max_relative_error": result.max_relative_error,
        "W": [entries(*p) for p in zip(result.analytic_W, result.numerical_W, result.relative_error_W)],
        "b": [entries(*p) for p in zip(result.analytic_b, result.numerical_b, result.relative_error_b)],
    })


# ---- play frames -------------------------------------------------------------------------

def frame(live: "LiveSession", resolution: int) -> dict[str, Any]:
    """What a follower draws while the session plays: weights, metrics, the newest iteration's
    batch loss, gradient norms and first sample's activations, and the boundary as bytes."""
    s = live.engine
    newest = s.history(since=s.iteration - 1)   # the row logged by the last update, if any
    logged = len(newest.iterations) > 0
    forward = s.trace().forward
    return {
        "iteration": s.iteration, "epoch": s.epoch, "status": s.status,
        "W": s.network.W, "b": s.network.b, "metrics": asdict(s.metrics()),
        "batch_loss": newest.batch_loss[0] if logged else None,
        "grad_norm": newest.grad_norm[0] if logged else None,
        "a_sample": [None if a is None else a[0] for a in forward.a] if forward is not None else None,
        "boundary": quantised_boundary(s, resolution) if s.network.layers[0] in (1, 2) else None,
    }


def quantised_boundary(session: Session, resolution: int) -> dict[str, Any]:
    """Every neuron over the grid as r·r bytes (base64): v = lo + byte / 255 · (hi - lo),
    with lo and hi per layer — the activation's range, or the grid's where that is unbounded."""
    b = session.boundary(resolution)
    lo: list[float | None] = [None]
    hi: list[float | None] = [None]
    neurons: list[list[str] | None] = [None]
    for l, values in enumerate(b.neurons[1:], start=1):
        act = session.network.activations[l]
        low, high = _range(values, act.low, act.high)
        lo.append(low)
        hi.append(high)
        neurons.append(_bytes(values, low, high))
    return {"resolution": b.resolution, "x_range": b.x_range, "y_range": b.y_range,
            "lo": lo, "hi": hi, "outputs": _bytes(b.outputs, lo[-1], hi[-1]), "neurons": neurons}


def _range(values: np.ndarray, low: float, high: float) -> tuple[float, float]:
    with np.errstate(all="ignore"):
        seen = values[np.isfinite(values)]
    if not math.isfinite(low):
        low = float(seen.min()) if seen.size else 0.0
    if not math.isfinite(high):
        high = float(seen.max()) if seen.size else 1.0
    return low, high if high > low else low + 1.0


def _bytes(values: np.ndarray, low: float, high: float) -> list[str]:
    with np.errstate(all="ignore"):
        scaled = np.nan_to_num((values - low) * (255.0 / (high - low)), nan=0.0, posinf=255.0, neginf=0.0)
    quantised = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return [base64.b64encode(row.tobytes()).decode("ascii") for row in quantised]
