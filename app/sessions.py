"""Live sessions: a bounded least-recently-used cache of engine sessions over the store.

Every change goes through `apply_op`, both when a request makes it and when a reload
replays the journal, so a replayed session is the same session bit for bit. Ids and
tokens come from `secrets`; only a hash of each token is kept.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Iterable

import orjson

from engine import Limits, Session, TaffyError, session_from_state, session_to_state
from engine.serialize import from_document, to_document
from engine.trace import TrainResult

from .encoding import public_config
from .errors import ApiError, not_found
from .settings import Settings
from .store import Store

log = logging.getLogger("taffy")

Op = dict[str, Any]


def apply_op(engine: Session, op: Op) -> Any:
    """Make one recorded change: {"op": "phase" | "train" | "rewind" | "network" | "edits" |
    "breakpoints" | "training" | "reset", ...}."""
    kind = op["op"]
    if kind == "phase":
        return engine.run_phase(op["phase"], layers=op.get("layers"))
    if kind == "train":
        return train_exactly(engine, op["iterations"])
    if kind == "rewind":
        return engine.rewind(op["iterations"])
    if kind == "network":
        return engine.set_network(op["W"], op["b"])
    if kind == "edits":
        return engine.edit_parameters(op["edits"])
    if kind == "breakpoints":
        return engine.set_breakpoints(op["breakpoints"])
    if kind == "training":
        return engine.set_training(op["changes"])
    if kind == "reset":
        return engine.reset()
    raise ValueError(f"unknown op {kind!r}")


def train_exactly(engine: Session, iterations: int) -> None:
    """Replay a train op: the iterations it ran, no more and no fewer. Where a breakpoint
    stopped it was decided when it ran (the op records what ran), so one firing here is
    passed over; a divergence ends it, as it did then."""
    remaining = iterations
    while remaining > 0:
        result = engine.train(iterations=remaining)
        remaining -= result.iterations_run
        if result.stopped_by == "diverged":
            return


def attempted(run: int, result: TrainResult) -> int:
    """The iterations a train op records: those run, and the one that diverged, if one did
    (replaying it diverges at the same place)."""
    return run + (result.stopped_by == "diverged")


def op_cost(op: Op) -> int:
    """Roughly how many iterations replaying this op costs."""
    return op["iterations"] if op["op"] == "train" else 1


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def encode_state(engine: Session) -> bytes:
    return orjson.dumps(to_document(session_to_state(engine)))


def decode_state(document: Any, limits: Limits) -> Session:
    return session_from_state(from_document(document), limits)


@dataclass(eq=False)
class LiveSession:
    id: str
    token_hash: bytes
    engine: Session
    seq: int = 0                     # the newest journal entry
    replay_cost: int = 0             # iterations a reload would replay from the journal
    playing: bool = False
    last_used: float = field(default_factory=time.time)
    compacted_at: float = field(default_factory=time.monotonic)
    compact_seconds: float = 0.0     # how long the last compaction took
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)   # held across awaits (train, gradcheck)

    def __post_init__(self) -> None:
        self._config_json = b""
        self._config_of: object = None   # the engine config _config_json was made from

    @property
    def config_json(self) -> bytes:
        """The public config, serialised once per config: every summary carries it, and it
        changes only when the engine's config object does (a settings change, or a rewind
        across one)."""
        if self.engine.config is not self._config_of:
            self._config_json = orjson.dumps(public_config(self.engine.config.to_dict()))
            self._config_of = self.engine.config
        return self._config_json

    def accepts(self, token: str) -> bool:
        return hmac.compare_digest(token_hash(token), self.token_hash)


class Sessions:
    def __init__(self, store: Store, settings: Settings):
        self.store = store
        self.settings = settings
        self.limits = settings.engine_limits()
        self._live: OrderedDict[str, LiveSession] = OrderedDict()

    def __len__(self) -> int:
        return len(self._live)

    def create(self, engine: Session) -> tuple[LiveSession, str]:
        """Store a new session; returns it and its token (the only time the token is seen)."""
        session_id, token = secrets.token_urlsafe(12), secrets.token_urlsafe(32)
        live = LiveSession(session_id, token_hash(token), engine)
        self._make_room()
        self.store.create(session_id, live.token_hash, encode_state(engine), live.last_used)
        self._live[session_id] = live
        return live, token

    def get(self, session_id: str) -> LiveSession:
        """The live session, loaded from the store if it is not in memory; 404 if none."""
        live = self._live.get(session_id)
        if live is None:
            live = self._load(session_id)
        else:
            self._live.move_to_end(session_id)
        live.last_used = time.time()
        return live

    def record(self, live: LiveSession, op: Op) -> None:
        """Make a change that has been applied durable: once this returns, a crash keeps it."""
        live.seq += 1
        live.last_used = time.time()
        self.store.append(live.id, live.seq, orjson.dumps(op))
        live.replay_cost += op_cost(op)
        self._maybe_compact(live)

    def delete(self, session_id: str) -> None:
        self.get(session_id)   # 404 when there is none
        self._live.pop(session_id)
        self.store.delete(session_id)

    def live_ids(self) -> list[str]:
        return list(self._live)

    def sweep(self, active: Iterable[str]) -> list[str]:
        """Forget sessions idle longer than the expiry; `active` ones (followed) count as used now."""
        now = time.time()
        for session_id in active:
            if session_id in self._live:
                self._live[session_id].last_used = now
        self.store.touch({i: live.last_used for i, live in self._live.items()})
        expired = self.store.expire(now - self.settings.idle_expiry_seconds)
        for session_id in expired:
            self._live.pop(session_id, None)
        return expired

    # ---- memory and the store ---------------------------------------------------------

    def _load(self, session_id: str) -> LiveSession:
        stored = self.store.load(session_id)
        if stored is None:
            raise not_found(session_id)
        engine = decode_state(orjson.loads(stored.base), self.limits)
        live = LiveSession(session_id, stored.token_hash, engine, seq=stored.base_seq)
        for seq, raw in stored.journal:
            op = orjson.loads(raw)
            try:
                apply_op(engine, op)
            except TaffyError:
                # Only a change that succeeded is journaled, so this means the engine now
                # behaves differently from the one that wrote it: keep what replayed.
                log.exception("session %s: journal entry %d no longer replays; dropping the rest", session_id, seq)
                break
            live.seq = seq
            live.replay_cost += op_cost(op)
        self._make_room()
        self._live[session_id] = live
        if stored.journal and live.seq != stored.journal[-1][0]:
            self.compact(live)
        return live

    def _make_room(self) -> None:
        """Spill least recently used sessions (the store already has them) to make room for one."""
        while len(self._live) >= self.settings.max_sessions_in_memory:
            idle = next((i for i, live in self._live.items() if not live.playing and not live.lock.locked()), None)
            if idle is None:
                raise ApiError(503, f"all {len(self._live)} sessions this server keeps in memory are busy; "
                                    "try again shortly")
            self.store.touch({idle: self._live.pop(idle).last_used})

    def _maybe_compact(self, live: LiveSession) -> None:
        """Fold the journal into a new base once replaying it would cost more than a few
        thousand iterations, but spend at most a tenth of the time compacting."""
        if live.replay_cost < self.settings.compact_after_iterations:
            return
        if time.monotonic() - live.compacted_at < 10 * live.compact_seconds:
            return
        self.compact(live)

    def compact(self, live: LiveSession) -> None:
        started = time.monotonic()
        self.store.compact(live.id, encode_state(live.engine), live.seq)
        live.replay_cost = 0
        live.compacted_at = time.monotonic()
        live.compact_seconds = live.compacted_at - started
