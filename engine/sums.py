"""Row and column sums as matrix-vector products with a vector of ones.

At the small shapes of these networks BLAS does (N, K) @ ones(K) two to four times faster
than np.add.reduce(axis=1) (measured: 1.5 µs against 2.8–10 µs), and the training loop
sums along an axis a dozen times an iteration.
"""
from __future__ import annotations

import numpy as np

_ones: dict[int, np.ndarray] = {}


def ones(n: int) -> np.ndarray:
    """A read-only vector of n ones, made once per length."""
    vector = _ones.get(n)
    if vector is None:
        vector = _ones[n] = np.ones(n)
        vector.flags.writeable = False
    return vector


def row_sums(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """(N, K) → (N,): Σ_k x[n, k]."""
    return np.dot(x, ones(x.shape[1]), out=out)


def column_sums(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """(N, K) → (K,): Σ_n x[n, k]."""
    return np.dot(ones(x.shape[0]), x, out=out)
