"""Time travel and divergence: rewind restores the exact past, so re-stepping repeats every
number bit for bit; a NaN or inf is caught where it first appears, and rewind recovers."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from engine_helpers import assert_same, session_from
from engine import PHASES, Config, ConfigError, DivergedError, Limits, RewindError, Session


def make(limits: Limits = Limits(), **overrides) -> Session:
    config = {
        "data": {"name": "xor", "samples": 40, "noise": 0.1, "test_fraction": 0.25, "seed": 2},
        "network": {"layers": [2, 5, 1], "activation": "relu", "output_activation": "sigmoid", "init": "he"},
        "loss": "bce",
        "optimizer": {"name": "adam", "learning_rate": 0.05},
        "batch_size": 7,           # 30 training rows: 5 batches of 7, 7, 7, 7, 2
        "regularization": {"kind": "l1", "rate": 0.001},
        "seed": 5,
        "eval_every": 2,
    }
    return session_from(config, overrides, limits)


def run_iterations(s: Session, n: int) -> list:
    """Step n whole iterations phase by phase; every phase's result."""
    return [[s.run_phase(p) for p in PHASES] for _ in range(n)]


def snapshot(s: Session) -> tuple:
    return (s.network.params.copy(), s.optimizer.flat_state.copy(), s.optimizer.step_count,
            s.iteration, s.epoch, s.batch_pos, s.phase, s.status, s.rng.bit_generator.state)


def assert_same_state(a: tuple, b: tuple):
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[2:] == b[2:]


# ---- rewind then re-step is bit-identical --------------------------------------------------------

@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "rmsprop"])
@pytest.mark.parametrize("back", [1, 3, 5, 12])
def test_rewind_then_restep_repeats_every_number(optimizer, back):
    s = make(optimizer={"name": optimizer, "learning_rate": 0.05})
    run_iterations(s, 4)
    states = {}
    results = {}
    for i in range(4, 16):                     # crosses the epoch boundaries at 5, 10 and 15
        states[i] = snapshot(s)
        results[i] = run_iterations(s, 1)[0]
    end_state, end_history = snapshot(s), s.history()
    s.rewind(back)
    start = 16 - back
    assert_same_state(snapshot(s), states[start])
    assert s.trace().forward is None and s.max_rewind == start
    for i in range(start, 16):
        assert_same(run_iterations(s, 1)[0], results[i])
    assert_same_state(snapshot(s), end_state)
    assert_same(s.history(), end_history)


def test_rewind_across_epochs_with_train_then_train_again():
    s = make(optimizer={"name": "momentum", "learning_rate": 0.1, "nesterov": True})
    s.train(iterations=23)
    expected_params, expected_metrics = s.network.params.copy(), s.metrics()
    s.rewind(17)
    assert (s.iteration, s.epoch, s.batch_pos) == (6, 1, 1)
    s.train(iterations=17)
    np.testing.assert_array_equal(s.network.params, expected_params)
    assert s.metrics() == expected_metrics


def test_rewind_to_the_start_restores_the_initialisation():
    s = make()
    initial = snapshot(s)
    s.train(epochs=3)
    s.rewind(s.iteration)
    assert_same_state(snapshot(s), initial)
    assert s.history().iterations.size == 0 and s.history().evaluations == []


def test_rewind_zero_drops_the_iteration_in_progress():
    s = make()
    run_iterations(s, 2)
    before = snapshot(s)
    first = s.forward()
    s.loss()
    s.backward()
    s.rewind(0)
    assert_same_state(snapshot(s), before)
    assert (s.phase, s.next_phase, s.iteration) == (None, "forward", 2)
    assert s.trace().forward is None and s.network_state().grad_W is None
    assert_same(s.forward(), first)           # the same batch again, the same numbers
    s.rewind(0)
    s.rewind(0)                               # between iterations: nothing to drop
    assert_same_state(snapshot(s), before)


