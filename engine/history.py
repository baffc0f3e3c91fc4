"""Bounded memory of a session's past: snapshots for exact rewind, and metric logs for charts.

Both are preallocated NumPy tables, so recording an iteration costs a couple of copies and
no Python objects. Memory grows with what is kept, never with iterations run.
"""
from __future__ import annotations

import numpy as np


class SnapshotRing:
    """The state at the start of some recent iterations (every one, or every k-th for big
    networks: the session replays the few in between, exactly, to rewind).

    A slot holds the parameters, the optimizer's flat state and (iteration, epoch,
    batch position, optimizer step count); the shuffle order and RNG state are kept per
    epoch by the session, since they change only when an epoch starts.
    """

    def __init__(self, n_params: int, n_state: int, capacity: int):
        self.capacity = capacity
        # np.empty commits pages only when a slot is first written
        self.params = np.empty((capacity, n_params))
        self.state = np.empty((capacity, n_state))
        self.meta = np.full((capacity, 4), -1, dtype=np.int64)
        self.saves = 0        # slot of the s-th save is s % capacity
        self.count = 0        # slots holding a snapshot

    def save(self, iteration: int, epoch: int, batch_pos: int, step_count: int,
             params: np.ndarray, state: np.ndarray) -> None:
        """Keep this state; a second save at the same iteration replaces the first."""
        if self.count and self.newest == iteration:
            k = (self.saves - 1) % self.capacity
        else:
            k = self.saves % self.capacity
            self.saves += 1
            self.count = min(self.count + 1, self.capacity)
        np.copyto(self.params[k], params)
        if state.size:   # plain SGD has no state
            np.copyto(self.state[k], state)
        meta = self.meta[k]
        meta[0], meta[1], meta[2], meta[3] = iteration, epoch, batch_pos, step_count

    @property
    def newest(self) -> int:
        return int(self.meta[(self.saves - 1) % self.capacity, 0])

    @property
    def oldest_slot(self) -> int:
        return (self.saves - self.count) % self.capacity

    @property
    def oldest(self) -> int:
        return int(self.meta[self.oldest_slot, 0])

    def slots(self) -> list[int]:
        """Filled slots, oldest first."""
        return [s % self.capacity for s in range(self.saves - self.count, self.saves)]

    def latest_at_or_before(self, iteration: int) -> int:
        """The slot of the newest snapshot taken at or before `iteration`."""
        for k in reversed(self.slots()):
            if self.meta[k, 0] <= iteration:
                return k
        raise ValueError(f"no snapshot at or before iteration {iteration}")

    def truncate_after(self, iteration: int) -> None:
        """Forget every snapshot after `iteration` (they belong to an undone future)."""
        while self.count and self.newest > iteration:
            self.saves -= 1
            self.count -= 1

    def to_state(self) -> dict:
        order = self.slots()
        return {"capacity": self.capacity, "params": self.params[order],
                "state": self.state[order], "meta": self.meta[order]}

    @classmethod
    def from_state(cls, d: dict) -> "SnapshotRing":
        params, state, meta = d["params"], d["state"], d["meta"]
        if not (len(params) == len(state) == len(meta) <= d["capacity"]) or meta.shape[1:] != (4,):
            raise ValueError("snapshot arrays disagree in length or shape")
        if len(meta) and np.any(np.diff(meta[:, 0]) <= 0):
            raise ValueError("snapshots must be in rising iteration order")
        ring = cls(params.shape[1], state.shape[1], int(d["capacity"]))
        for p, s, m in zip(params, state, meta):
            ring.save(int(m[0]), int(m[1]), int(m[2]), int(m[3]), p, s)
        return ring


class Log:
    """A growing table of float rows keyed by iteration, thinned when it reaches `max_rows`.

    Thinning keeps every other row, so a long run keeps its whole shape at half the detail
    instead of forgetting its start.
    """

    def __init__(self, n_columns: int, max_rows: int):
        self.max_rows = max_rows
        self.rows = np.empty((min(64, max_rows), n_columns))
        self.n = 0

    def append(self) -> np.ndarray:
        """A fresh row to fill in place."""
        if self.n == len(self.rows):
            if self.n >= self.max_rows:
                kept = self.rows[1:self.n:2].copy()   # keep odd rows so the newest survives
                self.n = len(kept)
                self.rows[:self.n] = kept
            else:
                grown = np.empty((min(2 * len(self.rows), self.max_rows), self.rows.shape[1]))
                grown[:self.n] = self.rows[:self.n]
                self.rows = grown
        self.n += 1
        return self.rows[self.n - 1]

    def view(self) -> np.ndarray:
        return self.rows[:self.n]

    def rows_after(self, iteration: int) -> np.ndarray:
        """The rows whose first column (the iteration) is past `iteration`."""
        rows = self.view()
        return rows[int(np.searchsorted(rows[:, 0], iteration, side="right")):]

    def truncate_after(self, iteration: int) -> None:
        """Drop rows whose first column (the iteration) is past `iteration`."""
        self.n = int(np.searchsorted(self.rows[:self.n, 0], iteration, side="right"))

    def to_state(self) -> dict:
        return {"max_rows": self.max_rows, "rows": self.view().copy()}

    @classmethod
    def from_state(cls, d: dict) -> "Log":
        rows = d["rows"]
        log = cls(rows.shape[1], d["max_rows"])
        log.rows = np.empty((max(len(rows), min(64, log.max_rows)), rows.shape[1]))
        log.rows[:len(rows)] = rows
        log.n = len(rows)
        return log
