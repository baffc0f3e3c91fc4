"""The update phase follows torch.optim's equations, re-implemented here from the gradients
the backward phase reports, over several iterations (so the state carries over), and
regularization enters the gradient as DESIGN.md says: L2 adds r·W, L1 r·sign(W), never to
biases.

torch.optim (dampening 0, weight_decay 0), with g the gradient and t the step count:
  SGD       p ← p - lr·g
  momentum  v ← μ·v + g (v = g at t = 1);  p ← p - lr·v;  Nesterov: p ← p - lr·(g + μ·v)
  RMSprop   s ← α·s + (1-α)·g²;  p ← p - lr·g / (√s + ε)
  Adam      m ← β1·m + (1-β1)·g;  v ← β2·v + (1-β2)·g²;  m̂ = m/(1-β1^t), v̂ = v/(1-β2^t);
            p ← p - lr·m̂ / (√v̂ + ε)
"""
from __future__ import annotations

import numpy as np
import pytest

from engine import Config, Session

TOL = dict(rtol=1e-12, atol=1e-15)


def session(optimizer: dict, reg=("none", 0.0), **overrides) -> Session:
    config = {
        "data": {"name": "moons", "samples": 40, "noise": 0.1, "test_fraction": 0.25, "seed": 3},
        "network": {"layers": [2, 5, 3, 1], "activation": "tanh", "output_activation": "sigmoid"},
        "loss": "bce",
        "optimizer": optimizer,
        "batch_size": 8,
        "regularization": {"kind": reg[0], "rate": reg[1]},
        "seed": 7,
    }
    config.update(overrides)
    return Session(Config.from_dict(config))


class Textbook:
    """The torch.optim equations, per parameter array, in plain NumPy."""

    def __init__(self, name, lr, momentum=0.9, nesterov=False, alpha=0.99, beta1=0.9, beta2=0.999,
                 eps=1e-8):
        self.name, self.lr, self.mu, self.nesterov = name, lr, momentum, nesterov
        self.alpha, self.beta1, self.beta2, self.eps = alpha, beta1, beta2, eps
        self.t = 0
        self.buffers: dict[tuple, np.ndarray] = {}

    def buf(self, kind, key, like):
        return self.buffers.setdefault((kind, key), np.zeros_like(like))

    def step(self, key, g):
        """The step to add to the parameter `key` (called once per array per iteration)."""
        if self.name == "sgd":
            return -self.lr * g
        if self.name == "momentum":
            v = self.buffers[("momentum_buffer", key)] = (
                g.copy() if self.t == 1 else self.mu * self.buffers[("momentum_buffer", key)] + g)
            return -self.lr * (g + self.mu * v) if self.nesterov else -self.lr * v
        if self.name == "rmsprop":
            s = self.buffers[("square_avg", key)] = (
                self.alpha * self.buf("square_avg", key, g) + (1 - self.alpha) * g * g)
            return -self.lr * g / (np.sqrt(s) + self.eps)
        if self.name == "adam":
            m = self.buffers[("exp_avg", key)] = (
                self.beta1 * self.buf("exp_avg", key, g) + (1 - self.beta1) * g)
            v = self.buffers[("exp_avg_sq", key)] = (
                self.beta2 * self.buf("exp_avg_sq", key, g) + (1 - self.beta2) * g * g)
            m_hat, v_hat = m / (1 - self.beta1 ** self.t), v / (1 - self.beta2 ** self.t)
            return -self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        raise AssertionError(self.name)