def test_rewind_past_the_kept_history_raises_and_changes_nothing():
    s = make(limits=Limits(max_history=5))
    k = s.snapshot_every                      # 8: two snapshots cover the 5 iterations asked for
    run_iterations(s, 2 * k + 4)
    s.forward()
    s.loss()
    before, trace = snapshot(s), s.trace()
    assert s.max_rewind == 5
    with pytest.raises(RewindError) as info:
        s.rewind(6)
    assert info.value.max_rewind == 5 and info.value.asked == 6
    assert "5" in str(info.value)
    assert_same_state(snapshot(s), before)
    assert_same(s.trace(), trace)
    s.rewind(5)                               # to 2k - 1: the snapshot at k is the oldest left
    assert s.iteration == 2 * k - 1 and s.max_rewind == 5
    s.rewind(5)
    assert s.iteration == 2 * k - 6 and s.max_rewind == k - 6
    with pytest.raises(RewindError) as info:
        s.rewind(k - 5)
    assert info.value.max_rewind == k - 6


def test_history_is_bounded_by_the_limits():
    s = make(limits=Limits(max_history=3))
    s.train(iterations=50)
    assert s.max_rewind == 3
    with pytest.raises(RewindError):
        s.rewind(4)
    # 21 parameters and Adam's 42 state values: 8·63 + 32 = 536 bytes a snapshot; the budget
    # holds 4 besides the newest, one every k iterations
    s = make(limits=Limits(max_history_bytes=4 * 536))
    s.train(iterations=50)
    k = s.snapshot_every
    oldest = (50 // k - 4) * k
    assert s._ring.count == 5 and s.max_rewind == 50 - oldest
    with pytest.raises(RewindError):
        s.rewind(50 - oldest + 1)
    s.rewind(50 - oldest)
    assert s.iteration == oldest


@pytest.mark.parametrize("n", [-1, 1.0, True, "2", None])
def test_rewind_rejects_bad_counts(n):
    s = make()
    s.train(iterations=3)
    with pytest.raises(ConfigError) as info:
        s.rewind(n)
    assert info.value.field == "iterations"
    assert s.iteration == 3


# ---- a network big enough to be snapshotted every k-th iteration ------------------------------

def big(optimizer="adam") -> Session:
    return make(network={"layers": [2, 64, 64, 64, 1], "activation": "tanh", "init": "xavier_uniform"},
                optimizer={"name": optimizer, "learning_rate": 0.001}, batch_size=4)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_rewind_replays_between_sparse_snapshots_exactly(optimizer):
    s = big(optimizer)
    assert s.snapshot_every > 1
    k = s.snapshot_every
    states, results = {}, {}
    for i in range(3 * k + 2):
        states[i] = snapshot(s)
        results[i] = run_iterations(s, 1)[0]
    end = snapshot(s)
    n = 3 * k + 2
    for back in (1, k - 1, k, k + 1, n):
        s.rewind(back)
        assert_same_state(snapshot(s), states[n - back])
        for i in range(n - back, n):
            assert_same(run_iterations(s, 1)[0], results[i])
        assert_same_state(snapshot(s), end)


# ---- set_network -----------------------------------------------------------------------------------

def test_set_network_then_rewind_does_not_replay_across_the_edit():
    s = make()
    s.train(iterations=6)
    W = [np.full_like(w, 0.25).tolist() for w in s.network.W]
    b = [np.full_like(v, -0.1).tolist() for v in s.network.b]
    s.forward()                                  # an iteration in progress is dropped
    s.set_network(W, b)
    assert (s.phase, s.iteration) == (None, 6)
    edited = snapshot(s)
    assert all(np.all(w == 0.25) for w in s.network.W)
    s.train(iterations=3)
    s.rewind(3)
    assert_same_state(snapshot(s), edited)      # back to the edited weights, not the trained ones
    s.rewind(1)                                  # and before the edit, the history as it was
    assert s.iteration == 5 and not np.all(s.network.W[0] == 0.25)


def test_set_network_on_a_sparse_snapshot_network():
    s = big("sgd")
    k = s.snapshot_every
    s.train(iterations=k + 1)                    # the edit falls between snapshots
    W = [(0.5 * w).tolist() for w in s.network.W]
    b = [v.tolist() for v in s.network.b]
    s.set_network(W, b)
    edited = snapshot(s)
    s.train(iterations=k + 1)
    s.rewind(k + 1)
    assert_same_state(snapshot(s), edited)


def test_set_network_rejects_bad_parameters_and_changes_nothing():
    s = make()
    s.train(iterations=2)
    s.forward()
    before = snapshot(s)
    good_W = [w.tolist() for w in s.network.W]
    good_b = [v.tolist() for v in s.network.b]
    for W, b, field in [
        (good_W[:1], good_b, "W"),
        ([[[1.0] * 5] * 3, good_W[1]], good_b, "W[0]"),
        (good_W, [good_b[0], [float("nan")]], "b[1]"),
        ([good_W[0], [["x"]] * 5], good_b, "W[1]"),
        (good_W, [good_b[0], [True]], "b[1]"),
        ([[[1.0, 2.0], [3.0]], good_W[1]], good_b, "W[0]"),
    ]:
        with pytest.raises(ConfigError) as info:
            s.set_network(W, b)
        assert info.value.field == field
        assert_same_state(snapshot(s), before)


# ---- divergence ------------------------------------------------------------------------------------

def explicit(layers, W, b, X, y, loss="mse", output="linear", lr=0.1, batch_size=1):
    return Session(Config.from_dict({
        "data": {"name": "custom", "X": X, "y": y, "test_fraction": 0.0},
        "network": {"layers": layers, "activation": "linear", "output_activation": output,
                    "init": "explicit", "W": W, "b": b},
        "loss": loss, "optimizer": {"name": "sgd", "learning_rate": lr}, "batch_size": batch_size,
    }))


# a NaN or inf first appearing in each phase, with the layer where it shows
DIVERGING = {
    # z[2] = 2·1e200·1e200 overflows
    "forward": (lambda: explicit([1, 1, 1], [[[1e200]], [[1e200]]], [[0.0], [0.0]], [[2.0]], [[0.0]]), 2),
    # ŷ = 1e200 is finite, (ŷ - y)² is not
    "loss": (lambda: explicit([1, 1], [[[1e200]]], [[0.0]], [[1.0]], [[0.0]]), 1),
    # softmax + cross-entropy stay finite (each row's output is confidently wrong, the loss
    # 1e308), delta[1] = delta[2]·W[1]ᵀ = ±(1e308 + 1e308) does not
    "backward": (lambda: explicit([1, 1, 2], [[[1.0]], [[1e308, -1e308]]], [[0.0], [0.0, 0.0]],
                                  [[0.5], [-0.5]], [1, 0], loss="cross_entropy", output="softmax"), 1),
    # the gradient 5e306 is finite, the step 100·5e306 is not
    "update": (lambda: explicit([1, 2], [[[0.0, 0.0]]], [[0.0, 0.0]], [[1e307], [1e307]], [0, 1],
                                loss="cross_entropy", output="softmax", lr=100.0), 0),
}


@pytest.mark.parametrize("phase", PHASES)
def test_a_nan_or_inf_is_caught_in_the_phase_where_it_appears(phase):
    build, layer = DIVERGING[phase]
    s = build()
    initial = snapshot(s)
    results = []
    for p in PHASES:
        results.append(s.run_phase(p))    # the diverging phase itself returns its numbers
        if p == phase:
            break
        assert s.status == "ok"
    assert s.status == "diverged"
    d = s.divergence
    assert (d["iteration"], d["phase"], d["layer"]) == (0, phase, layer)
    assert isinstance(d["detail"], str) and d["detail"]
    assert s.iteration == 0                      # a diverged update is not counted

    # every further phase, and train, refuse with DivergedError saying where
    for p in PHASES:
        with pytest.raises(DivergedError) as info:
            s.run_phase(p)
        assert info.value.divergence == d and phase in str(info.value)
    with pytest.raises(DivergedError):
        s.train(iterations=1)
    with pytest.raises(DivergedError):
        s.train(epochs=1)

    # reading never raises
    s.trace(), s.metrics(), s.history(), s.network_state(), s.predict([[1.0] * s.network.layers[0]])
    s.gradcheck(), s.diagnostics(), s.boundary(3) if s.network.layers[0] <= 2 else None

    # rewind(0) gets back to the last good state; the same phase diverges again, deterministically
    s.rewind(0)
    assert s.status == "ok" and s.divergence is None
    assert_same_state(snapshot(s), initial)
    assert np.isfinite(s.network.params).all()
    for p in PHASES:
        s.run_phase(p)
        if p == phase:
            break
    assert s.divergence == d

    # train stops at the same place and says so
    t = build()
    result = t.train(iterations=5)
    assert (result.iterations_run, result.stopped_by) == (0, "diverged")
    assert t.divergence == d and t.status == "diverged"
    t.rewind(0)
    assert_same_state(snapshot(t), initial)


def test_a_huge_learning_rate_diverges_and_rewind_recovers():
    config = dict(data={"name": "curve", "samples": 50, "noise": 0.1, "test_fraction": 0.2, "seed": 0},
                  network={"layers": [1, 8, 1], "activation": "relu", "output_activation": "linear",
                           "init": "he"},
                  loss="mse", optimizer={"name": "sgd", "learning_rate": 100.0}, batch_size=10,
                  regularization={"kind": "none", "rate": 0.0})
    trained = make(**config)
    result = trained.train(iterations=1000)
    assert result.stopped_by == "diverged"
    d = trained.divergence
    assert trained.status == "diverged" and result.iterations_run == d["iteration"] == trained.iteration
    assert d["phase"] in PHASES and d["layer"] in range(0, 3)
    with pytest.raises(DivergedError):
        trained.train(iterations=1)
    with pytest.raises(DivergedError):
        trained.forward()

    # stepping phase by phase diverges at the same iteration, phase and layer
    stepped = make(**config)
    for _ in range(1000):
        for p in PHASES:
            stepped.run_phase(p)
            if stepped.status == "diverged":
                break
        else:
            continue
        break
    assert stepped.divergence == d

    stepped.rewind(0)
    assert stepped.status == "ok" and stepped.iteration == d["iteration"]
    assert np.isfinite(stepped.network.params).all()
    trained.rewind(2)                            # straight from the diverged state
    assert trained.status == "ok" and trained.iteration == d["iteration"] - 2
    assert np.isfinite(trained.network.params).all()
    assert trained.train(iterations=1).stopped_by is None


def test_cross_entropy_stays_exact_where_the_true_class_probability_underflows():
    """z = [0, 1000] for both rows: row 0 (class 0) has ŷ_0 = e^-1000 = 0, so -log ŷ_0 is inf;
    log-sum-exp from z gives its true loss, 1000 + log(1 + e^-1000) = 1000. Row 1's is 0."""
    s = explicit([1, 2], [[[0.0, 1000.0]]], [[0.0, 0.0]], [[1.0], [1.0]], [0, 1],
                 loss="cross_entropy", output="softmax", batch_size=2)
    assert s.metrics().train_loss == 500.0
    s.forward()
    result = s.loss()
    assert result.loss == 500.0 and result.sample_losses[np.argsort(s.trace().forward.batch)].tolist() == [1000.0, 0.0]
    assert s.status == "ok"
    t = explicit([1, 2], [[[0.0, 1000.0]]], [[0.0, 0.0]], [[1.0], [1.0]], [0, 1],
                 loss="cross_entropy", output="softmax", batch_size=2)
    assert t.train(iterations=1).stopped_by is None and t.history().batch_loss.tolist() == [500.0]


def test_a_nan_written_into_the_arrays_directly_is_reported_not_hidden():
    """Training is deterministic, so replay finds every NaN training makes; one written into
    the parameters behind the session's back is not reproduced, and train says so."""
    s = make()
    s.train(iterations=3)
    s.network.W[0][0, 0] = np.nan
    with pytest.raises(RuntimeError, match="changed directly"):
        s.train(iterations=3)


def poisoned(s: Session, bad_step: int) -> Session:
    """The optimizer's `bad_step`-th step puts an inf into one parameter's step, every time."""
    real = s.optimizer.step

    def step(g, out):
        real(g, out)
        if s.optimizer.step_count == bad_step:
            out[3] = np.inf
        return out
    s.optimizer.step = step
    return s


@pytest.mark.parametrize("bad_step", [3, 8, 13])   # between snapshots, at one, after the run's last
def test_train_finds_an_inf_from_an_update_exactly_where_stepping_does(bad_step):
    """train checks the parameters only at snapshots and when it stops; when that check
    fails it replays from the snapshot before, so the report matches phase-by-phase stepping."""
    stepped = poisoned(make(), bad_step)
    while stepped.status == "ok":
        for p in PHASES:
            stepped.run_phase(p)
            if stepped.status != "ok":
                break
    expected = {"iteration": bad_step - 1, "phase": "update", "layer": 0}
    assert {k: stepped.divergence[k] for k in expected} == expected

    trained = poisoned(make(), bad_step)
    assert trained.snapshot_every == 8
    result = trained.train(iterations=15)
    assert (result.stopped_by, result.iterations_run) == ("diverged", bad_step - 1)
    assert trained.divergence == stepped.divergence and trained.iteration == bad_step - 1
    assert len(trained.history().iterations) == bad_step - 1     # no row logged past the last good one
    trained.rewind(0)
    assert trained.status == "ok" and np.isfinite(trained.network.params).all()


def test_running_into_a_divergence_neither_raises_nor_warns():
    """Unnormalised inputs, a deep linear net and batch 1: the numbers grow ~1e100-fold an
    iteration until z overflows in the fifth forward. Every phase, evaluation and reading on
    the way (huge but finite gradients whose squares overflow in the logged norms) stays quiet."""
    X = [[-1.43, -0.94, 0.39, -0.52, 0.53], [0.81, -1.44, 1.02, -0.60, 2.09]]
    config = Config.from_dict({
        "data": {"name": "custom", "X": X, "y": [[0.56], [0.94]], "test_fraction": 0.0},
        "network": {"layers": [5, 2, 2, 1, 1], "activation": "linear", "output_activation": "linear"},
        "optimizer": {"name": "sgd", "learning_rate": 0.05}, "batch_size": 1, "eval_every": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = Session(config)
        while s.status == "ok":
            for p in PHASES:
                s.run_phase(p)
                s.trace(), s.metrics(), s.history(), s.network_state()
                if s.status != "ok":
                    break
            assert s.iteration < 20
        s.gradcheck(), s.predict(X), s.boundary(3) if s.network.layers[0] <= 2 else None
        t = Session(config)
        assert t.train(iterations=20).stopped_by == "diverged"
        assert t.divergence == s.divergence
        s.rewind(1)
        assert np.isfinite(s.network.params).all()


def test_set_network_recovers_from_divergence():
    build, _ = DIVERGING["forward"]
    s = build()
    s.forward()
    assert s.status == "diverged"
    s.set_network([[[1.0]], [[1.0]]], [[0.0], [0.0]])
    assert s.status == "ok" and s.phase is None
    f = s.forward()
    assert f.a[2].tolist() == [[2.0]]
