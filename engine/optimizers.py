"""Optimizers: how the update step turns the gradient g into a step added to the parameters.

All work on the flat parameter vector (every W and b side by side), so one step is a
handful of NumPy calls whatever the network's shape. Equations and defaults are
torch.optim's (SGD with momentum/nesterov and dampening 0, RMSprop, Adam), so runs can be
checked against PyTorch. `state` holds each optimizer's buffers by torch's names.
"""
from __future__ import annotations

import numpy as np

from .config import OptimizerConfig


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
        self._minus_lr = np.array(-self.learning_rate)   # 0-d: no conversion on every step

    def step(self, g, out):                  # step = -lr · g
        self.step_count += 1
        return np.multiply(g, self._minus_lr, out=out)


class Momentum(Optimizer):
    name = "momentum"
    state_names = ("momentum_buffer",)

    def __init__(self, config, n_params):
        super().__init__(config, n_params)
        self.momentum = config.momentum
        self.nesterov = config.nesterov

    def step(self, g, out):
        self.step_count += 1
        v = self.state["momentum_buffer"]
        np.multiply(v, self.momentum, out=v)  # v = μ v + g
        np.add(v, g, out=v)
        if self.nesterov:                     # step = -lr · (g + μ v)
            np.multiply(v, self.momentum, out=out)
            np.add(out, g, out=out)
            return np.multiply(out, -self.learning_rate, out=out)
        return np.multiply(v, -self.learning_rate, out=out)   # step = -lr · v


class RMSprop(Optimizer):
    name = "rmsprop"
    state_names = ("square_avg",)

    def __init__(self, config, n_params):
        super().__init__(config, n_params)
        self.alpha = config.alpha
        self.eps = config.eps

    def step(self, g, out):
        self.step_count += 1
        s = self.state["square_avg"]
        np.multiply(s, self.alpha, out=s)     # s = α s + (1 - α) g²
        np.multiply(g, g, out=out)
        np.multiply(out, 1.0 - self.alpha, out=out)
        np.add(s, out, out=s)
        np.sqrt(s, out=out)                   # step = -lr · g / (√s + ε)
        np.add(out, self.eps, out=out)
        np.divide(g, out, out=out)
        return np.multiply(out, -self.learning_rate, out=out)


class Adam(Optimizer):
    name = "adam"
    state_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, config, n_params):
        super().__init__(config, n_params)
        self.beta1, self.beta2, self.eps = config.beta1, config.beta2, config.eps
        self._scratch = np.zeros(n_params)

    def step(self, g, out):
        self.step_count += 1
        t = self.step_count
        m, v, tmp = self.state["exp_avg"], self.state["exp_avg_sq"], self._scratch
        np.multiply(m, self.beta1, out=m)     # m = β1 m + (1 - β1) g
        np.multiply(g, 1.0 - self.beta1, out=tmp)
        np.add(m, tmp, out=m)
        np.multiply(v, self.beta2, out=v)     # v = β2 v + (1 - β2) g²
        np.multiply(g, g, out=tmp)
        np.multiply(tmp, 1.0 - self.beta2, out=tmp)
        np.add(v, tmp, out=v)
        # step = -lr · m̂ / (√v̂ + ε), with m̂ = m / (1 - β1^t), v̂ = v / (1 - β2^t),
        # in torch's order: √v / √(1 - β2^t) + ε, then m over that, times -lr / (1 - β1^t).
        np.sqrt(v, out=tmp)
        np.multiply(tmp, 1.0 / (1.0 - self.beta2 ** t) ** 0.5, out=tmp)
        np.add(tmp, self.eps, out=tmp)
        np.divide(m, tmp, out=out)
        return np.multiply(out, -self.learning_rate / (1.0 - self.beta1 ** t), out=out)

    def bias_corrected(self) -> dict[str, np.ndarray]:
        """m̂ and v̂ as used by the last step (zeros before the first)."""
        t = max(self.step_count, 1)
        return {"exp_avg_hat": self.state["exp_avg"] / (1.0 - self.beta1 ** t),
                "exp_avg_sq_hat": self.state["exp_avg_sq"] / (1.0 - self.beta2 ** t)}


OPTIMIZERS: dict[str, type[Optimizer]] = {o.name: o for o in (SGD, Momentum, RMSprop, Adam)}


def make_optimizer(config: OptimizerConfig, n_params: int) -> Optimizer:
    return OPTIMIZERS[config.name](config, n_params)