OPTIMIZERS = [
    ({"name": "sgd", "learning_rate": 0.5}, {}),
    ({"name": "momentum", "learning_rate": 0.1}, {}),                       # μ 0.9 by default
    ({"name": "momentum", "learning_rate": 0.1, "nesterov": True}, {}),
    ({"name": "momentum", "learning_rate": 0.2, "momentum": 0.5}, {"momentum": 0.5}),
    ({"name": "momentum", "learning_rate": 0.2, "momentum": 0.3, "nesterov": True},
     {"momentum": 0.3, "nesterov": True}),
    ({"name": "rmsprop", "learning_rate": 0.01}, {}),                       # α 0.99, ε 1e-8
    ({"name": "rmsprop", "learning_rate": 0.01, "alpha": 0.9, "eps": 1e-6}, {"alpha": 0.9, "eps": 1e-6}),
    ({"name": "adam", "learning_rate": 0.01}, {}),                          # β 0.9/0.999, ε 1e-8
    ({"name": "adam", "learning_rate": 0.02, "beta1": 0.5, "beta2": 0.9, "eps": 1e-4},
     {"beta1": 0.5, "beta2": 0.9, "eps": 1e-4}),
]
STATE_NAMES = {"sgd": [], "momentum": ["momentum_buffer"], "rmsprop": ["square_avg"],
               "adam": ["exp_avg", "exp_avg_sq"]}


@pytest.mark.parametrize("reg", [("none", 0.0), ("l2", 0.01), ("l1", 0.01)], ids=["none", "l2", "l1"])
@pytest.mark.parametrize("optimizer,extra", OPTIMIZERS,
                         ids=["sgd", "momentum", "nesterov", "momentum-0.5", "nesterov-0.3", "rmsprop",
                              "rmsprop-custom", "adam", "adam-custom"])
def test_update_follows_torch_equations(optimizer, extra, reg):
    s = session(optimizer, reg)
    rate = reg[1]
    book = Textbook(optimizer["name"], optimizer["learning_rate"], nesterov=optimizer.get("nesterov", False),
                    **{k: v for k, v in extra.items() if k != "nesterov"})
    n_iterations = 12   # 40·0.75 = 30 training rows in batches of 8: crosses epoch boundaries
    for it in range(n_iterations):
        book.t += 1
        s.forward()
        loss = s.loss()
        back = s.backward()
        W_old = [W.copy() for W in s.network.W]
        b_old = [b.copy() for b in s.network.b]

        # regularization: its own gradient, on weights only, as DESIGN.md says
        if reg[0] == "none":
            assert back.grad_W_reg is None and loss.regularization_loss == 0.0
            reg_W = [np.zeros_like(W) for W in W_old]
        else:
            expected = [rate * W if reg[0] == "l2" else rate * np.sign(W) for W in W_old]
            for got, want in zip(back.grad_W_reg, expected):
                np.testing.assert_array_equal(got, want)
            reg_W = back.grad_W_reg
            penalty = (rate / 2 * sum(np.sum(W * W) for W in W_old) if reg[0] == "l2"
                       else rate * sum(np.sum(np.abs(W)) for W in W_old))
            assert loss.regularization_loss == pytest.approx(penalty, rel=1e-12)

        update = s.update()
        for l in range(len(W_old)):
            step_W = book.step(("W", l), back.grad_W[l] + reg_W[l])
            step_b = book.step(("b", l), back.grad_b[l])          # biases: data gradient only
            np.testing.assert_allclose(update.step_W[l], step_W, **TOL, err_msg=f"step_W[{l}] at {it}")
            np.testing.assert_allclose(update.step_b[l], step_b, **TOL, err_msg=f"step_b[{l}] at {it}")
            # the new value is the old one plus exactly the reported step
            np.testing.assert_array_equal(update.W[l], W_old[l] + update.step_W[l])
            np.testing.assert_array_equal(update.b[l], b_old[l] + update.step_b[l])
            np.testing.assert_array_equal(update.W[l], s.network.W[l])

        state = update.optimizer_state
        names = STATE_NAMES[optimizer["name"]]
        if names:
            assert state["step"] == it + 1
        else:
            assert "step" not in state or state["step"] == it + 1
        for name in names:
            for l in range(len(W_old)):
                np.testing.assert_allclose(state[f"{name}_W"][l], book.buffers[(name, ("W", l))], **TOL)
                np.testing.assert_allclose(state[f"{name}_b"][l], book.buffers[(name, ("b", l))], **TOL)
        if optimizer["name"] == "adam":   # the bias-corrected moments the step used
            for l in range(len(W_old)):
                m = book.buffers[("exp_avg", ("W", l))]
                v = book.buffers[("exp_avg_sq", ("W", l))]
                np.testing.assert_allclose(state["exp_avg_hat_W"][l], m / (1 - book.beta1 ** book.t), **TOL)
                np.testing.assert_allclose(state["exp_avg_sq_hat_W"][l], v / (1 - book.beta2 ** book.t), **TOL)
    assert s.iteration == n_iterations and s.epoch == 3


