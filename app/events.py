"""Who is watching which session, and what they are told.

Each follower (a websocket) has an outbox of a few messages. A newer frame replaces an
older one still waiting, and an outbox that overflows is emptied and marked for a fresh
snapshot instead, so a stalled follower costs a bounded amount of memory and never makes
anyone wait: publishing is a few appends, the sending happens in each follower's own task.
Messages are serialised once, whoever and however many are listening.
"""
from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING

from engine.trace import TrainResult

from . import encoding

if TYPE_CHECKING:
    from .sessions import LiveSession

MAX_PENDING = 16
RESYNC = object()   # what a follower gets instead of the messages it fell behind on
CLOSE = object()    # what a follower gets after the last message of a deleted session


class Follower:
    def __init__(self) -> None:
        self._pending: deque[str] = deque()
        self._tail_is_frame = False
        self._resync = False
        self._closing = False
        self._ready = asyncio.Event()

    def put(self, message: str, is_frame: bool = False) -> None:
        if self._resync or self._closing:
            return   # the coming snapshot is newer than this, or the session is gone
        if is_frame and self._tail_is_frame:
            self._pending[-1] = message
        elif len(self._pending) >= MAX_PENDING:
            self._pending.clear()
            self._resync = True
        else:
            self._pending.append(message)
        self._tail_is_frame = is_frame and not self._resync
        self._ready.set()

    def put_last(self, message: str) -> None:
        """The session is gone: this message, then CLOSE."""
        self._pending.append(message)
        self._resync, self._closing = False, True
        self._ready.set()

    def pending(self) -> int:
        return len(self._pending)

    async def next(self) -> str | object:
        """The next message to send; RESYNC when a fresh snapshot should go instead of
        those it fell behind on; CLOSE when there will be no more."""
        while not self._pending and not self._resync and not self._closing:
            self._ready.clear()
            await self._ready.wait()
        if self._resync:
            self._resync = False
            return RESYNC
        if not self._pending:
            return CLOSE
        message = self._pending.popleft()
        if not self._pending:
            self._tail_is_frame = False
        return message


class Hubs:
    """The followers of every watched session."""

    def __init__(self) -> None:
        self._followers: dict[str, set[Follower]] = {}

    def follow(self, session_id: str, follower: Follower) -> None:
        self._followers.setdefault(session_id, set()).add(follower)

    def unfollow(self, session_id: str, follower: Follower) -> None:
        followers = self._followers.get(session_id)
        if followers is not None:
            followers.discard(follower)
            if not followers:
                del self._followers[session_id]

    def watched(self, session_id: str) -> bool:
        return session_id in self._followers

    def watched_ids(self) -> list[str]:
        return list(self._followers)

    def followers(self, session_id: str) -> list[Follower]:
        return list(self._followers.get(session_id, ()))

    def publish(self, session_id: str, message: bytes, is_frame: bool = False) -> None:
        text = message.decode()   # websockets carry text; decoded once for everyone
        for follower in self._followers.get(session_id, ()):
            follower.put(text, is_frame)

    # ---- the messages ----------------------------------------------------------------

    def phase(self, live: "LiveSession", phase: str, body: bytes, was_ok: bool) -> None:
        if self.watched(live.id):
            self.publish(live.id, encoding.with_type(phase, body))
            self.state(live, "phase", was_ok)

    def state(self, live: "LiveSession", reason: str, was_ok: bool = True) -> None:
        """The session's summary after a change; `diverged` as the reason when it just did."""
        if self.watched(live.id):
            if was_ok and live.engine.status == "diverged":
                reason = "diverged"
            self.publish(live.id, encoding.dumps({"type": "state", "reason": reason,
                                                  "session": encoding.summary(live)}))

    def stopped(self, live: "LiveSession", result: TrainResult, reason: str) -> None:
        """After a train: what stopped it early, if anything, then the state (reason
        `breakpoint` when one fired; `diverged` when it diverged)."""
        if result.stopped_by is not None:
            self.breakpoint(live, result)
        self.state(live, "breakpoint" if result.stopped_by == "breakpoint" else reason)

    def breakpoint(self, live: "LiveSession", result: TrainResult) -> None:
        if self.watched(live.id):
            self.publish(live.id, encoding.dumps({"type": "breakpoint",
                                                  **encoding.breakpoint_body(live.engine, result)}))

    def metrics(self, live: "LiveSession") -> None:
        if self.watched(live.id):
            s = live.engine
            self.publish(live.id, encoding.dumps({"type": "metrics", "iteration": s.iteration,
                                                  "epoch": s.epoch, "metrics": s.metrics()}))

    def frame(self, live: "LiveSession", resolution: int) -> None:
        if self.watched(live.id):
            self.publish(live.id, encoding.with_type("frame", encoding.dumps(encoding.frame(live, resolution))),
                         is_frame=True)

    def gone(self, session_id: str, error: bytes) -> None:
        """The session was deleted or expired: tell its followers, which then close."""
        for follower in self._followers.get(session_id, ()):
            follower.put_last(error.decode())


def snapshot(live: "LiveSession") -> bytes:
    s = live.engine
    return encoding.dumps({"type": "snapshot", "session": encoding.summary(live),
                           "network": encoding.network(s), "trace": s.trace(),
                           "history": encoding.history(s.history())})
