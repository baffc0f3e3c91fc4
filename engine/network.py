"""A dense network over one flat parameter vector, and the forward and backward passes.

W[l] (n_l, n_{l+1}) and b[l] (n_{l+1},) are views into `params`, laid out
[W0, b0, W1, b1, ...]; gradients and optimizer state use the same layout, so an update
is one vector operation. Row-major, a layer's W followed by its b is the matrix
Wb[l] = [[W[l]], [b[l]]] ((n_l + 1), n_{l+1}): with a column of ones after a[l],
z[l+1] = [a[l], 1] @ Wb[l] in one matrix product, and [a[l], 1]ᵀ @ delta[l+1] gives
∂L/∂W[l] and ∂L/∂b[l] (its last row) in one.
"""
from __future__ import annotations

import numpy as np

from .activations import ACTIVATIONS, Activation
from .config import ConfigError, NetworkConfig
from .losses import Loss


class Network:
    def __init__(self, config: NetworkConfig):
        self.layers = list(config.layers)                  # sizes, input first
        self.n_layers = len(self.layers) - 1               # weight layers L
        self.activations: list[Activation | None] = (
            [None] + [ACTIVATIONS[config.activation]] * (self.n_layers - 1)
            + [ACTIVATIONS[config.output_activation]]
        )
        # layer l's W and b occupy params[starts[l]:starts[l+1]]
        sizes = [(n_in + 1) * n_out for n_in, n_out in zip(self.layers, self.layers[1:])]
        self.starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
        self.n_params = self.starts[-1]
        self.params = np.zeros(self.n_params)
        self.W, self.b = self.views(self.params)
        self.Wb = self.stacked_views(self.params)
        self.weight_mask = np.zeros(self.n_params)
        for W_mask in self.views(self.weight_mask)[0]:
            W_mask.fill(1.0)

    def views(self, flat: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per-layer (W, b) views into a flat vector laid out like `params`."""
        W, b = [], []
        for l, (n_in, n_out) in enumerate(zip(self.layers, self.layers[1:])):
            s = self.starts[l]
            W.append(flat[s:s + n_in * n_out].reshape(n_in, n_out))
            b.append(flat[s + n_in * n_out:self.starts[l + 1]])
        return W, b

    def stacked_views(self, flat: np.ndarray) -> list[np.ndarray]:
        """Per-layer Wb[l] = [[W[l]], [b[l]]] views, (n_l + 1, n_{l+1}), into a flat vector."""
        return [flat[s:e].reshape(n_in + 1, n_out)
                for s, e, n_in, n_out in zip(self.starts, self.starts[1:], self.layers, self.layers[1:])]

    def layer_slices(self) -> list[slice]:
        return [slice(s, e) for s, e in zip(self.starts, self.starts[1:])]

    # ---- initialisation ------------------------------------------------------------

    def initialise(self, config: NetworkConfig, rng: np.random.Generator) -> None:
        """Set every weight and bias by the configured scheme (biases 0 unless uniform)."""
        self.params.fill(0.0)
        if config.init == "explicit":
            self.set_parameters(config.W, config.b, field="network")
            return
        for W in self.W:
            fan_in, fan_out = W.shape
            if config.init == "xavier_uniform":
                bound = np.sqrt(6.0 / (fan_in + fan_out))
                W[...] = rng.uniform(-bound, bound, W.shape)
            elif config.init == "xavier_normal":
                W[...] = rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), W.shape)
            elif config.init == "he":
                W[...] = rng.normal(0.0, np.sqrt(2.0 / fan_in), W.shape)
        if config.init == "uniform":
            low, high = config.init_range
            self.params[...] = rng.uniform(low, high, self.n_params)

    def set_parameters(self, W: list, b: list, field: str = "") -> None:
        """Set every weight and bias; shapes must match the layers and every value be finite."""
        self.assign(*self.checked_parameters(W, b, field))

    def checked_parameters(self, W: list, b: list, field: str = "") -> tuple[list, list]:
        """W and b as arrays, after checking shapes and values (raises ConfigError)."""
        prefix = f"{field}." if field else ""
        return (self._checked_list(f"{prefix}W", W, [w.shape for w in self.W]),
                self._checked_list(f"{prefix}b", b, [v.shape for v in self.b]))

    def assign(self, W: list[np.ndarray], b: list[np.ndarray]) -> None:
        for target, value in zip(self.W + self.b, W + b):
            target[...] = value

    def _checked_list(self, name: str, values, shapes) -> list[np.ndarray]:
        if not isinstance(values, (list, tuple)) or len(values) != len(shapes):
            raise ConfigError(name, f"must be a list of {len(shapes)} layers")
        checked = []
        for l, (value, shape) in enumerate(zip(values, shapes)):
            if not only_numbers(value):
                raise ConfigError(f"{name}[{l}]", "must hold only numbers (not strings or true/false)")
            try:
                array = np.asarray(value, dtype=np.float64)
            except ValueError:  # ragged rows
                array = None
            except OverflowError:  # an int beyond float64, as JSON allows
                raise ConfigError(f"{name}[{l}]", "must hold only finite numbers") from None
            if array is None or array.shape != shape:
                got = "ragged rows" if array is None else f"shape {list(array.shape)}"
                raise ConfigError(f"{name}[{l}]", f"must have shape {list(shape)}, not {got}")
            if not np.isfinite(array).all():
                raise ConfigError(f"{name}[{l}]", "must hold only finite numbers")
            checked.append(array)
        return checked

    # ---- the forward and backward passes -----------------------------------------------

    def forward(self, buffers: "Buffers", upto: int | None = None, start: int = 0) -> None:
        """Forward: z[l+1] = a[l] @ W[l] + b[l], a[l+1] = f(z[l+1]) for layers start..upto-1."""
        z, a, a_ones = buffers.z, buffers.a, buffers.a_ones
        for l in range(start, self.n_layers if upto is None else upto):
            np.dot(a_ones[l], self.Wb[l], out=z[l + 1])          # [a, 1] @ [[W], [b]]
            self.activations[l + 1].f(z[l + 1], out=a[l + 1])

    def output_delta(self, buffers: "Buffers", loss: Loss) -> None:
        """Backward, at the output: delta[L] = dL/dŷ · f'(z[L]) (sigmoid + bce, softmax + cross-
        entropy: dL/dz directly)."""
        L = self.n_layers
        if loss.combined_with == self.activations[L].name:
            loss.d_loss_d_z(buffers.a[L], buffers.targets, out=buffers.delta[L])
            return
        self.activations[L].df(buffers.z[L], buffers.a[L], out=buffers.df[L])
        np.multiply(buffers.d_loss_d_output, buffers.df[L], out=buffers.delta[L])

    def backward_layer(self, buffers: "Buffers", l: int, grad_Wb: list[np.ndarray]) -> None:
        """Backward through weight layer l, given delta[l+1]:
        dL/dW[l] = a[l]ᵀ delta[l+1], dL/db[l] = Σ_samples delta[l+1] (both: [a[l], 1]ᵀ delta[l+1]),
        delta[l] = (delta[l+1] @ W[l]ᵀ) · f'(z[l])   (not needed for the input, l = 0)."""
        delta_next = buffers.delta[l + 1]
        np.dot(buffers.a_ones[l].T, delta_next, out=grad_Wb[l])
        if l > 0:
            np.dot(delta_next, self.W[l].T, out=buffers.back[l])
            self.activations[l].df(buffers.z[l], buffers.a[l], out=buffers.df[l])
            np.multiply(buffers.back[l], buffers.df[l], out=buffers.delta[l])


