"""Weight regularization, kept apart from the data loss so each can be shown on its own.

L2 at rate r: loss (r/2)·ΣW², gradient r·W.  L1 at rate r: loss r·Σ|W|, gradient r·sign(W).
Biases are never regularized: `weight_mask` is 1 on weights and 0 on biases.
"""
from __future__ import annotations

import numpy as np


class Regularizer:
    def __init__(self, kind: str, rate: float, weight_mask: np.ndarray):
        self.kind = kind
        self.active = kind != "none" and rate > 0
        self._rate_on_weights = rate * weight_mask   # r on weights, 0 on biases

    def gradient(self, params: np.ndarray, out: np.ndarray) -> float:
        """Backward: write the regularization gradient into `out`; return the regularization loss."""
        if self.kind == "l1":
            np.sign(params, out=out)
            np.multiply(out, self._rate_on_weights, out=out)
            return float(np.dot(out, params))          # r·sign(W)·W = r·|W|
        np.multiply(params, self._rate_on_weights, out=out)
        return 0.5 * float(np.dot(out, params))        # ½·(r·W)·W = (r/2)·W²
