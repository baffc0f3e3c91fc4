"""What each change does, for REST routes and websocket commands alike: refuse it if it
conflicts, make it through the engine, journal it, and tell the followers.

Every engine access holds the session's lock. Most are a single synchronous call, so the
lock only matters for the long ones that yield (a long `train`, a slow read in a thread)
and for the play loop, which skips a session while its lock is held.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any, Callable, TypeVar

import anyio

from engine import DivergedError, Session, TaffyError
from engine.trace import TrainResult

from . import encoding
from .errors import ApiError, from_engine, playing_conflict, too_large
from .events import Hubs
from .play import Player
from .sessions import LiveSession, Op, Sessions, apply_op, attempted
from .settings import Settings

T = TypeVar("T")
# "Leave the breakpoints as they are", where None would clear them.
KEEP: Any = object()
Conditions = Any   # a conditions dict, None (clear them) or KEEP
TRAIN_TURN_SECONDS = 0.005   # a long train yields this often, so others are served meanwhile


class Actions:
    def __init__(self, sessions: Sessions, hubs: Hubs, player: Player, settings: Settings):
        self.sessions, self.hubs, self.player, self.settings = sessions, hubs, player, settings

    # ---- changes ----------------------------------------------------------------------

    async def phase(self, live: LiveSession, phase: str, layers: int | None = None) -> bytes:
        """One phase (forward and backward: or only the next `layers` weight layers of it);
        returns its response body."""
        async with live.lock:
            self._refuse_if_playing(live)
            was_ok = live.engine.status == "ok"
            op: Op = {"op": "phase", "phase": phase}
            if layers is not None:
                op["layers"] = layers
            result = self._change(live, op)
            body = encoding.dumps(encoding.phase_body(live.engine, result))
            self.hubs.phase(live, phase, body, was_ok)
            return body

    async def train(self, live: LiveSession, iterations: int | None, epochs: int | None,
                    breakpoints: Conditions = KEEP) -> dict[str, Any]:
        """Whole iterations until done, a NaN or a breakpoint (`breakpoints`, unless KEEP, are
        set first, as PUT /breakpoints does)."""
        async with live.lock:
            self._refuse_if_playing(live)
            engine = live.engine
            if (iterations is None) == (epochs is None):
                raise ApiError.field(422, "iterations", "or epochs: give exactly one")
            field = "iterations" if iterations is not None else "epochs"
            # epochs become the iterations up to that epoch boundary, so one rule limits both
            n = iterations if iterations is not None else epochs * engine.batches_per_epoch - engine.batch_pos
            if n > self.settings.max_train_iterations:
                raise too_large(field, self.settings.max_train_iterations, "iterations per call"
                                if field == "iterations" else f"iterations' worth ({n} asked)")
            self._refuse_if_diverged(live)   # before the breakpoints change: a refusal changes nothing
            if breakpoints is not KEEP:
                self._set_breakpoints(live, breakpoints)
            run, result = await self._train_in_turns(engine, n)
            self.sessions.record(live, {"op": "train", "iterations": attempted(run, result)})
            self.hubs.metrics(live)
            self.hubs.stopped(live, result, "train")
            return {"iterations_run": run, "stopped_by": result.stopped_by,
                    "breakpoint": encoding.breakpoint_body(engine, result), "session": encoding.summary(live)}

    async def rewind(self, live: LiveSession, iterations: int) -> dict[str, Any]:
        return await self.change(live, {"op": "rewind", "iterations": iterations}, "rewind", encoding.summary)

    async def change(self, live: LiveSession, op: Op, reason: str, answer: Callable[[LiveSession], T]) -> T:
        """A change that is not a phase or train (rewind, network, edits, settings, reset):
        make it, tell the followers the new state, and answer with `answer(live)`."""
        async with live.lock:
            self._refuse_if_playing(live)
            self._change(live, op)
            self.hubs.state(live, reason)
            return answer(live)

    async def set_breakpoints(self, live: LiveSession, breakpoints: dict | None) -> dict[str, Any]:
        """Allowed while playing: play honours the new conditions from its next turn."""
        async with live.lock:
            self._set_breakpoints(live, breakpoints)
            self.hubs.state(live, "breakpoints")
            return encoding.breakpoints(live.engine)

    async def step(self, live: LiveSession, what: str, layers: int | None = None) -> None:
        """A websocket step: one phase (or `layers` of it), the rest of an iteration phase by
        phase, or an epoch."""
        if layers is not None and what in ("iteration", "epoch"):
            raise ApiError.field(422, "layers", "applies to forward and backward only")
        if what == "epoch":
            await self.train(live, None, 1)
        elif what == "iteration":
            while True:
                await self.phase(live, live.engine.next_phase)
                if live.engine.phase is None or live.engine.status != "ok":
                    break
        else:
            await self.phase(live, what, layers)

    async def play(self, live: LiveSession, iterations_per_second: float | None,
                   breakpoints: Conditions = KEEP) -> None:
        async with live.lock:
            self._refuse_if_diverged(live)
            if breakpoints is not KEEP:
                self._set_breakpoints(live, breakpoints)
            was_playing = live.playing
            self.player.play(live, iterations_per_second)
            if not was_playing:
                self.hubs.state(live, "play")

    async def pause(self, live: LiveSession) -> None:
        async with live.lock:
            self.player.pause(live)

    async def delete(self, live: LiveSession) -> None:
        async with live.lock:
            self.player.forget(live.id)
            self.sessions.delete(live.id)
            self.hubs.gone(live.id, encoding.dumps({"type": "error", "status": 404,
                                                    "detail": "the session was deleted", "errors": []}))

    # ---- reads ----------------------------------------------------------------------

    async def read(self, live: LiveSession, read: Callable[[Session], T]) -> T:
        """A quick read (a few engine arrays)."""
        async with live.lock:
            return _engine_call(read, live.engine)

    async def read_slowly(self, live: LiveSession, read: Callable[[Session], T]) -> T:
        """A read whose cost grows with the request (gradcheck, a big grid, an export):
        in a worker thread, so the event loop keeps serving everyone else."""
        async with live.lock:
            return await anyio.to_thread.run_sync(_engine_call, read, live.engine)

    # ---- helpers ----------------------------------------------------------------------

    def _refuse_if_playing(self, live: LiveSession) -> None:
        if live.playing:
            raise playing_conflict()

    def _refuse_if_diverged(self, live: LiveSession) -> None:
        if live.engine.status != "ok":
            raise from_engine(DivergedError(live.engine.divergence))

    def _set_breakpoints(self, live: LiveSession, breakpoints: dict | None) -> None:
        self.player.journal(live)   # iterations played so far ran under the old conditions
        self._change(live, {"op": "breakpoints", "breakpoints": breakpoints})

    def _change(self, live: LiveSession, op: Op) -> Any:
        """Apply one change and journal it; an engine refusal changes nothing and is not journaled."""
        result = _engine_call(apply_op, live.engine, op)
        self.sessions.record(live, op)
        return result

    async def _train_in_turns(self, engine: Session, n: int) -> tuple[int, TrainResult]:
        """engine.train(n) cut into turns of a few milliseconds: the same iterations, bit for
        bit, as one call (an iteration in progress is finished by the first turn). Returns
        the iterations run and the last turn's result, which says what stopped it, if anything."""
        run, remaining, turn = 0, n, 16
        while True:
            started = time.monotonic()
            result = _engine_call(engine.train, iterations=min(turn, remaining))
            run += result.iterations_run
            remaining -= min(turn, remaining)
            if result.stopped_by is not None or not remaining:
                return run, result
            elapsed = time.monotonic() - started
            turn = max(1, min(turn * 4, int(turn * TRAIN_TURN_SECONDS / max(elapsed, 1e-6))))
            await asyncio.sleep(0)


def kept(session: Session, iteration: int) -> Session:
    """A detached copy of the session at a kept iteration's start; 409 outside the kept history."""
    oldest = session.iteration - session.max_rewind
    if not oldest <= iteration <= session.iteration:
        raise ApiError.field(409, "iteration", f"must be between {oldest} and {session.iteration}, the kept history",
                             max_rewind=session.max_rewind)
    return session.at(iteration)


def _engine_call(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return call(*args, **kwargs)
    except TaffyError as error:
        raise from_engine(error) from None
