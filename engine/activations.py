"""Activation functions, each forward beside its derivative.

f(z) is the activation a; df(z, a) is da/dz, elementwise, written from whichever of z or a
is cheaper. Both write into `out` so the training loop reuses its buffers.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from .calls import Call, run
from .sums import ones

LEAKY_SLOPE = 0.01  # as torch.nn.LeakyReLU's default
# 0-d arrays: NumPy converts a Python float on every call, a 0-d array it takes as is
ZERO, ONE = np.array(0.0), np.array(1.0)
SLOPE, ONE_MINUS_SLOPE = np.array(LEAKY_SLOPE), np.array(1.0 - LEAKY_SLOPE)


class Activation:
    """f(z, out) writes a = f(z); df(z, a, out) writes da/dz. Each is written once, as the
    list of NumPy calls it makes (see calls.py), which the training loop binds to its
    buffers once and which f and df run for everyone else."""

    name: str
    low: float   # the range of a, for encoding targets and scaling heatmaps
    high: float

    def f_calls(self, z: np.ndarray, out: np.ndarray) -> list[Call]:
        raise NotImplementedError

    def df_calls(self, z: np.ndarray, a: np.ndarray, out: np.ndarray) -> list[Call]:
        raise NotImplementedError

    def f(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        run(self.f_calls(z, out))
        return out

    def df(self, z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
        run(self.df_calls(z, a, out))
        return out


class Sigmoid(Activation):
    name, low, high = "sigmoid", 0.0, 1.0

    def f_calls(self, z, out):            # a = 1 / (1 + e^-z)
        return [(np.negative, (z, out)), (np.exp, (out, out)), (np.add, (out, ONE, out)),
                (np.reciprocal, (out, out))]

    def df_calls(self, z, a, out):        # da/dz = a (1 - a)
        return [(np.subtract, (ONE, a, out)), (np.multiply, (out, a, out))]


class Tanh(Activation):
    name, low, high = "tanh", -1.0, 1.0

    def f_calls(self, z, out):            # a = tanh z
        return [(np.tanh, (z, out))]

    def df_calls(self, z, a, out):        # da/dz = 1 - a²
        return [(np.multiply, (a, a, out)), (np.subtract, (ONE, out, out))]


class ReLU(Activation):
    name, low, high = "relu", 0.0, np.inf

    def f_calls(self, z, out):            # a = max(z, 0)   (np.maximum takes out by keyword only)
        return [(partial(np.maximum, out=out), (z, ZERO))]

    def df_calls(self, z, a, out):        # da/dz = 1 if z > 0 else 0 (0 at z = 0, as torch)
        return [(np.greater, (z, ZERO, out))]


class LeakyReLU(Activation):
    name, low, high = "leaky_relu", -np.inf, np.inf

    def f_calls(self, z, out):            # a = z if z > 0 else 0.01 z
        return [(np.multiply, (z, SLOPE, out)), (partial(np.maximum, out=out), (z, out))]

    def df_calls(self, z, a, out):        # da/dz = 1 if z > 0 else 0.01
        return [(np.greater, (z, ZERO, out)), (np.multiply, (out, ONE_MINUS_SLOPE, out)),
                (np.add, (out, SLOPE, out))]


class Linear(Activation):
    name, low, high = "linear", -np.inf, np.inf

    def f_calls(self, z, out):            # a = z
        return [(np.copyto, (out, z))]

    def df_calls(self, z, a, out):        # da/dz = 1
        return [(out.fill, (1.0,))]


class Softmax(Activation):
    """Output layer only, always with cross-entropy: the loss supplies dL/dz directly."""

    name, low, high = "softmax", 0.0, 1.0

    def f_calls(self, z, out):            # a_k = e^(z_k - max z) / Σ_j e^(z_j - max z), per sample
        # over z.T, (K, N): neuron-major buffers make that the contiguous way round
        z_T, out_T = z.T, out.T
        top, total = np.empty(len(z)), np.empty(len(z))    # max z and Σ_j, per sample
        return [(np.maximum.reduce, (z_T, 0, None, top)), (np.subtract, (z_T, top, out_T)),
                (np.exp, (out_T, out_T)),
                (ones(len(out_T)).dot, (out_T, total)),       # Σ_j as a product with ones: see sums.py
                (np.divide, (out_T, total, out_T))]

    def df_calls(self, z, a, out):
        raise TypeError("softmax's Jacobian is not elementwise; cross-entropy gives dL/dz directly")


ACTIVATIONS: dict[str, Activation] = {
    act.name: act for act in (Sigmoid(), Tanh(), ReLU(), LeakyReLU(), Linear(), Softmax())
}
