"""Where sessions outlive the process: SQLite (stdlib), one file, write-ahead log.

A session is stored as a base document (the engine's whole state at some point) plus a
journal of the changes made since, each one small. A phase appends one journal row
instead of rewriting the history, so REST stays fast; `compact` folds the journal into a
new base now and then so reloading stays fast. Every write is committed before the
request that made it answers; with WAL and synchronous=NORMAL a killed process loses
nothing committed (only a power cut could lose the last transactions).

`Store` is the whole interface the server uses, so a shared store can replace SQLite.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    token_hash BLOB NOT NULL,
    base BLOB NOT NULL,          -- the engine state as a JSON document
    base_seq INTEGER NOT NULL,   -- journal entries up to this one are in the base
    touched REAL NOT NULL        -- wall-clock time of the last use (flushed by the sweep), for expiry
);
CREATE TABLE IF NOT EXISTS journal (
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    op BLOB NOT NULL,            -- one change, as JSON
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
"""


@dataclass
class StoredSession:
    id: str
    token_hash: bytes
    base: bytes
    base_seq: int
    journal: list[tuple[int, bytes]]   # (seq, op) after base_seq, oldest first


class Store(Protocol):
    def create(self, session_id: str, token_hash: bytes, base: bytes, now: float) -> None: ...
    def load(self, session_id: str) -> StoredSession | None: ...
    def append(self, session_id: str, seq: int, op: bytes) -> None: ...
    def compact(self, session_id: str, base: bytes, base_seq: int) -> None: ...
    def delete(self, session_id: str) -> None: ...
    def touch(self, times: dict[str, float]) -> None: ...
    def expire(self, idle_since: float) -> list[str]: ...
    def close(self) -> None: ...


class SqliteStore:
    """One connection, used from the event loop's thread only (so no locking is needed)."""

    def __init__(self, path: str):
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def create(self, session_id: str, token_hash: bytes, base: bytes, now: float) -> None:
        self.db.execute("INSERT INTO sessions VALUES (?, ?, ?, 0, ?)", (session_id, token_hash, base, now))

    def load(self, session_id: str) -> StoredSession | None:
        row = self.db.execute("SELECT token_hash, base, base_seq FROM sessions WHERE id = ?",
                              (session_id,)).fetchone()
        if row is None:
            return None
        journal = self.db.execute("SELECT seq, op FROM journal WHERE session_id = ? AND seq > ? ORDER BY seq",
                                  (session_id, row[2])).fetchall()
        return StoredSession(session_id, row[0], row[1], row[2], journal)

    def append(self, session_id: str, seq: int, op: bytes) -> None:
        # One statement, so one implicit transaction: this is on every change's path.
        self.db.execute("INSERT INTO journal VALUES (?, ?, ?)", (session_id, seq, op))

    def compact(self, session_id: str, base: bytes, base_seq: int) -> None:
        with self._transaction():
            self.db.execute("UPDATE sessions SET base = ?, base_seq = ? WHERE id = ?", (base, base_seq, session_id))
            self.db.execute("DELETE FROM journal WHERE session_id = ? AND seq <= ?", (session_id, base_seq))

    def delete(self, session_id: str) -> None:
        with self._transaction():
            self.db.execute("DELETE FROM journal WHERE session_id = ?", (session_id,))
            self.db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def touch(self, times: dict[str, float]) -> None:
        with self._transaction():
            self.db.executemany("UPDATE sessions SET touched = max(touched, ?) WHERE id = ?",
                                [(t, i) for i, t in times.items()])

    def expire(self, idle_since: float) -> list[str]:
        with self._transaction():
            ids = [r[0] for r in self.db.execute("SELECT id FROM sessions WHERE touched < ?", (idle_since,))]
            self.db.executemany("DELETE FROM journal WHERE session_id = ?", [(i,) for i in ids])
            self.db.executemany("DELETE FROM sessions WHERE id = ?", [(i,) for i in ids])
        return ids

    def close(self) -> None:
        self.db.close()

    def _transaction(self) -> "_Transaction":
        return _Transaction(self.db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN")

    def __exit__(self, kind: type | None, *_: object) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
