"""Losses between the output ŷ = a[L] and the target y, for a batch of N samples, K outputs.

Each gives the per-sample losses (reduced over outputs as the batch loss is) and
d_loss_d_output = ∂loss/∂ŷ; the batch loss is the mean of the per-sample losses.
Conventions follow torch.nn: MSELoss and BCEWithLogitsLoss average over samples and outputs,
CrossEntropyLoss over samples.
"""
from __future__ import annotations

import numpy as np

from .calls import Call
from .sums import all_finite, means, row_sums, scalar

BCE_EPS = 1e-12          # ∂L/∂ŷ divides by max(ŷ(1 - ŷ), 1e-12), as torch.nn.BCELoss does


class Loss:
    name: str
    # An output activation whose derivative this loss folds in: then delta[L] = ∂loss/∂z is
    # computed directly, exactly, even where f′(z) underflows (a saturated sigmoid).
    combined_with: str | None = None
    d_loss_d_output_is_d_z = False    # then delta[L] is a copy of d_loss_d_output

    def sample_losses(self, y_hat: np.ndarray, z_out: np.ndarray, y: np.ndarray,
                      out: np.ndarray, scratch: np.ndarray | None = None) -> np.ndarray:
        """(N,) each sample's loss; `scratch`, shaped like y, saves allocating one."""
        raise NotImplementedError

    def d_loss_d_output(self, y_hat: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
        """(N, K) ∂loss/∂ŷ; for cross-entropy after softmax, ∂loss/∂z (see CrossEntropy)."""
        raise NotImplementedError

    def d_loss_d_z(self, y_hat: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
        """(N, K) ∂loss/∂z with the combined activation's derivative folded in."""
        raise NotImplementedError

    def calls(self, y_hat: np.ndarray, z_out: np.ndarray, y: np.ndarray, sample_losses: np.ndarray,
              d_loss_d_output: np.ndarray, scratch: np.ndarray) -> list[Call]:
        """Step 2, loss, on a batch's buffers, bound (see calls.py): each sample's loss and ∂loss/∂ŷ."""
        return [(self.sample_losses, (y_hat, z_out, y, sample_losses, scratch)),
                (self.d_loss_d_output, (y_hat, y, d_loss_d_output))]


class MSE(Loss):
    name = "mse"

    def sample_losses(self, y_hat, z_out, y, out, scratch=None):   # ℓ_n = (1/K) Σ_k (ŷ - y)²
        diff = np.subtract(y_hat, y, scratch)
        np.multiply(diff, diff, diff)
        return np.dot(diff, means(y.shape[1]), out)

    def d_loss_d_output(self, y_hat, y, out):         # ∂L/∂ŷ = 2 (ŷ - y) / (N K)
        np.subtract(y_hat, y, out)
        return np.multiply(out, scalar(2.0 / y.size), out)

    def calls(self, y_hat, z_out, y, sample_losses, d_loss_d_output, scratch):
        diff = d_loss_d_output     # ŷ - y, once for both, then scaled into ∂L/∂ŷ
        K = y.shape[1]
        squares = [(np.multiply, (diff, diff, sample_losses[:, None]))] if K == 1 else [
            (np.multiply, (diff, diff, scratch)), (scratch.dot, (means(K), sample_losses))]
        return [(np.subtract, (y_hat, y, diff)), *squares, (np.multiply, (diff, scalar(2.0 / y.size), diff))]


class BCE(Loss):
    """Binary cross-entropy on sigmoid outputs, computed from z so a saturated, confidently
    wrong output still has its true loss (≈ |z|) and gradient (ŷ - y), not a clamped one."""

    name, combined_with = "bce", "sigmoid"

    def sample_losses(self, y_hat, z_out, y, out, scratch=None):   # ℓ_n = (1/K) Σ_k max(z,0) - y z + log(1 + e^-|z|)
        elementwise = np.maximum(z_out, 0.0) - y * z_out + np.log1p(np.exp(-np.abs(z_out)))
        return np.dot(elementwise, means(y.shape[1]), out)

    def d_loss_d_output(self, y_hat, y, out):         # ∂L/∂ŷ = (ŷ - y) / (ŷ (1 - ŷ)) / (N K)
        denominator = np.maximum(y_hat * (1.0 - y_hat), BCE_EPS)   # for display: ∞ where ŷ is 0 or 1
        np.subtract(y_hat, y, out)
        np.divide(out, denominator, out)
        return np.multiply(out, scalar(1.0 / y.size), out)

    def d_loss_d_z(self, y_hat, y, out):              # ∂L/∂z = (ŷ - y) / (N K)
        np.subtract(y_hat, y, out)
        return np.multiply(out, scalar(1.0 / y.size), out)


class CrossEntropy(Loss):
    """Categorical cross-entropy on softmax outputs, computed from z so it never takes log(0).

    Its d_loss_d_output is ∂L/∂z = (ŷ - y) / N, the last layer's delta: going through
    ∂L/∂ŷ and softmax's Jacobian would give the same numbers less exactly.
    """

    name, combined_with = "cross_entropy", "softmax"

    def sample_losses(self, y_hat, z_out, y, out, scratch=None):   # ℓ_n = -Σ_k y_k log softmax(z)_k
        # Targets are one-hot, so ℓ_n = -log ŷ_n,c: exact while ŷ_c is a normal float.
        row_sums(np.multiply(y, y_hat, scratch), out)
        np.log(out, out)
        np.negative(out, out)
        if not all_finite(out):   # ŷ_c underflowed (ℓ > ~708): log-sum-exp from z instead
            shifted = z_out - np.maximum.reduce(z_out, axis=1, keepdims=True)
            log_softmax = shifted - np.log(row_sums(np.exp(shifted)))[:, None]
            np.negative(row_sums(y * log_softmax), out=out)
        return out

    def d_loss_d_output(self, y_hat, y, out):         # ∂L/∂z = (ŷ - y) / N
        np.subtract(y_hat, y, out)
        return np.multiply(out, scalar(1.0 / y.shape[0]), out)

    d_loss_d_z = d_loss_d_output
    d_loss_d_output_is_d_z = True


LOSSES: dict[str, Loss] = {loss.name: loss for loss in (MSE(), BCE(), CrossEntropy())}
