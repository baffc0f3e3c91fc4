"""A whole session as a plain dict, and back, exactly.

`session_to_state` gives NumPy arrays and plain values (a store can keep the arrays as raw
bytes); `to_document` / `from_document` turn that into JSON-able form for export, with
arrays as base64 of their float64/int64 bytes so every bit (NaN and inf included) survives.
The data set is not stored: it is rebuilt from its config and seed, bit for bit.
An iteration in progress is stored as its phase and replayed from its starting state.
"""
from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

from .config import Config, Limits
from .errors import ConfigError
from .history import Log, SnapshotRing
from .session import PHASES, Session

FORMAT = "taffy-session"
VERSION = 1


def session_to_state(session: Session) -> dict[str, Any]:
    return {
        "format": FORMAT, "version": VERSION,
        "config": session.config.to_dict(),
        "iteration": session.iteration,
        "phase": session.phase,
        "layer": session.layer,
        "epochs": [{"epoch": e, "order": order, "rng_state": json.dumps(rng_state)}
                   for e, (order, rng_state) in sorted(session._epochs.items())],
        "ring": session._ring.to_state(),
        "log": session._log.to_state(),
        "evaluations": session._evals.to_state(),
        "diagnostics": session._diagnostics.to_state(),
        "breakpoints": session.breakpoints.to_dict() if session.breakpoints is not None else None,
        "config_changes": [{"iteration": at, "config": before.to_dict()}
                           for at, before in session._config_changes],
    }


def session_from_state(state: dict[str, Any], limits: Limits = Limits()) -> Session:
    """Rebuild a session; a malformed state raises ConfigError naming what is wrong."""
    try:
        return _rebuild(state, limits)
    except ConfigError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AssertionError, OverflowError) as e:
        raise ConfigError("document", f"is not a valid Taffy session ({type(e).__name__}: {e})") from None


def _rebuild(state: dict[str, Any], limits: Limits) -> Session:
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ConfigError("document.format", f'must be "{FORMAT}"')
    if state.get("version") != VERSION:
        raise ConfigError("document.version", f"must be {VERSION}")
    session = Session(Config.from_dict(state["config"], limits), limits)
    net, opt = session.network, session.optimizer
    n_train = len(session.dataset.X_train)

    epochs = {}
    for e in state["epochs"]:
        order = np.asarray(e["order"], dtype=np.int64)
        if sorted(order.tolist()) != list(range(n_train)):
            raise ConfigError("document.epochs", "must hold permutations of the training rows")
        epochs[int(e["epoch"])] = (order, json.loads(e["rng_state"]))
        type(session.rng.bit_generator)().state = epochs[int(e["epoch"])][1]   # raises if malformed

    # The limits of the server rebuilding the session decide how much is kept, never the
    # document: a forged capacity or row count must not allocate without bound.
    capacity = session._ring.capacity
    ring = SnapshotRing.from_state({"capacity": capacity, **{k: _array(state["ring"], k)[-capacity:]
                                                             for k in ("params", "state", "meta")}})
    if ring.params.shape[1] != net.n_params or ring.state.shape[1] != opt.flat_state.size:
        raise ConfigError("document.ring", "does not match the network's parameters")
    iteration = int(state["iteration"])
    if ring.count == 0 or not 0 <= iteration - ring.newest < session.snapshot_every:
        raise ConfigError("document.ring", "must end at the session's iteration")
    for m in ring.meta[ring.slots()]:
        if int(m[1]) not in epochs:
            raise ConfigError("document.epochs", f"lacks epoch {int(m[1])}")
        if m[0] < 0 or m[3] < 0 or not 0 <= m[2] < session.batches_per_epoch:
            raise ConfigError("document.ring", "holds a snapshot with a negative count or a batch "
                                               "position outside the epoch")

    # max_rows comes from the engine, not the document: a document must not choose a log's size
    logs = {}
    for name, log in (("log", session._log), ("evaluations", session._evals), ("diagnostics", session._diagnostics)):
        logs[name] = Log.from_state({"max_rows": log.max_rows, "rows": _array(state[name], "rows")})
        if logs[name].rows.shape[1] != log.rows.shape[1]:
            raise ConfigError(f"document.{name}", "does not match the network's layers")

    session._epochs, session._ring = epochs, ring
    session._log, session._evals, session._diagnostics = logs["log"], logs["evaluations"], logs["diagnostics"]
    session.set_breakpoints(state.get("breakpoints"))
    session._config_changes = [(int(c["iteration"]), Config.from_dict(c["config"], limits))
                               for c in state.get("config_changes", [])]
    session._restore(iteration)
    phase = state["phase"]
    if phase is not None:
        if phase not in PHASES:
            raise ConfigError("document.phase", f"must be null or one of {', '.join(PHASES)}")
        for p in PHASES[:PHASES.index(phase) + 1]:
            session.run_phase(p, layers=_layers_to_replay(session, p, phase, state.get("layer")))
            if session.status != "ok":
                break
    return session


def _layers_to_replay(session: Session, phase: str, stopped_in: str, layer) -> int | None:
    """How far to replay `phase` when the saved session had stopped inside it, layer by layer."""
    if phase != stopped_in or layer is None:
        return None
    L = session.network.n_layers
    done = int(layer) if phase == "forward" else L - int(layer)
    if not 1 <= done < L:
        raise ConfigError("document.layer", f"must be between 1 and {L - 1} inside {phase}")
    return done


def _array(d: dict, key: str) -> np.ndarray:
    value = d[key]
    if not isinstance(value, np.ndarray):
        raise ConfigError(f"document.{key}", "must be an array")
    return value


def to_document(state: Any) -> Any:
    """JSON-able form of a state: every ndarray becomes {"dtype", "shape", "base64"}."""
    if isinstance(state, np.ndarray):
        return {"dtype": str(state.dtype), "shape": list(state.shape),
                "base64": base64.b64encode(np.ascontiguousarray(state).tobytes()).decode("ascii")}
    if isinstance(state, dict):
        return {k: to_document(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return [to_document(v) for v in state]
    return state


def from_document(doc: Any) -> Any:
    """Inverse of to_document."""
    if isinstance(doc, dict):
        if set(doc) == {"dtype", "shape", "base64"}:
            if doc["dtype"] not in ("float64", "int64"):
                raise ConfigError("document", f"arrays must be float64 or int64, not {doc['dtype']}")
            try:
                raw = base64.b64decode(doc["base64"], validate=True)
                return np.frombuffer(raw, dtype=doc["dtype"]).reshape(doc["shape"]).copy()
            except (ValueError, TypeError) as e:
                raise ConfigError("document", f"holds a malformed array: {e}") from None
        return {k: from_document(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [from_document(v) for v in doc]
    return doc
