"""Activation functions, each forward beside its derivative.

f(z) is the activation a; df(z, a) is da/dz, elementwise, written from whichever of z or a
is cheaper. Both write into `out` so the training loop reuses its buffers.
"""
from __future__ import annotations

import numpy as np

from .sums import ones

LEAKY_SLOPE = 0.01  # as torch.nn.LeakyReLU's default
# 0-d arrays: NumPy converts a Python float on every call, a 0-d array it takes as is
ZERO, ONE = np.array(0.0), np.array(1.0)
SLOPE, ONE_MINUS_SLOPE = np.array(LEAKY_SLOPE), np.array(1.0 - LEAKY_SLOPE)


class Activation:
    name: str
    low: float   # the range of a, for encoding targets and scaling heatmaps
    high: float

    def f(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def df(self, z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Sigmoid(Activation):
    name, low, high = "sigmoid", 0.0, 1.0

    def f(self, z, out):            # a = 1 / (1 + e^-z)
        np.negative(z, out)
        np.exp(out, out)
        np.add(out, ONE, out)
        return np.reciprocal(out, out)

    def df(self, z, a, out):        # da/dz = a (1 - a)
        np.subtract(ONE, a, out)
        return np.multiply(out, a, out)


class Tanh(Activation):
    name, low, high = "tanh", -1.0, 1.0

    f = np.tanh                     # a = tanh z   (the ufunc itself, called as f(z, out): no Python around it)

    def df(self, z, a, out):        # da/dz = 1 - a²
        np.multiply(a, a, out)
        return np.subtract(ONE, out, out)


class ReLU(Activation):
    name, low, high = "relu", 0.0, np.inf

    def f(self, z, out):            # a = max(z, 0)
        return np.maximum(z, ZERO, out=out)   # (np.maximum takes out by keyword only)

    def df(self, z, a, out):        # da/dz = 1 if z > 0 else 0 (0 at z = 0, as torch)
        return np.greater(z, ZERO, out)


class LeakyReLU(Activation):
    name, low, high = "leaky_relu", -np.inf, np.inf

    def f(self, z, out):            # a = z if z > 0 else 0.01 z
        np.multiply(z, SLOPE, out)
        return np.maximum(z, out, out=out)

    def df(self, z, a, out):        # da/dz = 1 if z > 0 else 0.01
        np.greater(z, ZERO, out)
        np.multiply(out, ONE_MINUS_SLOPE, out)
        return np.add(out, SLOPE, out)


class Linear(Activation):
    name, low, high = "linear", -np.inf, np.inf

    def f(self, z, out):            # a = z
        np.copyto(out, z)
        return out

    def df(self, z, a, out):        # da/dz = 1
        out.fill(1.0)
        return out


class Softmax(Activation):
    """Output layer only, always with cross-entropy: the loss supplies dL/dz directly."""

    name, low, high = "softmax", 0.0, 1.0

    def f(self, z, out):            # a_k = e^(z_k - max z) / Σ_j e^(z_j - max z), per sample
        # over z.T, (K, N): neuron-major buffers make that the contiguous way round
        z_T, out_T = z.T, out.T
        np.subtract(z_T, np.maximum.reduce(z_T, axis=0), out_T)
        np.exp(out_T, out_T)
        np.divide(out_T, ones(len(out_T)).dot(out_T), out_T)      # Σ_j as a product with ones: see sums.py
        return out

    def df(self, z, a, out):
        raise TypeError("softmax's Jacobian is not elementwise; cross-entropy gives dL/dz directly")


ACTIVATIONS: dict[str, Activation] = {
    act.name: act for act in (Sigmoid(), Tanh(), ReLU(), LeakyReLU(), Linear(), Softmax())
}
