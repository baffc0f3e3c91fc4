"""Sums, means and finiteness checks as matrix-vector products, and cached constants.

At the small shapes of these networks a NumPy call costs about a microsecond whatever it
does, so the training loop is counted in calls. BLAS does (N, K) @ ones(K) two to four
times faster than np.add.reduce(axis=1) (measured: 1.5 µs against 2.8–10 µs), x · zeros is
NaN exactly when x holds a NaN or inf (one call, where np.isfinite(x).all() is two), and a
0-d array operand saves the ~0.9 µs NumPy spends converting a Python float on every call.
"""
from __future__ import annotations

import functools
import math

import numpy as np


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@functools.cache
def ones(n: int) -> np.ndarray:
    """A read-only vector of n ones, made once per length."""
    return _read_only(np.ones(n))


@functools.cache
def means(n: int) -> np.ndarray:
    """A read-only vector of n entries 1/n: x @ means(n) is the mean along x's last axis."""
    return _read_only(np.full(n, 1.0 / n))


@functools.cache
def _zeros(n: int) -> np.ndarray:
    return _read_only(np.zeros(n))


@functools.lru_cache(maxsize=256)
def scalar(value: float) -> np.ndarray:
    """A read-only 0-d array holding `value`, made once per value."""
    return _read_only(np.array(value))


def row_sums(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """(N, K) → (N,): Σ_k x[n, k]."""
    return np.dot(x, ones(x.shape[1]), out)


def all_finite(x: np.ndarray) -> bool:
    """True if no entry of the 1-D array x is NaN or ±inf."""
    return math.isfinite(np.dot(x, _zeros(x.shape[0])))