class Buffers:
    """Preallocated arrays for one batch size N: [layer][sample][neuron], as in the trace."""

    def __init__(self, layers: list[int], n_samples: int):
        N = n_samples
        self.n_samples = N
        self.batch = np.zeros(N, dtype=np.int64)                  # sample indices (a read-only view)
        # a[l] with a column of ones after it, for every layer that feeds another
        self.a_ones = [np.ones((N, n + 1)) for n in layers[:-1]]
        self.a = [x[:, :-1] for x in self.a_ones] + [np.zeros((N, layers[-1]))]   # a[0]: the inputs
        self.z = [None] + [np.zeros((N, n)) for n in layers[1:]]
        self.delta = [None] + [np.zeros((N, n)) for n in layers[1:]]
        self.df = [None] + [np.zeros((N, n)) for n in layers[1:]]
        self.back = [None] + [np.zeros((N, n)) for n in layers[1:]]
        self.targets = np.zeros((N, layers[-1]))
        self.d_loss_d_output = np.zeros((N, layers[-1]))
        self.sample_losses = np.zeros(N)


def only_numbers(value) -> bool:
    """True for a number or nested lists of numbers; bools and strings are not numbers here."""
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "iuf"
    if isinstance(value, (list, tuple)):
        return all(only_numbers(v) for v in value)
    return isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
