"""Analytic gradients against central differences computed here, independently of the engine.

The reference below re-implements the forward pass, the losses and the regularization
terms in plain NumPy from DESIGN.md's conventions (mse and bce the mean over samples and
outputs, cross_entropy the mean over samples, leaky_relu slope 0.01, L2 (r/2)·ΣW², L1
r·Σ|W|). Its derivative is a fourth-order central difference, so float64 agrees with an
exact backward pass to ~1e-11: any mistake in a derivative, a factor of N or K, a missing
regularization term or a bias that is regularized shows far above that.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine_helpers import HIDDEN, OUTPUTS, network_shapes
from engine import Config, Session
from engine.activations import Activation
from engine.losses import Loss

REGULARIZATION = (("none", 0.0), ("l1", 0.05), ("l2", 0.05))
H = 1e-5           # step of the reference's central difference
KINK_MARGIN = 1e-3  # relu / leaky_relu pre-activations (and L1's weights) stay this far from 0
RTOL, ATOL = 1e-8, 1e-10


# ---- the independent reference -----------------------------------------------------------

def act(name: str, z: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    if name == "linear":
        return z.copy()
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise AssertionError(name)


def forward(Ws, bs, X, hidden, output):
    """(zs, as) of every layer, input first; zs[0] is None."""
    zs, As = [None], [X]
    for l, (W, b) in enumerate(zip(Ws, bs)):
        z = As[-1] @ W + b
        zs.append(z)
        As.append(act(output if l == len(Ws) - 1 else hidden, z))
    return zs, As


def total_loss(Ws, bs, X, T, hidden, output, loss, reg, rate):
    zs, As = forward(Ws, bs, X, hidden, output)
    y_hat = As[-1]
    if loss == "mse":
        data = np.mean((y_hat - T) ** 2)
    elif loss == "bce":   # from z: log σ(z) = -log(1 + e^-z), log(1 - σ(z)) = -log(1 + e^z)
        z = zs[-1]
        data = np.mean(T * np.logaddexp(0, -z) + (1 - T) * np.logaddexp(0, z))
    else:
        z = zs[-1]
        m = z.max(axis=1, keepdims=True)
        log_softmax = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
        data = -np.mean(np.sum(T * log_softmax, axis=1))
    if reg == "l2":
        data += rate / 2 * sum(np.sum(W ** 2) for W in Ws)
    elif reg == "l1":
        data += rate * sum(np.sum(np.abs(W)) for W in Ws)
    return data


def numerical_gradient(Ws, bs, f):
    """Fourth-order central differences of f(Ws, bs) for every weight and bias."""
    Ws = [W.copy() for W in Ws]
    bs = [b.copy() for b in bs]
    grads = []
    for p in Ws + bs:
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            x = p[idx]
            values = []
            for k in (2, 1, -1, -2):
                p[idx] = x + k * H
                values.append(f(Ws, bs))
            p[idx] = x
            g[idx] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * H)
        grads.append(g)
    return grads[:len(Ws)], grads[len(Ws):]


def kink_margin(Ws, bs, X, hidden, output):
    """The smallest |z| where a relu-like unit has its kink (inf if none)."""
    zs, _ = forward(Ws, bs, X, hidden, output)
    L = len(Ws)
    margins = [np.abs(zs[l]).min() for l in range(1, L + 1)
               if (output if l == L else hidden) in ("relu", "leaky_relu")]
    return min(margins, default=np.inf)


# ---- building sessions on data and parameters chosen here -----------------------------------

def targets_for(loss: str, output: str, n: int, K: int, rng):
    """(y for the config, T the reference's encoded targets)."""
    if loss == "cross_entropy":
        labels = rng.permutation(np.arange(n) % K)
        return labels.tolist(), np.eye(K)[labels]
    if loss == "bce":   # one output, or one per class (one-hot targets)
        labels = rng.permutation(np.arange(n) % 2)
        return labels.tolist(), (labels[:, None].astype(float) if K == 1 else np.eye(2)[labels])
    lo, hi = {"sigmoid": (0.1, 0.9), "relu": (0.0, 1.0)}.get(output, (-1.0, 1.0))
    y = rng.uniform(lo, hi, (n, K))
    return y.tolist(), y


def random_parameters(layers, rng):
    """Weights of magnitude 0.3..1 (never near L1's kink at 0), biases in ±0.5."""
    Ws = [rng.uniform(0.3, 1.0, (m, n)) * rng.choice([-1.0, 1.0], (m, n))
          for m, n in zip(layers, layers[1:])]
    bs = [rng.uniform(-0.5, 0.5, n) for n in layers[1:]]
    return Ws, bs


def build(layers, hidden, output, loss, reg=("none", 0.0), n=7, batch_size=None,
          optimizer=None, seed=0):
    """A session on custom data with random parameters set through set_network, chosen so
    that no relu-like unit sits near its kink. Returns (session, X, T, Ws, bs)."""
    K = layers[-1]
    for attempt in range(200):
        rng = np.random.default_rng(1000 * seed + attempt)
        X = rng.uniform(-1.0, 1.0, (n, layers[0]))
        y, T = targets_for(loss, output, n, K, rng)
        Ws, bs = random_parameters(layers, rng)
        if kink_margin(Ws, bs, X, hidden, output) > KINK_MARGIN:
            break
    else:
        raise AssertionError("no parameters away from the kink")
    config = Config.from_dict({
        "data": {"name": "custom", "X": X.tolist(), "y": y, "test_fraction": 0.0},
        "network": {"layers": list(layers), "activation": hidden, "output_activation": output},
        "loss": loss,
        "optimizer": optimizer or {"name": "sgd", "learning_rate": 0.1},
        "batch_size": batch_size or n,
        "regularization": {"kind": reg[0], "rate": reg[1]},
        "seed": seed,
    })
    session = Session(config)
    session.set_network([W.tolist() for W in Ws], [b.tolist() for b in bs])
    return session, X, T, Ws, bs


def engine_gradient(session):
    """The gradient the engine follows: backward's grad_W + grad_W_reg, and grad_b."""
    session.forward()
    session.loss()
    back = session.backward()
    reg = back.grad_W_reg or [0.0] * len(back.grad_W)
    return [g + r for g, r in zip(back.grad_W, reg)], back.grad_b, back


def assert_gradients_match(session, X, T, hidden, output, loss, reg):
    net = session.network
    Ws, bs = [W.copy() for W in net.W], [b.copy() for b in net.b]
    batch = session.current_batch()
    Xb, Tb = X[batch], T[batch]
    assert kink_margin(Ws, bs, Xb, hidden, output) > KINK_MARGIN   # the check below is fair

    def f(W_, b_):
        return total_loss(W_, b_, Xb, Tb, hidden, output, loss, *reg)

    num_W, num_b = numerical_gradient(Ws, bs, f)
    grad_W, grad_b, back = engine_gradient(session)
    atol = ATOL * max(1.0, abs(f(Ws, bs)))   # the difference quotient's rounding grows with the loss
    for l in range(len(Ws)):
        np.testing.assert_allclose(grad_W[l], num_W[l], rtol=RTOL, atol=atol, err_msg=f"W[{l}]")
        np.testing.assert_allclose(grad_b[l], num_b[l], rtol=RTOL, atol=atol, err_msg=f"b[{l}]")
    return grad_W, grad_b, back


# ---- every path ------------------------------------------------------------------------------

PATHS = list(itertools.product(HIDDEN, OUTPUTS, REGULARIZATION))


@pytest.mark.parametrize("hidden,output_loss,reg", PATHS,
                         ids=[f"{h}-{o}-{l}-{r[0]}" for h, (o, l), r in PATHS])
def test_backward_matches_central_differences(hidden, output_loss, reg):
    output, loss = output_loss
    K = 3 if loss == "cross_entropy" else 2       # bce with two outputs: the mean is over outputs too
    layers = [3, 5, 4, K]
    session, X, T, Ws, bs = build(layers, hidden, output, loss, reg)

    # the loss phase's numbers against the reference, too
    ref_data = total_loss(Ws, bs, X, T, hidden, output, loss, "none", 0.0)
    grad_W, grad_b, back = assert_gradients_match(session, X, T, hidden, output, loss, reg)
    trace = session.trace()
    assert trace.loss.loss == pytest.approx(ref_data, rel=1e-12)
    ref_reg = total_loss(Ws, bs, X, T, hidden, output, loss, *reg) - ref_data
    assert trace.loss.regularization_loss == pytest.approx(ref_reg, rel=1e-9, abs=1e-15)
    assert (back.grad_W_reg is None) == (reg[0] == "none")

    # the engine's own gradient check agrees on the same batch, and reports the same analytic gradient
    check = session.gradcheck()
    assert check.max_relative_error < 1e-5
    assert check.batch.tolist() == back_batch(session)
    for l in range(len(layers) - 1):
        np.testing.assert_allclose(check.analytic_W[l], grad_W[l], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(check.analytic_b[l], grad_b[l], rtol=1e-12, atol=1e-15)


def back_batch(session):
    return session.trace().forward.batch.tolist()


@pytest.mark.parametrize("optimizer", [
    {"name": "sgd", "learning_rate": 0.1},
    {"name": "momentum", "learning_rate": 0.1},
    {"name": "momentum", "learning_rate": 0.1, "nesterov": True},
    {"name": "rmsprop", "learning_rate": 0.01},
    {"name": "adam", "learning_rate": 0.01},
], ids=["sgd", "momentum", "nesterov", "rmsprop", "adam"])
@pytest.mark.parametrize("reg", REGULARIZATION, ids=[r[0] for r in REGULARIZATION])
@pytest.mark.parametrize("hidden,output,loss", [
    ("tanh", "sigmoid", "bce"), ("leaky_relu", "softmax", "cross_entropy"), ("sigmoid", "linear", "mse"),
])
def test_gradients_stay_exact_as_each_optimizer_trains(optimizer, reg, hidden, output, loss):
    """After several updates by each optimizer (small batches, crossing an epoch), the
    gradient at the new parameters still matches central differences."""
    K = 3 if loss == "cross_entropy" else 1
    session, X, T, _, _ = build([2, 4, K], hidden, output, loss, reg, n=9, batch_size=4,
                                optimizer=optimizer)
    session.train(iterations=4)
    assert session.epoch == 1 and session.current_batch().size == 4
    assert_gradients_match(session, X, T, hidden, output, loss, reg)


def test_the_last_smaller_batch_gets_the_mean_over_its_own_size():
    session, X, T, _, _ = build([2, 3, 1], "tanh", "linear", "mse", n=7, batch_size=3)
    session.train(iterations=2)
    assert len(session.current_batch()) == 1            # 7 = 3 + 3 + 1
    assert_gradients_match(session, X, T, "tanh", "linear", "mse", ("none", 0.0))


# ---- the gradient check catches a wrong derivative ---------------------------------------------

class WrongDerivative(Activation):
    """An activation whose f is right and whose df is 1.5 times too large."""

    def __init__(self, inner):
        self.inner, self.name, self.low, self.high = inner, inner.name, inner.low, inner.high

    def f_calls(self, z, out):
        return self.inner.f_calls(z, out)

    def df_calls(self, z, a, out):
        return [*self.inner.df_calls(z, a, out), (np.multiply, (out, 1.5, out))]


@pytest.mark.parametrize("hidden", HIDDEN)
def test_gradcheck_flags_a_broken_hidden_derivative(hidden):
    session, *_ = build([3, 5, 4, 1], hidden, "sigmoid", "bce")
    assert session.gradcheck().max_relative_error < 1e-5
    broken = WrongDerivative(session.network.activations[1])   # the hidden layers share one activation
    session.network.activations[1:3] = [broken, broken]
    check = session.gradcheck()
    assert check.max_relative_error > 0.2
    # the error sits where the broken derivative is used, once per hidden layer passed through:
    # not in W[2], 1.5 times in W[1] (through f'(z[2])), 1.5² in W[0] (f'(z[2]) and f'(z[1]))
    assert np.max(check.relative_error_W[2]) < 1e-5
    np.testing.assert_allclose(check.analytic_W[1], 1.5 * check.numerical_W[1], rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(check.analytic_W[0], 2.25 * check.numerical_W[0], rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("output", ["sigmoid", "tanh", "linear", "relu", "leaky_relu"])
def test_gradcheck_flags_a_broken_output_derivative(output):
    session, *_ = build([2, 3, 2], "tanh", output, "mse")
    session.network.activations[-1] = WrongDerivative(session.network.activations[-1])
    check = session.gradcheck()
    assert check.max_relative_error > 0.2
    assert np.max(check.relative_error_W[1]) > 0.2


def test_gradcheck_flags_a_wrong_loss_derivative(monkeypatch):
    session, *_ = build([2, 3, 1], "tanh", "sigmoid", "mse")   # mse: delta[L] goes through ∂L/∂ŷ
    real = session.loss_fn.d_loss_d_output
    monkeypatch.setattr(session, "loss_fn", _Scaled(session.loss_fn, real))
    assert session.gradcheck().max_relative_error > 0.2


class _Scaled(Loss):
    def __init__(self, loss, real):
        self.name, self._loss, self._real = loss.name, loss, real
        self.combined_with = loss.combined_with

    def sample_loss_calls(self, *args):
        return self._loss.sample_loss_calls(*args)

    def d_loss_calls(self, y_hat, y, out):
        return [(self._real, (y_hat, y, out)), (np.multiply, (out, 2.0, out))]


# ---- property: random shapes, batch sizes and activations ---------------------------------------

@st.composite
def networks(draw):
    layers, hidden, output, loss = draw(network_shapes(max_classes=4))
    n = draw(st.integers(max(2, layers[-1]), 10))
    batch_size = draw(st.integers(1, n))
    reg = draw(st.sampled_from(REGULARIZATION))
    seed = draw(st.integers(0, 2**16))
    return layers, hidden, output, loss, reg, n, batch_size, seed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_property_gradients_match_central_differences(spec):
    layers, hidden, output, loss, reg, n, batch_size, seed = spec
    session, X, T, _, _ = build(layers, hidden, output, loss, reg, n=n, batch_size=batch_size, seed=seed)
    net = session.network
    batch = session.current_batch()
    assume(kink_margin(net.W, net.b, X[batch], hidden, output) > KINK_MARGIN)
    assert_gradients_match(session, X, T, hidden, output, loss, reg)


@pytest.mark.parametrize("z", [30.0, 40.0, 200.0])
def test_bce_gradient_at_a_saturated_sigmoid(z):
    # one sample, one weight: z = w·x with x = 1, target 0; true loss log(1 + e^z), ∂L/∂w = σ(z)
    session = Session(Config.from_dict({
        "data": {"name": "custom", "X": [[1.0], [-1.0]], "y": [0, 1], "test_fraction": 0.0},
        "network": {"layers": [1, 1], "output_activation": "sigmoid", "init": "explicit",
                    "W": [[[z]]], "b": [[0.0]]},
        "loss": "bce", "batch_size": 2}))
    session.forward()
    loss = session.loss()
    grad = session.backward().grad_W[0][0, 0]
    # both rows are confidently wrong: each loses log(1 + e^z) ≈ z, and ∂L/∂w = (σ(z)·1 + (σ(-z) - 1)·(-1))/2
    assert loss.loss == pytest.approx(np.logaddexp(0, z), rel=1e-12)
    assert grad == pytest.approx(1.0 / (1.0 + np.exp(-z)), rel=1e-12)
