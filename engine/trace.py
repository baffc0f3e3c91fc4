"""What each phase returns: plain dataclasses of NumPy arrays, named as in DESIGN.md.

Per-sample arrays are [layer][sample][neuron]; a[0] is the batch's inputs, and z[0] and
delta[0] are None. W[l][i][j] joins neuron i of layer l to neuron j of layer l+1.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Layers = list  # list[np.ndarray | None], one entry per layer


@dataclass
class ForwardResult:
    """Step 1, forward: the batch goes in; pre-activations z and activations a per layer."""
    iteration: int            # 0-based index of the iteration these numbers belong to
    batch: np.ndarray         # (N,) indices into the training set
    z: Layers                 # z[l]: (N, n_l); z[0] None
    a: Layers                 # a[l]: (N, n_l); a[0] the inputs
    layer: int                # the last layer computed: L after the whole phase


@dataclass
class LossResult:
    """Step 2, loss: the error between the output ŷ = a[L] and the targets."""
    iteration: int
    loss: float                     # the data loss of the batch
    sample_losses: np.ndarray       # (N,)
    regularization_loss: float      # (r/2)·ΣW² for L2, r·Σ|W| for L1, 0 for none
    d_loss_d_output: np.ndarray     # (N, K) ∂loss/∂ŷ; ∂loss/∂z for softmax + cross-entropy
    targets: np.ndarray             # (N, K) the encoded targets y


@dataclass
class BackwardResult:
    """Step 3, backward: the chain rule from the output back to the input."""
    iteration: int
    delta: Layers                   # delta[l] = ∂loss/∂z[l]: (N, n_l); delta[0] None
    grad_W: list[np.ndarray | None]     # ∂(data loss)/∂W[l]; None for layers not reached yet
    grad_b: list[np.ndarray | None]     # ∂(data loss)/∂b[l]
    grad_W_reg: list | None             # ∂(regularization loss)/∂W[l]; None without regularization
    layer: int                          # the lowest weight layer done: 0 after the whole phase


@dataclass
class UpdateResult:
    """Step 4, update: the optimizer moves each parameter against its gradient."""
    iteration: int
    W: list[np.ndarray]             # new values
    b: list[np.ndarray]
    step_W: list[np.ndarray]        # what was added
    step_b: list[np.ndarray]
    optimizer_state: dict           # torch's names: momentum_buffer_W, exp_avg_W, step, ...


@dataclass
class Trace:
    """The iteration in progress, or the last completed one; phases not run yet are None."""
    iteration: int
    forward: ForwardResult | None = None
    loss: LossResult | None = None
    backward: BackwardResult | None = None
    update: UpdateResult | None = None


@dataclass
class NetworkState:
    layers: list[int]
    W: list[np.ndarray]
    b: list[np.ndarray]
    grad_W: list[np.ndarray] | None   # None before the first backward
    grad_b: list[np.ndarray] | None


@dataclass
class Metrics:
    train_loss: float
    test_loss: float | None           # None without a test set
    train_accuracy: float | None      # None for regression
    test_accuracy: float | None


@dataclass
class History:
    iterations: np.ndarray            # (n,) iteration numbers, 1-based (after that update)
    batch_loss: np.ndarray            # (n,) the data loss of that iteration's batch
    grad_norm: np.ndarray             # (n, L) per weight layer, ‖(∂L/∂W[l], ∂L/∂b[l])‖
    evaluations: list[dict] = field(default_factory=list)   # {iteration, epoch, train_loss, ...}
    diagnostics_iterations: np.ndarray | None = None        # (m,) every eval_every iterations
    diagnostics: np.ndarray | None = None                   # (m, L, 4) see Diagnostics.columns


@dataclass
class Diagnostics:
    """Why a network does or does not learn, per weight layer, for one iteration."""
    iteration: int
    columns: tuple[str, ...]          # grad_norm, update_ratio, dead_fraction, saturated_fraction
    layers: np.ndarray                # (L, 4); NaN where a column does not apply
    hints: list[dict]                 # {kind, layer, message, numbers}


@dataclass
class TrainResult:
    iterations_run: int
    stopped_by: str | None            # "diverged" (a NaN or inf) or "breakpoint"; None if it ran to the end
    breakpoint: dict | None = None    # what stopped it: {kind, iteration, epoch, detail, ...numbers}


@dataclass
class Prediction:
    outputs: np.ndarray               # (N, K)
    z: Layers
    a: Layers


@dataclass
class Boundary:
    """Outputs and every neuron's activation over a grid spanning the input range."""
    resolution: int
    x_range: tuple[float, float]
    y_range: tuple[float, float] | None   # None for one input
    outputs: np.ndarray                   # (K, r·r) for two inputs, index iy·r + ix; (K, r) for one
    neurons: Layers                       # neurons[l]: (n_l, r·r); neurons[0] None


@dataclass
class GradCheck:
    """Analytic gradient (data + regularization) beside central differences, per parameter."""
    iteration: int
    batch: np.ndarray
    epsilon: float
    analytic_W: list[np.ndarray]
    numerical_W: list[np.ndarray]
    analytic_b: list[np.ndarray]
    numerical_b: list[np.ndarray]
    relative_error_W: list[np.ndarray]
    relative_error_b: list[np.ndarray]
    max_relative_error: float


@dataclass
class GradientComparison:
    """What a mini-batch gradient estimates: the full-batch gradient, at the same parameters."""
    batch: np.ndarray                 # the mini-batch's training rows
    full_W: list[np.ndarray]
    full_b: list[np.ndarray]
    batch_W: list[np.ndarray]
    batch_b: list[np.ndarray]
    cosine: list[float | None]        # per layer: 1 when they point the same way
    norm_ratio: list[float | None]    # per layer: ‖mini-batch‖ / ‖full batch‖
