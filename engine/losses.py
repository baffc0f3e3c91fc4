"""Losses between the output ŷ = a[L] and the target y, for a batch of N samples, K outputs.

Each gives the per-sample losses (reduced over outputs as the batch loss is) and
d_loss_d_output = ∂loss/∂ŷ; the batch loss is the mean of the per-sample losses.
Conventions follow torch.nn: MSELoss and BCELoss average over samples and outputs,
CrossEntropyLoss over samples.
"""
from __future__ import annotations

import numpy as np

BCE_LOG_FLOOR = -100.0   # torch.nn.BCELoss clamps log(ŷ) at -100 so ŷ = 0 stays finite
BCE_EPS = 1e-12          # and divides by max(ŷ(1 - ŷ), 1e-12) in its gradient


class Loss:
    name: str

    def sample_losses(self, y_hat: np.ndarray, z_out: np.ndarray, y: np.ndarray,
                      out: np.ndarray) -> np.ndarray:
        """(N,) each sample's loss."""
        raise NotImplementedError

    def d_loss_d_output(self, y_hat: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
        """(N, K) ∂loss/∂ŷ; for cross-entropy after softmax, ∂loss/∂z (see CrossEntropy)."""
        raise NotImplementedError


class MSE(Loss):
    name = "mse"

    def sample_losses(self, y_hat, z_out, y, out):     # ℓ_n = (1/K) Σ_k (ŷ - y)²
        diff = y_hat - y
        np.multiply(diff, diff, out=diff)
        np.add.reduce(diff, axis=1, out=out)
        return np.multiply(out, 1.0 / y.shape[1], out=out)

    def d_loss_d_output(self, y_hat, y, out):         # ∂L/∂ŷ = 2 (ŷ - y) / (N K)
        np.subtract(y_hat, y, out=out)
        return np.multiply(out, 2.0 / y.size, out=out)


class BCE(Loss):
    name = "bce"

    def sample_losses(self, y_hat, z_out, y, out):     # ℓ_n = -(1/K) Σ_k y log ŷ + (1-y) log(1-ŷ)
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(y_hat), BCE_LOG_FLOOR)
            log_q = np.maximum(np.log1p(-y_hat), BCE_LOG_FLOOR)
        elementwise = y * log_p + (1.0 - y) * log_q
        np.add.reduce(elementwise, axis=1, out=out)
        return np.multiply(out, -1.0 / y.shape[1], out=out)

    def d_loss_d_output(self, y_hat, y, out):         # ∂L/∂ŷ = (ŷ - y) / (ŷ (1 - ŷ)) / (N K)
        denominator = np.maximum(y_hat * (1.0 - y_hat), BCE_EPS)
        np.subtract(y_hat, y, out=out)
        np.divide(out, denominator, out=out)
        return np.multiply(out, 1.0 / y.size, out=out)


class CrossEntropy(Loss):
    """Categorical cross-entropy on softmax outputs, computed from z so it never takes log(0).

    Its d_loss_d_output is ∂L/∂z = (ŷ - y) / N, the last layer's delta: going through
    ∂L/∂ŷ and softmax's Jacobian would give the same numbers less exactly.
    """

    name = "cross_entropy"

    def sample_losses(self, y_hat, z_out, y, out):     # ℓ_n = -Σ_k y_k log softmax(z)_k
        shifted = z_out - np.maximum.reduce(z_out, axis=1, keepdims=True)
        log_softmax = shifted - np.log(np.add.reduce(np.exp(shifted), axis=1, keepdims=True))
        np.add.reduce(y * log_softmax, axis=1, out=out)
        return np.negative(out, out=out)

    def d_loss_d_output(self, y_hat, y, out):         # ∂L/∂z = (ŷ - y) / N
        np.subtract(y_hat, y, out=out)
        return np.multiply(out, 1.0 / y.shape[0], out=out)


LOSSES: dict[str, Loss] = {loss.name: loss for loss in (MSE(), BCE(), CrossEntropy())}
