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
from .calls import Call
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
        self.Wb_T = [Wb.T for Wb in self.Wb]   # transposed views, made once: forward uses them
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


class Passes:
    """The forward pass, the loss and the backward pass over one set of Buffers, as lists
    of NumPy calls with every operand bound once (see calls.py). Stepping and training run
    the same lists, so their numbers are the same.

    Buffers hold every layer neuron-major (see Buffers), so the products are written
    transposed: zᵀ = Wbᵀ [a, 1]ᵀ rather than z = [a, 1] Wb. The numbers are the same.
    """

    def __init__(self, net: Network, buffers: Buffers, loss: Loss | None = None,
                 grad_Wb: list[np.ndarray] | None = None):
        """The forward pass; the backward one too when given the loss and where to write
        the gradient (views laid out like Network.Wb)."""
        L, f, b = net.n_layers, net.activations, buffers
        # Step 1, forward, layer l: z[l+1] = a[l] @ W[l] + b[l] = [a[l], 1] @ [[W[l]], [b[l]]],
        # a[l+1] = f(z[l+1])
        self.forward_layers: list[list[Call]] = [
            [(net.Wb_T[l].dot, (b.a_ones_T[l], b.z_T[l + 1])), *f[l + 1].f_calls(b.z[l + 1], b.a[l + 1])]
            for l in range(L)]
        self.forward = [call for layer in self.forward_layers for call in layer]
        if loss is None or grad_Wb is None:
            return
        # Step 2, loss: each sample's loss and ∂loss/∂ŷ
        self.loss = loss.calls(b.a[L], b.z[L], b.targets, b.sample_losses, b.d_loss_d_output, b.loss_scratch)
        # Step 3, backward, at the output: delta[L] = dL/dŷ · f'(z[L]) (sigmoid + bce, softmax +
        # cross-entropy: dL/dz directly); and f'(z[l]) of every hidden layer, which the layers
        # below need, in one pass over their side-by-side buffers.
        self.output_delta: list[Call] = f[1].df_calls(b.hidden_z, b.hidden_a, b.hidden_df) if L > 1 else []
        if loss.combined_with == f[L].name:
            self.output_delta += loss.d_loss_d_z_calls(b.a[L], b.targets, b.d_loss_d_output, b.delta[L])
        else:
            self.output_delta += [*f[L].df_calls(b.z[L], b.a[L], b.df[L]),
                                  (np.multiply, (b.d_loss_d_output, b.df[L], b.delta[L]))]
        # Backward through weight layer l, given delta[l+1]:
        # dL/dW[l] = a[l]ᵀ delta[l+1], dL/db[l] = Σ_samples delta[l+1] (both: [a[l], 1]ᵀ delta[l+1]),
        # delta[l] = (delta[l+1] @ W[l]ᵀ) · f'(z[l])   (not needed for the input, l = 0)
        self.backward_layers: list[list[Call]] = [
            [(b.a_ones_T[l].dot, (b.delta[l + 1], grad_Wb[l]))]
            + ([(net.W[l].dot, (b.delta_T[l + 1], b.back_T[l])),
                (np.multiply, (b.back_T[l], b.df_T[l], b.delta_T[l]))] if l > 0 else [])
            for l in range(L)]
        self.backward = self.output_delta + [call for layer in reversed(self.backward_layers) for call in layer]
        self.iteration = self.forward + self.loss + self.backward   # steps 1–3 of a whole iteration


class Buffers:
    """Preallocated arrays for one batch size N.

    z[l], a[l], delta[l] are (N, n_l) — [layer][sample][neuron], as in the trace — but each
    is a view of a neuron-major (n_l, N) array, z_T[l] etc.: so a layer's values are one
    contiguous block that elementwise passes run through at full speed, its row of ones
    (what b multiplies) is one more row, and the hidden layers' blocks lie side by side, so
    f'(z) of them all is one pass. Rows of ones sit in z and f'(z) too, where they are
    never read. The inputs are the exception, held samples-first.
    """

    def __init__(self, layers: list[int], n_samples: int):
        N, n_in, K = n_samples, layers[0], layers[-1]
        self.n_samples = N
        self.batch = np.zeros(N, dtype=np.int64)                  # sample indices (a read-only view)
        # the batch's inputs [x, 1], samples-first: gathering whole rows is the fast way to
        # load them (a gather along the other axis copies one number at a time; for the few
        # rows of targets that costs nothing, and they sit the way the outputs do)
        self.x_ones = np.ones((N, n_in + 1))
        self.targets_T = np.zeros((K, N))
        self.targets = self.targets_T.T

        # the hidden layers' [a, 1]ᵀ, z and f'(z), block after block
        starts = np.cumsum([0] + [n + 1 for n in layers[1:-1]]).tolist()
        self.hidden_a, self.hidden_z, self.hidden_df = (np.ones((starts[-1], N)) for _ in range(3))
        hidden = [(s, s + n) for s, n in zip(starts, layers[1:-1])]

        self.a_ones_T = [self.x_ones.T] + [self.hidden_a[s:e + 1] for s, e in hidden]
        self.a_T = [self.x_ones[:, :n_in].T] + [self.hidden_a[s:e] for s, e in hidden] + [np.zeros((K, N))]
        self.z_T = [None] + [self.hidden_z[s:e] for s, e in hidden] + [np.zeros((K, N))]
        self.df_T = [None] + [self.hidden_df[s:e] for s, e in hidden] + [np.zeros((K, N))]
        self.delta_T = [None] + [np.zeros((n, N)) for n in layers[1:]]
        self.back_T = [None] + [np.zeros((n, N)) for n in layers[1:]]

        def samples_first(arrays: list) -> list:
            return [x if x is None else x.T for x in arrays]
        self.a, self.z, self.df, self.delta = map(samples_first, (self.a_T, self.z_T, self.df_T, self.delta_T))
        self.d_loss_d_output = np.zeros((K, N)).T
        self.sample_losses = np.zeros(N)
        self.loss_scratch = np.zeros((K, N)).T


def only_numbers(value) -> bool:
    """True for a number or nested lists of numbers; bools and strings are not numbers here."""
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "iuf"
    if isinstance(value, (list, tuple)):
        return all(only_numbers(v) for v in value)
    return isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
