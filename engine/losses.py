"""Losses between the output ŷ = a[L] and the target y, for a batch of N samples, K outputs.

Each gives the per-sample losses (reduced over outputs as the batch loss is) and
d_loss_d_output = ∂loss/∂ŷ; the batch loss is the mean of the per-sample losses.
Conventions follow torch.nn: MSELoss and BCEWithLogitsLoss average over samples and outputs,
CrossEntropyLoss over samples.
"""
from __future__ import annotations

import numpy as np

from .calls import Call, run
from .sums import all_finite, means, ones, row_sums, scalar

BCE_EPS = 1e-12          # ∂L/∂ŷ divides by max(ŷ(1 - ŷ), 1e-12), as torch.nn.BCELoss does


class Loss:
    """Each loss writes its per-sample losses and ∂loss/∂ŷ as lists of NumPy calls (see
    calls.py): the training loop binds them to its buffers once; sample_losses and
    d_loss_d_output run them for everyone else."""

    name: str
    # An output activation whose derivative this loss folds in: then delta[L] = ∂loss/∂z is
    # computed directly, exactly, even where f′(z) underflows (a saturated sigmoid).
    combined_with: str | None = None

    def sample_loss_calls(self, y_hat: np.ndarray, z_out: np.ndarray, y: np.ndarray,
                          out: np.ndarray, scratch: np.ndarray) -> list[Call]:
        """(N,) each sample's loss into `out`; `scratch` is shaped like y."""
        raise NotImplementedError

    def d_loss_calls(self, y_hat: np.ndarray, y: np.ndarray, out: np.ndarray) -> list[Call]:
        """(N, K) ∂loss/∂ŷ into `out`; for cross-entropy after softmax, ∂loss/∂z (see CrossEntropy)."""
        raise NotImplementedError

    def d_loss_d_z_calls(self, y_hat: np.ndarray, y: np.ndarray, d_loss_d_output: np.ndarray,
                         out: np.ndarray) -> list[Call]:
        """(N, K) ∂loss/∂z into `out`, the combined activation's derivative folded in; after
        d_loss_calls has written d_loss_d_output (only for a loss with combined_with)."""
        raise NotImplementedError

    def calls(self, y_hat: np.ndarray, z_out: np.ndarray, y: np.ndarray, sample_losses: np.ndarray,
              d_loss_d_output: np.ndarray, scratch: np.ndarray) -> list[Call]:
        """Step 2, loss, on a batch's buffers: each sample's loss and ∂loss/∂ŷ."""
        return (self.sample_loss_calls(y_hat, z_out, y, sample_losses, scratch)
                + self.d_loss_calls(y_hat, y, d_loss_d_output))

    def exact_sample_losses(self, z_out: np.ndarray, y: np.ndarray, out: np.ndarray) -> bool:
        """Where the calls' fast way gave a NaN or inf loss: the per-sample losses again, a
        slower way that stays finite (True), or no such way (False)."""
        return False

    def sample_losses(self, y_hat: np.ndarray, z_out: np.ndarray, y: np.ndarray,
                      out: np.ndarray) -> np.ndarray:
        run(self.sample_loss_calls(y_hat, z_out, y, out, np.empty(y.shape)))
        if not all_finite(out):
            self.exact_sample_losses(z_out, y, out)
        return out

    def d_loss_d_output(self, y_hat: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
        run(self.d_loss_calls(y_hat, y, out))
        return out


class MSE(Loss):
    name = "mse"

    def sample_loss_calls(self, y_hat, z_out, y, out, scratch):    # ℓ_n = (1/K) Σ_k (ŷ - y)²
        return [(np.subtract, (y_hat, y, scratch)), (np.multiply, (scratch, scratch, scratch)),
                (scratch.dot, (means(y.shape[1]), out))]

    def d_loss_calls(self, y_hat, y, out):            # ∂L/∂ŷ = 2 (ŷ - y) / (N K)
        return [(np.subtract, (y_hat, y, out)), (np.multiply, (out, scalar(2.0 / y.size), out))]

    def calls(self, y_hat, z_out, y, sample_losses, d_loss_d_output, scratch):
        # the same numbers with ŷ - y computed once for both (and no mean over one output)
        diff, K = d_loss_d_output, y.shape[1]
        squares = [(np.multiply, (diff, diff, sample_losses[:, None]))] if K == 1 else [
            (np.multiply, (diff, diff, scratch)), (scratch.dot, (means(K), sample_losses))]
        return [(np.subtract, (y_hat, y, diff)), *squares, (np.multiply, (diff, scalar(2.0 / y.size), diff))]


class BCE(Loss):
    """Binary cross-entropy on sigmoid outputs, computed from z so a saturated, confidently
    wrong output still has its true loss (≈ |z|) and gradient (ŷ - y), not a clamped one."""

    name, combined_with = "bce", "sigmoid"

    def sample_loss_calls(self, y_hat, z_out, y, out, scratch):
        return [(self._sample_losses, (z_out, y, out))]

    def _sample_losses(self, z_out, y, out):         # ℓ_n = (1/K) Σ_k max(z,0) - y z + log(1 + e^-|z|)
        elementwise = np.maximum(z_out, 0.0) - y * z_out + np.log1p(np.exp(-np.abs(z_out)))
        np.dot(elementwise, means(y.shape[1]), out)

    def d_loss_calls(self, y_hat, y, out):
        return [(self._d_loss_d_output, (y_hat, y, out))]

    def _d_loss_d_output(self, y_hat, y, out):       # ∂L/∂ŷ = (ŷ - y) / (ŷ (1 - ŷ)) / (N K)
        denominator = np.maximum(y_hat * (1.0 - y_hat), BCE_EPS)   # for display: ∞ where ŷ is 0 or 1
        np.subtract(y_hat, y, out)
        np.divide(out, denominator, out)
        np.multiply(out, scalar(1.0 / y.size), out)

    def d_loss_d_z_calls(self, y_hat, y, d_loss_d_output, out):    # ∂L/∂z = (ŷ - y) / (N K)
        return [(np.subtract, (y_hat, y, out)), (np.multiply, (out, scalar(1.0 / y.size), out))]


class CrossEntropy(Loss):
    """Categorical cross-entropy on softmax outputs, computed from z so it never takes log(0).

    Its d_loss_d_output is ∂L/∂z = (ŷ - y) / N, the last layer's delta: going through
    ∂L/∂ŷ and softmax's Jacobian would give the same numbers less exactly.
    """

    name, combined_with = "cross_entropy", "softmax"

    def sample_loss_calls(self, y_hat, z_out, y, out, scratch):   # ℓ_n = -Σ_k y_k log softmax(z)_k
        # Targets are one-hot, so ℓ_n = -log ŷ_n,c: exact while ŷ_c is a normal float.
        return [(np.multiply, (y, y_hat, scratch)), (scratch.dot, (ones(y.shape[1]), out)),
                (np.log, (out, out)), (np.negative, (out, out))]

    def exact_sample_losses(self, z_out, y, out):    # where ŷ_c underflowed (ℓ > ~708): log-sum-exp from z
        shifted = z_out - np.maximum.reduce(z_out, axis=1, keepdims=True)
        log_softmax = shifted - np.log(row_sums(np.exp(shifted)))[:, None]
        np.negative(row_sums(y * log_softmax), out=out)
        return True

    def d_loss_calls(self, y_hat, y, out):            # ∂L/∂z = (ŷ - y) / N
        return [(np.subtract, (y_hat, y, out)), (np.multiply, (out, scalar(1.0 / y.shape[0]), out))]

    def d_loss_d_z_calls(self, y_hat, y, d_loss_d_output, out):
        return [(np.copyto, (out, d_loss_d_output))]    # d_loss_d_output already is ∂L/∂z


LOSSES: dict[str, Loss] = {loss.name: loss for loss in (MSE(), BCE(), CrossEntropy())}
