"""Play: every playing session trains on the server, in short turns, round-robin.

One task on the event loop gives each playing session a turn of a few milliseconds at
most (its share of a round), then yields so websockets and REST are served between
rounds; many sessions can play at once and share the CPU fairly. Followers get a frame
per session about `frame_rate` times a second, built and serialised once for all of
them. The trained iterations are journaled at least every `play_journal_seconds`, so a
crash loses at most that much training.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from engine.trace import TrainResult

from .events import Hubs
from .sessions import LiveSession, Sessions, attempted
from .settings import Settings

log = logging.getLogger("taffy")

ROUND_SECONDS = 0.002   # training time per round, shared by the playing sessions: a request
                        # waits about this long for each await in its handling


@dataclass(eq=False)
class Playing:
    live: LiveSession
    iterations_per_second: float | None     # None: as fast as it goes
    started: float = field(default_factory=time.monotonic)
    trained: int = 0                        # iterations asked for since started
    unjournaled: int = 0                    # iterations asked for since the last journal entry
    journaled_at: float = field(default_factory=time.monotonic)
    frame_at: float = 0.0
    frame_iteration: int = -1               # a frame goes out only when this has moved on
    seconds_per_iteration: float = 1e-4     # running estimate, sizes the turns

    def due(self, now: float, budget: float) -> int:
        """Iterations to train this turn: what fits in the budget, no more than the pace allows."""
        fits = max(1, int(budget / self.seconds_per_iteration))
        if self.iterations_per_second is None:
            return fits
        return max(0, min(fits, int((now - self.started) * self.iterations_per_second) - self.trained))

    def next_due(self) -> float:
        if self.iterations_per_second is None:
            return 0.0
        return self.started + (self.trained + 1) / self.iterations_per_second


class Player:
    def __init__(self, sessions: Sessions, hubs: Hubs, settings: Settings):
        self.sessions, self.hubs, self.settings = sessions, hubs, settings
        self._playing: dict[str, Playing] = {}
        self._wake = asyncio.Event()

    def play(self, live: LiveSession, iterations_per_second: float | None) -> None:
        """Start playing, or change the pace of a session already playing."""
        current = self._playing.get(live.id)
        if current is not None:
            self._journal(current)
        self._playing[live.id] = Playing(live, iterations_per_second, frame_iteration=live.engine.iteration)
        live.playing = True
        self._wake.set()

    def pause(self, live: LiveSession, stopped: TrainResult | None = None) -> None:
        """Stop playing; the training so far is journaled and followers get a last frame,
        the breakpoint or NaN that `stopped` it if one did, and the state (also when it was
        not playing, so every client agrees)."""
        playing = self._playing.pop(live.id, None)
        live.playing = False
        if playing is not None:
            self._journal(playing)
            self.hubs.frame(live, self.settings.frame_resolution)
        if stopped is not None:
            self.hubs.breakpoint(live, stopped)
        self.hubs.state(live, "pause" if stopped is None else "breakpoint", was_ok=False)

    def journal(self, live: LiveSession) -> None:
        """Journal what a playing session has trained so far (before a change made while it plays)."""
        playing = self._playing.get(live.id)
        if playing is not None:
            self._journal(playing)

    def forget(self, session_id: str) -> None:
        """The session is being deleted: nothing to journal or tell."""
        playing = self._playing.pop(session_id, None)
        if playing is not None:
            playing.live.playing = False

    def pause_all(self) -> None:
        for playing in list(self._playing.values()):
            self.pause(playing.live)

    async def run(self) -> None:
        while True:
            if not self._playing:
                self._wake.clear()
                await self._wake.wait()
                continue
            now = time.monotonic()
            budget = ROUND_SECONDS / len(self._playing)
            trained = False
            wake_at = now + 1 / self.settings.frame_rate
            for playing in list(self._playing.values()):
                try:
                    trained |= self._turn(playing, now, budget)
                except Exception:   # a bug must stop this session, not every session
                    log.exception("session %s: play stopped by an error", playing.live.id)
                    self.pause(playing.live)
                wake_at = min(wake_at, playing.next_due())
            if trained:
                await asyncio.sleep(0)
            else:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), max(0.0, wake_at - time.monotonic()))
                except asyncio.TimeoutError:
                    pass

    def _turn(self, playing: Playing, now: float, budget: float) -> bool:
        live = playing.live
        if live.lock.locked():   # a slow read (gradcheck, export) has it for now
            return False
        n = playing.due(now, budget)
        if n:
            started = time.monotonic()
            result = live.engine.train(iterations=n)
            elapsed = time.monotonic() - started
            playing.seconds_per_iteration = max(elapsed / max(1, result.iterations_run), 1e-7)
            playing.trained += n
            playing.unjournaled += attempted(result.iterations_run, result)
            if result.stopped_by is not None:   # a NaN or a breakpoint
                self.pause(live, stopped=result)
                return True
        now = time.monotonic()
        if now - playing.journaled_at >= self.settings.play_journal_seconds:
            self._journal(playing)
        if live.engine.iteration != playing.frame_iteration and now - playing.frame_at >= 1 / self.settings.frame_rate:
            playing.frame_at, playing.frame_iteration = now, live.engine.iteration
            self.hubs.frame(live, self.settings.frame_resolution)
        return n > 0

    def _journal(self, playing: Playing) -> None:
        if playing.unjournaled:
            self.sessions.record(playing.live, {"op": "train", "iterations": playing.unjournaled})
            playing.unjournaled = 0
        playing.journaled_at = time.monotonic()
