"""Properties over random networks, batch sizes, activations, losses and optimizers:
every array has DESIGN.md's shape ([layer][sample][neuron]; W[l] (n_l, n_{l+1})), losses are
finite and ≥ 0, an epoch covers the training rows once, and rewind then re-step is
bit-identical. (Gradients against central differences over the same space are in
test_engine_gradients.py.)"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine_helpers import network_shapes
from engine import PHASES, Config, Session

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")


@st.composite
def configs(draw):
    layers, hidden, output, loss = draw(network_shapes(max_classes=5))
    K = layers[-1]
    n = draw(st.integers(max(2, K), 16))
    batch_size = draw(st.integers(1, n))
    seed = draw(st.integers(0, 2**32))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, layers[0]))
    if loss == "mse":
        y = rng.uniform(0.0, 1.0, (n, K)).tolist()
    else:
        y = rng.permutation(np.arange(n) % max(K, 2)).tolist()
    optimizer = draw(st.sampled_from(OPTIMIZERS))
    reg = draw(st.sampled_from(["none", "l1", "l2"]))
    config = Config.from_dict({
        "data": {"name": "custom", "X": X.tolist(), "y": y, "test_fraction": 0.0},
        "network": {"layers": layers, "activation": hidden, "output_activation": output,
                    "init": draw(st.sampled_from(["xavier_uniform", "xavier_normal", "he", "uniform"]))},
        "loss": loss,
        "optimizer": {"name": optimizer, "learning_rate": 0.05},
        "batch_size": batch_size,
        "regularization": {"kind": reg, "rate": 0.0 if reg == "none" else 0.01},
        "seed": draw(st.integers(0, 2**63 - 1)),
    })
    return config


def check_shapes(s: Session, results, N: int):
    layers, L = s.network.layers, len(s.network.layers) - 1
    K = layers[-1]
    f, lo, b, u = results
    assert f.batch.shape == (N,) and f.batch.dtype.kind == "i"
    assert len(f.z) == len(f.a) == L + 1 and f.z[0] is None
    for l in range(L + 1):
        assert f.a[l].shape == (N, layers[l]) and f.a[l].dtype == np.float64
        if l:
            assert f.z[l].shape == (N, layers[l])
    assert lo.sample_losses.shape == (N,)
    assert lo.d_loss_d_output.shape == lo.targets.shape == (N, K)
    assert len(b.delta) == L + 1 and b.delta[0] is None
    for l in range(1, L + 1):
        assert b.delta[l].shape == (N, layers[l])
    shapes_W = [(layers[l], layers[l + 1]) for l in range(L)]
    shapes_b = [(layers[l + 1],) for l in range(L)]
    for name, arrays, shapes in (("grad_W", b.grad_W, shapes_W), ("grad_b", b.grad_b, shapes_b),
                                 ("W", u.W, shapes_W), ("b", u.b, shapes_b),
                                 ("step_W", u.step_W, shapes_W), ("step_b", u.step_b, shapes_b)):
        assert [x.shape for x in arrays] == shapes, name
    if b.grad_W_reg is not None:
        assert [x.shape for x in b.grad_W_reg] == shapes_W
    for key, arrays in u.optimizer_state.items():
        if key != "step":
            assert [x.shape for x in arrays] == (shapes_W if key.endswith("_W") else shapes_b), key


@settings(max_examples=40, deadline=None)
@given(configs())
def test_shapes_losses_and_epochs(config):
    s = Session(config)
    n_train, B = len(s.dataset.X_train), s.config.batch_size
    seen = []
    for i in range(s.batches_per_epoch):
        results = []
        for p in PHASES:
            results.append(s.run_phase(p))
            assume(s.status == "ok")      # unnormalised data can make a deep linear net diverge
        N = len(results[0].batch)
        assert N == (B if i < s.batches_per_epoch - 1 else n_train - B * (s.batches_per_epoch - 1))
        check_shapes(s, results, N)
        loss = results[1]
        assert np.isfinite(loss.loss) and loss.loss >= 0.0
        assert np.all(loss.sample_losses >= 0.0)
        assert loss.loss == pytest.approx(float(np.sum(loss.sample_losses)) / N, rel=1e-14)
        assert loss.regularization_loss >= 0.0
        seen += results[0].batch.tolist()
    assert sorted(seen) == list(range(n_train)) and s.epoch == 1 and s.batch_pos == 0
    m = s.metrics()
    assume(np.isfinite(m.train_loss))   # weights grown huge (still finite) can overflow on all rows at once
    assert m.train_loss >= 0.0
    if s.task == "classification":
        assert 0.0 <= m.train_accuracy <= 1.0
    p = s.predict(s.dataset.X_train[:3])
    assert p.outputs.shape == (min(3, n_train), s.network.layers[-1])


@settings(max_examples=30, deadline=None)
@given(configs(), st.integers(1, 12), st.data())
def test_rewind_then_restep_is_bit_identical(config, n, data):
    s = Session(config)
    assume(s.train(iterations=n).stopped_by is None)
    back = data.draw(st.integers(0, n))
    phase = data.draw(st.sampled_from([None, *PHASES[:3]]))
    recorded, params = [], []
    s.rewind(back)
    start = s.iteration
    for _ in range(back):                 # the iterations that ran before, again
        recorded.append([s.run_phase(p) for p in PHASES])
        params.append(s.network.params.copy())
    if phase is not None:                 # and part of the next one, to be dropped by the rewind
        for p in PHASES[:PHASES.index(phase) + 1]:
            if s.status == "ok":
                s.run_phase(p)
    s.rewind(s.iteration - start)
    assert s.iteration == start and s.phase is None
    for results, expected in zip(recorded, params):
        again = [s.run_phase(p) for p in PHASES]
        for a, b in zip(again, results):
            for field in a.__dataclass_fields__:
                x, y = getattr(a, field), getattr(b, field)
                if isinstance(x, list):
                    assert len(x) == len(y)
                    for u, v in zip(x, y):
                        assert (u is None and v is None) or np.array_equal(u, v)
                elif isinstance(x, dict):
                    assert x.keys() == y.keys()
                    for k in x:
                        assert x[k] == y[k] if k == "step" else all(map(np.array_equal, x[k], y[k]))
                else:
                    assert np.array_equal(x, y)
        np.testing.assert_array_equal(s.network.params, expected)


@settings(max_examples=30, deadline=None)
@given(configs(), st.integers(1, 10))
def test_train_equals_stepping(config, n):
    s, twin = Session(config), Session(config)
    result = s.train(iterations=n)
    for _ in range(n):
        for p in PHASES:
            twin.run_phase(p)
            if twin.status != "ok":
                break
        if twin.status != "ok":
            break
    # the same numbers, and a divergence (unnormalised data, deep linear nets) at the same place
    assert (result.stopped_by == "diverged") == (twin.status == "diverged")
    assert s.divergence == twin.divergence
    assert result.iterations_run == twin.iteration == s.iteration
    np.testing.assert_array_equal(s.network.params, twin.network.params)
    np.testing.assert_array_equal(s.history().batch_loss, twin.history().batch_loss)
