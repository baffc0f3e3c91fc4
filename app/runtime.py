"""Everything one running server holds, built when the app starts and closed when it stops."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from .actions import Actions
from .events import Hubs
from .play import Player
from .sessions import Sessions
from .settings import Settings
from .store import SqliteStore, Store

log = logging.getLogger("taffy")


@dataclass
class Runtime:
    settings: Settings
    store: Store
    sessions: Sessions
    hubs: Hubs
    player: Player
    actions: Actions

    @classmethod
    def start(cls, settings: Settings) -> "Runtime":
        store = SqliteStore(settings.db_path)
        sessions, hubs = Sessions(store, settings), Hubs()
        player = Player(sessions, hubs, settings)
        return cls(settings, store, sessions, hubs, player, Actions(sessions, hubs, player, settings))

    @contextlib.asynccontextmanager
    async def running(self):
        """The play loop and the expiry sweep run while the server does."""
        tasks = [asyncio.create_task(self.player.run()), asyncio.create_task(self._sweep_forever())]
        try:
            yield self
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.player.pause_all()   # journals what was trained since the last entry
            self.store.close()

    async def _sweep_forever(self) -> None:
        interval = min(60.0, self.settings.idle_expiry_seconds / 4)
        while True:
            await asyncio.sleep(interval)
            try:
                self.sweep()
            except Exception:
                log.exception("the expiry sweep failed; trying again later")

    def sweep(self) -> list[str]:
        expired = self.sessions.sweep(self.hubs.watched_ids())
        for session_id in expired:
            self.player.forget(session_id)
        return expired


def runtime_of(connection: HTTPConnection) -> Runtime:
    return connection.app.state.runtime
