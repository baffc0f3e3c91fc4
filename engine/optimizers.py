"""Optimizers: how the update step turns the gradient g into a step added to the parameters.

All work on the flat parameter vector (every W and b side by side), so one step is a
handful of NumPy calls whatever the network's shape. Equations and defaults are
torch.optim's (SGD with momentum/nesterov and dampening 0, RMSprop, Adam), so runs can be
checked against PyTorch. `state` holds each optimizer's buffers by torch's names.
"""
from __future__ import annotations

import numpy as np

from .config import OptimizerConfig
from .sums import scalar


class Optimizer:
    name: str
    state_names: tuple[str, ...] = ()   # flat buffers shaped like the parameters

    def __init__(self, config: OptimizerConfig, n_params: int):
        self.learning_rate = config.learning_rate
        # every buffer lives in one flat array, so a history snapshot is one copy
        self.flat_state = np.zeros(len(self.state_names) * n_params)
        self.state: dict[str, np.ndarray] = {
            name: self.flat_state[k * n_params:(k + 1) * n_params]
            for k, name in enumerate(self.state_names)
        }
        self.step_count = 0

    def step(self, g: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Update step: write into `out` the step to add to the parameters, given gradient g."""
        raise NotImplementedError


class SGD(Optimizer):
    name = "sgd"

    def __init__(self, config, n_params):
        super().__init__(config, n_params)
        self._minus_lr = scalar(-self.learning_rate)

    def step(self, g, out):                  # step = -lr · g
        self.step_count += 1
        return np.multiply(g, self._minus_lr, out)


class Momentum(Optimizer):
    name = "momentum"
    state_names = ("momentum_buffer",)

    def __init__(self, config, n_params):
        super().__init__(config, n_params)
        self.momentum = config.momentum
        self.nesterov = config.nesterov
        self._mu, self._minus_lr = scalar(self.momentum), scalar(-self.learning_rate)

    def step(self, g, out):
        self.step_count += 1
        v, mu = self.state["momentum_buffer"], self._mu
        np.multiply(v, mu, v)                 # v = μ v + g
        np.add(v, g, v)
        if self.nesterov:                     # step = -lr · (g + μ v)
            np.multiply(v, mu, out)
            np.add(out, g, out)
            return np.multiply(out, self._minus_lr, out)
        return np.multiply(v, self._minus_lr, out)   # step = -lr · v


class RMSprop(Optimizer):
    name = "rmsprop"
    state_names = ("square_avg",)

    def __init__(self, config, n_params):
        super().__init__(config, n_params)
        self.alpha = config.alpha
        self.eps = config.eps
        self._alpha, self._one_minus_alpha = scalar(self.alpha), scalar(1.0 - self.alpha)
        self._eps, self._minus_lr = scalar(self.eps), scalar(-self.learning_rate)

    def step(self, g, out):
        self.step_count += 1
        s = self.state["square_avg"]
        np.multiply(s, self._alpha, s)        # s = α s + (1 - α) g²
        np.multiply(g, g, out)
        np.multiply(out, self._one_minus_alpha, out)
        np.add(s, out, s)
        np.sqrt(s, out)                       # step = -lr · g / (√s + ε)
        np.add(out, self._eps, out)
        np.divide(g, out, out)
        return np.multiply(out, self._minus_lr, out)


class Adam(Optimizer):
    name = "adam"
    state_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, config, n_params):
        super().__init__(config, n_params)
        self.beta1, self.beta2, self.eps = config.beta1, config.beta2, config.eps
        self._beta1, self._one_minus_beta1 = scalar(self.beta1), scalar(1.0 - self.beta1)
        self._beta2, self._one_minus_beta2 = scalar(self.beta2), scalar(1.0 - self.beta2)
        self._eps = scalar(self.eps)
        self._scratch = np.zeros(n_params)

    def step(self, g, out):
        self.step_count += 1
        t = self.step_count
        m, v, tmp = self.state["exp_avg"], self.state["exp_avg_sq"], self._scratch
        np.multiply(m, self._beta1, m)        # m = β1 m + (1 - β1) g
        np.multiply(g, self._one_minus_beta1, tmp)
        np.add(m, tmp, m)
        np.multiply(v, self._beta2, v)        # v = β2 v + (1 - β2) g²
        np.multiply(g, g, tmp)
        np.multiply(tmp, self._one_minus_beta2, tmp)
        np.add(v, tmp, v)
        # step = -lr · m̂ / (√v̂ + ε), with m̂ = m / (1 - β1^t), v̂ = v / (1 - β2^t),
        # in torch's order: √v / √(1 - β2^t) + ε, then m over that, times -lr / (1 - β1^t).
        # (np.float64: the factors change every step, so caching them as 0-d arrays would not pay)
        np.sqrt(v, tmp)
        np.multiply(tmp, np.float64(1.0 / (1.0 - self.beta2 ** t) ** 0.5), tmp)
        np.add(tmp, self._eps, tmp)
        np.divide(m, tmp, out)
        return np.multiply(out, np.float64(-self.learning_rate / (1.0 - self.beta1 ** t)), out)

    def bias_corrected(self) -> dict[str, np.ndarray]:
        """m̂ and v̂ as used by the last step (zeros before the first)."""
        t = max(self.step_count, 1)
        return {"exp_avg_hat": self.state["exp_avg"] / (1.0 - self.beta1 ** t),
                "exp_avg_sq_hat": self.state["exp_avg_sq"] / (1.0 - self.beta2 ** t)}


OPTIMIZERS: dict[str, type[Optimizer]] = {o.name: o for o in (SGD, Momentum, RMSprop, Adam)}


def make_optimizer(config: OptimizerConfig, n_params: int) -> Optimizer:
    return OPTIMIZERS[config.name](config, n_params)