def test_defaults_are_torchs():
    c = Config.from_dict({"optimizer": {"name": "momentum"}}).optimizer
    assert (c.momentum, c.nesterov) == (0.9, False)
    c = Config.from_dict({"optimizer": {"name": "rmsprop"}}).optimizer
    assert (c.alpha, c.eps) == (0.99, 1e-8)
    c = Config.from_dict({"optimizer": {"name": "adam"}}).optimizer
    assert (c.beta1, c.beta2, c.eps) == (0.9, 0.999, 1e-8)


def test_first_adam_step_is_learning_rate_times_sign_of_gradient():
    """With bias correction, Adam's first step is -lr·g/(|g| + ε) ≈ -lr·sign(g): a classic check
    that fails if the correction is missing (the step would be ~lr·0.1/√0.001 ≈ 3.2·lr)."""
    s = session({"name": "adam", "learning_rate": 0.01})
    s.forward()
    s.loss()
    g = s.backward().grad_W[0]
    step = s.update().step_W[0]
    np.testing.assert_allclose(step, -0.01 * g / (np.abs(g) + 1e-8), rtol=1e-12, atol=1e-18)
    assert np.all(np.abs(np.abs(step[np.abs(g) > 1e-4]) - 0.01) < 1e-6)


def test_sgd_has_no_state_and_momentum_state_starts_at_zero():
    s = session({"name": "sgd", "learning_rate": 0.1})
    assert s.optimizer_state() == {}
    m = session({"name": "momentum", "learning_rate": 0.1})
    state = m.optimizer_state()
    assert state["step"] == 0
    assert all(np.all(v == 0) for v in state["momentum_buffer_W"] + state["momentum_buffer_b"])
    assert [v.shape for v in state["momentum_buffer_W"]] == [W.shape for W in m.network.W]
    assert [v.shape for v in state["momentum_buffer_b"]] == [b.shape for b in m.network.b]


@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_regularization_never_touches_biases(kind):
    """With a huge rate, weights shrink towards 0 while biases move by their data gradient alone."""
    s = session({"name": "sgd", "learning_rate": 0.1}, (kind, 5.0))
    s.forward()
    s.loss()
    back = s.backward()
    b_old = [b.copy() for b in s.network.b]
    update = s.update()
    for l in range(len(b_old)):
        np.testing.assert_array_equal(update.step_b[l], -0.1 * back.grad_b[l])
        np.testing.assert_array_equal(update.b[l], b_old[l] - 0.1 * back.grad_b[l])
    assert all(r.shape == W.shape for r, W in zip(back.grad_W_reg, s.network.W))


def test_regularization_of_rate_zero_is_none():
    s = session({"name": "sgd", "learning_rate": 0.1}, ("l2", 0.0))
    t = session({"name": "sgd", "learning_rate": 0.1})
    s.forward(), t.forward()
    assert s.loss().regularization_loss == 0.0
    t.loss()
    assert s.backward().grad_W_reg is None
    t.backward()
    for a, b in zip(s.update().W, t.update().W):
        np.testing.assert_array_equal(a, b)
