"""The session as a state machine: phase order, train, batches and epochs, determinism,
history, metrics, traces, predict and boundary."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine_helpers import assert_same, session_from
from engine import PHASES, ConfigError, PhaseOrderError, Session


def make(**overrides) -> Session:
    config = {
        "data": {"name": "circle", "samples": 46, "noise": 0.05, "test_fraction": 0.5, "seed": 1},
        "network": {"layers": [2, 4, 3, 1], "activation": "tanh", "output_activation": "tanh"},
        "loss": "mse",
        "optimizer": {"name": "momentum", "learning_rate": 0.05},
        "batch_size": 5,            # 23 training rows: batches 5, 5, 5, 5, 3
        "regularization": {"kind": "l2", "rate": 0.001},
        "seed": 11,
        "eval_every": 3,
    }
    return session_from(config, overrides)


def step(s: Session, phases=PHASES):
    return [s.run_phase(p) for p in phases]


def params(s: Session) -> np.ndarray:
    return s.network.params.copy()


# ---- phase order ------------------------------------------------------------------------

@pytest.mark.parametrize("done,expected", [(0, "forward"), (1, "loss"), (2, "backward"), (3, "update")])
def test_out_of_order_phases_raise_naming_the_expected_one_and_change_nothing(done, expected):
    s = make()
    step(s, PHASES[:done])
    before_params, before_trace = params(s), s.trace()
    before = (s.phase, s.next_phase, s.iteration, s.epoch, s.status, s.current_batch().tolist())
    assert s.next_phase == expected
    for wrong in PHASES:
        if wrong == expected:
            continue
        with pytest.raises(PhaseOrderError) as info:
            s.run_phase(wrong)
        assert info.value.expected == expected and info.value.called == wrong
        assert expected in str(info.value) and wrong in str(info.value)
        assert (s.phase, s.next_phase, s.iteration, s.epoch, s.status, s.current_batch().tolist()) == before
        np.testing.assert_array_equal(params(s), before_params)
        assert_same(s.trace(), before_trace)
    # and the right phase still works afterwards
    s.run_phase(expected)


def test_run_phase_rejects_unknown_names():
    s = make()
    with pytest.raises(ConfigError) as info:
        s.run_phase("iterate")
    assert info.value.field == "phase"


def test_phase_iteration_epoch_and_next_phase_move_as_documented():
    s = make()
    assert (s.phase, s.next_phase, s.iteration, s.epoch) == (None, "forward", 0, 0)
    assert s.batches_per_epoch == 5
    seen = []
    for _ in range(2 * 5 + 1):
        for p in PHASES:
            result = s.run_phase(p)
            assert result.iteration == len(seen)
            if p != "update":
                assert (s.phase, s.iteration) == (p, len(seen))
                assert s.next_phase == PHASES[PHASES.index(p) + 1]
        seen.append((s.iteration, s.epoch, s.phase, s.next_phase))
    assert seen[:6] == [(1, 0, None, "forward"), (2, 0, None, "forward"), (3, 0, None, "forward"),
                        (4, 0, None, "forward"), (5, 1, None, "forward"), (6, 1, None, "forward")]
    assert seen[-1] == (11, 2, None, "forward")


# ---- batches and epochs -------------------------------------------------------------------

def test_each_epoch_walks_a_seeded_shuffle_covering_every_row_once():
    s = make()
    n_train = len(s.dataset.X_train)
    assert n_train == 23
    epochs = []
    for _ in range(3):
        batches = []
        for _ in range(s.batches_per_epoch):
            f = s.forward()
            np.testing.assert_array_equal(f.a[0], s.dataset.X_train[f.batch])
            loss = s.loss()
            np.testing.assert_array_equal(loss.targets[:, 0], np.where(s.dataset.y_train[f.batch] == 1, 1.0, -1.0))
            step(s, ("backward", "update"))
            batches.append(f.batch.tolist())
        assert [len(b) for b in batches] == [5, 5, 5, 5, 3]        # the last, smaller batch is kept
        order = sum(batches, [])
        assert sorted(order) == list(range(n_train))                # every row exactly once
        epochs.append(order)
    assert epochs[0] != epochs[1] != epochs[2]                       # reshuffled every epoch
    assert epochs[0] != list(range(n_train))
    # the same seed walks the same orders; another seed another
    same, other = make(), make(seed=12)
    same.train(epochs=2)
    assert same.forward().batch.tolist() == epochs[2][:5]
    assert other.forward().batch.tolist() != epochs[0][:5]


def test_current_batch_names_the_next_or_in_progress_batch():
    s = make()
    upcoming = s.current_batch().tolist()
    assert s.forward().batch.tolist() == upcoming
    assert s.current_batch().tolist() == upcoming
    step(s, PHASES[1:])
    assert s.current_batch().tolist() != upcoming


# ---- train -----------------------------------------------------------------------------------

def test_train_iterations_finishes_the_iteration_in_progress_and_counts_it():
    reference = make()
    reference.train(iterations=3)
    for done in (1, 2, 3):
        s = make()
        step(s, PHASES[:done])
        result = s.train(iterations=3)
        assert (result.iterations_run, result.stopped_by) == (3, None)
        assert (s.iteration, s.phase) == (3, None)
        np.testing.assert_array_equal(params(s), params(reference))


def test_train_epochs_crosses_that_many_epoch_boundaries():
    s = make()
    result = s.train(epochs=2)
    assert (result.iterations_run, s.iteration, s.epoch, s.batch_pos) == (10, 10, 2, 0)
    s.train(iterations=2)                      # now in the middle of epoch 2
    result = s.train(epochs=1)                 # stops at the next boundary
    assert (result.iterations_run, s.iteration, s.epoch, s.batch_pos) == (3, 15, 3, 0)
    s.forward()
    result = s.train(epochs=1)                 # the iteration in progress counts
    assert (result.iterations_run, s.iteration, s.epoch) == (5, 20, 4)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "rmsprop", "adam"])
@pytest.mark.parametrize("reg", ["none", "l1", "l2"])
def test_stepping_phase_by_phase_equals_train_bit_for_bit(optimizer, reg):
    overrides = {"optimizer": {"name": optimizer, "learning_rate": 0.02},
                 "regularization": {"kind": reg, "rate": 0.01 if reg != "none" else 0.0}}
    stepped, trained = make(**overrides), make(**overrides)
    for _ in range(12):
        step(stepped)
    trained.train(iterations=12)
    np.testing.assert_array_equal(params(stepped), params(trained))
    np.testing.assert_array_equal(stepped.optimizer.flat_state, trained.optimizer.flat_state)
    assert (stepped.iteration, stepped.epoch, stepped.batch_pos) == (trained.iteration, trained.epoch, trained.batch_pos)
    assert_same(stepped.history(), trained.history())
    # the trace of the last iteration is the same whether it was stepped or trained
    assert_same(stepped.trace(), trained.trace())


def test_same_seed_same_run_and_another_seed_another():
    a, b, c = make(), make(), make(seed=12)
    np.testing.assert_array_equal(params(a), params(b))
    assert not np.array_equal(params(a), params(c))
    for s in (a, b, c):
        s.train(iterations=17)
    np.testing.assert_array_equal(params(a), params(b))
    assert_same(a.history(), b.history())
    assert_same(a.metrics(), b.metrics())
    assert not np.array_equal(params(a), params(c))
    # the data seed moves the data, not the initialisation
    d = make(data={"seed": 2})
    np.testing.assert_array_equal(params(d), params(make()))
    assert not np.array_equal(d.dataset.X_train, a.dataset.X_train)


@pytest.mark.parametrize("kwargs,field", [
    ({}, "iterations"), ({"iterations": 1, "epochs": 1}, "iterations"), ({"iterations": 0}, "iterations"),
    ({"iterations": -3}, "iterations"), ({"iterations": 2.0}, "iterations"), ({"iterations": True}, "iterations"),
    ({"epochs": 0}, "epochs"), ({"epochs": "2"}, "epochs"), ({"epochs": False}, "epochs"),
])
def test_train_rejects_bad_counts(kwargs, field):
    s = make()
    s.forward()
    with pytest.raises(ConfigError) as info:
        s.train(**kwargs)
    assert info.value.field == field
    assert (s.iteration, s.phase) == (0, "forward")


# ---- history -------------------------------------------------------------------------------------

def test_history_logs_each_iterations_loss_and_gradient_norms():
    s = make(regularization={"kind": "l2", "rate": 0.5})   # a large rate: data and total gradients differ
    losses, norms = [], []
    for _ in range(7):
        s.forward()
        losses.append(s.loss().loss)
        back = s.backward()
        norms.append([math.sqrt(np.sum(gW ** 2) + np.sum(gb ** 2)) for gW, gb in zip(back.grad_W, back.grad_b)])
        s.update()
    h = s.history()
    assert h.iterations.tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert h.batch_loss.tolist() == losses
    assert h.grad_norm.shape == (7, 3)
    np.testing.assert_allclose(h.grad_norm, norms, rtol=1e-12)


def test_history_evaluates_every_eval_every_iterations():
    s = make()
    recorded = {}
    for i in range(1, 10):
        s.train(iterations=1)
        if i % 3 == 0:
            recorded[i] = s.metrics()
    evals = s.history().evaluations
    assert [e["iteration"] for e in evals] == [3, 6, 9]
    assert [e["epoch"] for e in evals] == [0, 1, 1]
    for e in evals:
        m = recorded[e["iteration"]]
        assert (e["train_loss"], e["test_loss"], e["train_accuracy"], e["test_accuracy"]) == (
            m.train_loss, m.test_loss, m.train_accuracy, m.test_accuracy)
    assert s.history(since=5).iterations.tolist() == [6, 7, 8, 9]
    assert [e["iteration"] for e in s.history(since=5).evaluations] == [6, 9]


# ---- metrics ----------------------------------------------------------------------------------------

def test_metrics_for_binary_classification_with_a_tanh_output():
    s = make()
    s.train(iterations=20)
    m = s.metrics()
    ds = s.dataset
    for X, y, loss, acc in ((ds.X_train, ds.y_train, m.train_loss, m.train_accuracy),
                            (ds.X_test, ds.y_test, m.test_loss, m.test_accuracy)):
        out = s.predict(X).outputs[:, 0]
        target = np.where(y == 1, 1.0, -1.0)                 # tanh output: ±1 targets, threshold 0
        assert loss == pytest.approx(np.mean((out - target) ** 2), rel=1e-12)
        assert acc == pytest.approx(np.mean((out > 0) == (y == 1)), abs=1e-15)
    assert 0.0 <= m.train_accuracy <= 1.0


def test_metrics_for_softmax_classification():
    s = make(data={"name": "iris", "samples": None, "noise": None, "test_fraction": 0.2, "seed": 0},
             network={"layers": [4, 5, 3], "output_activation": "softmax"}, loss="cross_entropy",
             regularization={"kind": "none", "rate": 0.0}, batch_size=16)
    s.train(epochs=3)
    m = s.metrics()
    ds = s.dataset
    out = s.predict(ds.X_test).outputs
    assert m.test_accuracy == pytest.approx(np.mean(out.argmax(axis=1) == ds.y_test), abs=1e-15)
    assert m.test_loss == pytest.approx(-np.mean(np.log(out[np.arange(len(out)), ds.y_test])), rel=1e-10)


def test_metrics_for_a_sigmoid_output_threshold_half():
    s = make(network={"output_activation": "sigmoid"}, loss="bce", regularization={"kind": "none", "rate": 0.0})
    s.train(iterations=10)
    ds = s.dataset
    out = s.predict(ds.X_train).outputs[:, 0]
    assert s.metrics().train_accuracy == pytest.approx(np.mean((out > 0.5) == (ds.y_train == 1)), abs=1e-15)


def test_metrics_for_regression_have_no_accuracy():
    s = make(data={"name": "curve", "samples": 30, "noise": 0.1, "test_fraction": 0.0},
             network={"layers": [1, 4, 1], "output_activation": "linear"}, batch_size=4)
    s.train(iterations=5)
    m = s.metrics()
    assert m.train_accuracy is None and m.test_accuracy is None
    assert m.test_loss is None                       # no test rows
    out = s.predict(s.dataset.X_train).outputs
    assert m.train_loss == pytest.approx(np.mean((out - s.dataset.y_train) ** 2), rel=1e-12)
    assert all(e["train_accuracy"] is None and e["test_loss"] is None for e in s.history().evaluations)


def test_metrics_follow_the_parameters():
    s = make()
    before = s.metrics()
    s.train(iterations=1)
    after = s.metrics()
    assert after.train_loss != before.train_loss
    s.rewind(1)
    assert s.metrics() == before


# ---- traces -----------------------------------------------------------------------------------------

def test_trace_shows_the_iteration_in_progress_then_the_last_completed_one():
    s = make()
    t = s.trace()
    assert t.iteration == 0 and (t.forward, t.loss, t.backward, t.update) == (None, None, None, None)
    results = []
    for n, p in enumerate(PHASES, start=1):
        results.append(s.run_phase(p))
        t = s.trace()
        assert t.iteration == 0
        parts = [t.forward, t.loss, t.backward, t.update]
        assert all(x is not None for x in parts[:n]) and all(x is None for x in parts[n:])
        assert_same(parts[n - 1], results[-1])
    # between iterations: the last completed one, all four phases
    t = s.trace()
    assert t.iteration == 0 and s.iteration == 1
    for part, result in zip([t.forward, t.loss, t.backward, t.update], results):
        assert_same(part, result)
    s.forward()
    t = s.trace()
    assert t.iteration == 1 and t.loss is None and t.update is None
    assert t.forward.batch.tolist() != results[0].batch.tolist()


def test_results_are_copies_not_views_of_the_engines_buffers():
    s = make()
    f = s.forward()
    kept = [a.copy() for a in f.a]
    f.a[1][...] = 123.0
    f.z[2][...] = 123.0
    loss = s.loss()
    assert np.all(s.trace().forward.a[1] == kept[1])
    step(s, ("backward", "update"))
    s.train(iterations=3)
    np.testing.assert_array_equal(f.a[0], kept[0])         # an old result does not change under training
    assert loss.iteration == 0


def test_network_state_has_gradients_only_after_a_backward():
    s = make()
    assert s.network_state().grad_W is None and s.network_state().grad_b is None
    step(s, PHASES[:2])
    assert s.network_state().grad_W is None
    back = s.backward()
    state = s.network_state()
    assert_same(state.grad_W, back.grad_W)
    assert state.layers == [2, 4, 3, 1]
    assert [W.shape for W in state.W] == [(2, 4), (4, 3), (3, 1)]
    assert [b.shape for b in state.b] == [(4,), (3,), (1,)]


# ---- predict and boundary --------------------------------------------------------------------------

def test_predict_gives_the_forward_pass_for_any_rows():
    s = make()
    f = s.forward()
    p = s.predict(s.dataset.X_train[f.batch])
    assert p.outputs.shape == (5, 1)
    assert p.z[0] is None and len(p.a) == 4
    for l in range(1, 4):
        np.testing.assert_allclose(p.z[l], f.z[l], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(p.a[l], f.a[l], rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(p.outputs, p.a[-1])
    # by hand, for one row
    x = np.array([[0.3, -0.7]])
    a = x
    for W, b in zip(s.network.W, s.network.b):
        a = np.tanh(a @ W + b)
    np.testing.assert_allclose(s.predict(x.tolist()).outputs, a, rtol=1e-13)


@pytest.mark.parametrize("X", [[[1.0, 2.0, 3.0]], [1.0, 2.0], [[1.0, float("nan")]], [[1.0, float("inf")]],
                               "rows", [[1.0], [2.0, 3.0]], [[1.0, None]], [[10**400, 1.0]]])
def test_predict_rejects_bad_rows(X):
    s = make()
    with pytest.raises(ConfigError) as info:
        s.predict(X)
    assert info.value.field == "X"


def test_boundary_outputs_equal_predict_on_the_grid():
    s = make()
    s.train(iterations=4)
    r = 7
    b = s.boundary(r)
    (x0, x1), (y0, y1) = s.dataset.input_range
    assert b.resolution == r and b.x_range == (x0, x1) and b.y_range == (y0, y1)
    assert b.outputs.shape == (1, r * r)
    assert b.neurons[0] is None and [n.shape for n in b.neurons[1:]] == [(4, r * r), (3, r * r), (1, r * r)]
    xs, ys = np.linspace(x0, x1, r), np.linspace(y0, y1, r)
    grid = np.array([[xs[ix], ys[iy]] for iy in range(r) for ix in range(r)])   # index iy·r + ix
    p = s.predict(grid)
    np.testing.assert_allclose(b.outputs, p.outputs.T, rtol=1e-13, atol=1e-15)
    for l in (1, 2, 3):
        np.testing.assert_allclose(b.neurons[l], p.a[l].T, rtol=1e-13, atol=1e-15)
    # the range covers the data
    X = np.concatenate([s.dataset.X_train, s.dataset.X_test])
    assert x0 < X[:, 0].min() and X[:, 0].max() < x1 and y0 < X[:, 1].min() and X[:, 1].max() < y1


def test_boundary_for_one_input_is_a_line_and_for_more_an_error():
    s = make(data={"name": "curve", "samples": 30, "noise": 0.1, "test_fraction": 0.2},
             network={"layers": [1, 4, 1], "output_activation": "linear"})
    b = s.boundary(9)
    assert b.outputs.shape == (1, 9) and b.y_range is None
    xs = np.linspace(*s.dataset.input_range[0], 9)
    np.testing.assert_allclose(b.outputs[0], s.predict(xs[:, None]).outputs[:, 0], rtol=1e-13, atol=1e-15)
    with pytest.raises(ConfigError) as info:
        s.boundary(1)
    assert info.value.field == "resolution"
    iris = make(data={"name": "iris", "samples": None, "noise": None, "test_fraction": 0.2, "seed": 0},
                network={"layers": [4, 3], "output_activation": "softmax"}, loss="cross_entropy")
    with pytest.raises(ConfigError) as info:
        iris.boundary(5)
    assert info.value.field == "boundary"
