"""The debugger's engine side: layer-by-layer steps, breakpoints, time travel, diagnostics
and hints, frozen biases and the full-batch gradient."""
import math
import warnings

import numpy as np
import pytest

from engine import ConfigError, DivergedError, Session
from engine.presets import build_config


def make(**overrides) -> Session:
    return Session(build_config(overrides))


def same(xs, ys) -> bool:
    return all((x is None and y is None) or np.array_equal(x, y) for x, y in zip(xs, ys))


# ---- layer-by-layer micro-steps ---------------------------------------------------------

def test_forward_and_backward_one_layer_at_a_time_equal_the_whole_phases():
    whole, stepped = make(preset="spiral"), make(preset="spiral")
    whole.train(iterations=3)
    stepped.train(iterations=3)
    f = whole.forward()
    layers_seen = []
    while stepped.next_phase == "forward":
        part = stepped.forward(layers=1)
        layers_seen.append((part.layer, stepped.layer))
        assert part.a[part.layer + 1:] == [None] * (4 - part.layer)   # nothing beyond the layer reached
    assert layers_seen == [(1, 1), (2, 2), (3, 3), (4, None)]
    assert same(f.z, part.z) and same(f.a, part.a)
    assert whole.loss().loss == stepped.loss().loss
    b = whole.backward()
    first = stepped.backward(layers=1)
    assert first.layer == 3 and stepped.layer == 3 and stepped.next_phase == "backward"
    assert first.grad_W[:3] == [None, None, None] and np.array_equal(first.grad_W[3], b.grad_W[3])
    rest = stepped.backward(layers=5 - 2)   # the remaining three layers
    assert rest.layer == 0 and stepped.next_phase == "update"
    assert same(b.delta, rest.delta) and same(b.grad_W, rest.grad_W) and same(b.grad_b, rest.grad_b)
    assert same(whole.update().W, stepped.update().W)


def test_layers_must_be_within_the_network():
    s = make()
    with pytest.raises(ConfigError, match="layers must be between 1 and 3"):
        s.forward(layers=4)
    with pytest.raises(ConfigError, match="layers"):
        s.run_phase("loss", layers=1)
    assert s.phase is None


def test_train_finishes_a_layer_by_layer_forward_where_it_stopped():
    a, b = make(), make()
    b.forward(layers=1)
    a.train(iterations=4)
    b.train(iterations=4)
    assert np.array_equal(a.network.params, b.network.params)


# ---- breakpoints -----------------------------------------------------------------------

def diverging() -> Session:
    return make(preset="curve", network={"activation": "linear"}, optimizer={"name": "sgd", "learning_rate": 5.0})


def first_nonfinite_iteration() -> tuple[int, str]:
    """Step phase by phase until a phase reports a NaN or inf."""
    s = diverging()
    for _ in range(10_000):
        for phase in ("forward", "loss", "backward", "update"):
            s.run_phase(phase)
            if s.status == "diverged":
                return s.iteration, phase
    raise AssertionError("never diverged")


def test_nan_stops_training_at_the_iteration_where_it_appears_and_rewind_recovers():
    iteration, phase = first_nonfinite_iteration()
    s = diverging()
    result = s.train(iterations=10_000)
    assert result.stopped_by == "diverged"
    assert result.iterations_run == iteration == s.iteration
    assert result.breakpoint["kind"] == "nan" and result.breakpoint["iteration"] == iteration
    assert s.divergence["phase"] == phase
    with pytest.raises(DivergedError):
        s.forward()
    s.rewind(3)
    assert s.status == "ok" and np.isfinite(s.network.params).all()
    assert s.iteration == iteration - 3


def test_loss_rising_fires_after_k_rises_in_a_row():
    s = make(optimizer={"learning_rate": 2.0})
    s.set_breakpoints({"loss_rising": 3})
    result = s.train(iterations=2000)
    assert result.stopped_by == "breakpoint" and result.breakpoint["kind"] == "loss_rising"
    losses = s.history().batch_loss
    assert losses[-1] > losses[-2] > losses[-3] > losses[-4]
    assert result.breakpoint["value"] == losses[-1] and result.breakpoint["iteration"] == s.iteration


def test_a_deep_sigmoid_network_trips_the_vanishing_gradient_breakpoint():
    s = make(network={"layers": [2, 8, 8, 8, 8, 8, 1], "activation": "sigmoid", "output_activation": "sigmoid"},
             loss="bce")
    s.set_breakpoints({"grad_norm_below": 1e-3, "grad_norm_iterations": 3})
    result = s.train(iterations=500)
    fired = result.breakpoint
    assert fired["kind"] == "grad_norm_below" and fired["layer"] == 0
    norms = s.history().grad_norm[:, 0]
    assert (norms[-3:] < 1e-3).all() and fired["value"] == norms[-1]


def test_exploding_gradient_breakpoint_names_the_layer():
    s = diverging()
    s.set_breakpoints({"grad_norm_above": 100.0})
    result = s.train(iterations=10_000)
    assert result.stopped_by == "breakpoint" and result.breakpoint["kind"] == "grad_norm_above"
    l = result.breakpoint["layer"]
    assert s.history().grad_norm[-1, l] == result.breakpoint["value"] > 100.0


def test_watched_weight_crossing_a_value():
    s = make()
    w0 = float(s.network.W[1][0, 1])
    s.set_breakpoints({"watch": {"layer": 1, "i": 0, "j": 1, "value": w0 - 0.01}})
    result = s.train(iterations=5000)
    assert result.breakpoint["kind"] == "watch" and result.breakpoint["j"] == 1
    w_now, w_before = s.network.W[1][0, 1], s.at(s.iteration - 1).network.W[1][0, 1]
    assert w_before >= w0 - 0.01 > w_now == result.breakpoint["value"]


def test_loss_below_and_at_iteration_and_at_epoch():
    s = make()
    s.set_breakpoints({"at_iteration": 7})
    assert s.train(iterations=100).breakpoint["kind"] == "at_iteration" and s.iteration == 7
    s.set_breakpoints({"at_epoch": 2})
    result = s.train(iterations=100)
    assert result.breakpoint["kind"] == "at_epoch" and s.epoch == 2 and s.batch_pos == 0
    s.set_breakpoints({"loss_below": 0.5})
    result = s.train(iterations=5000)
    assert result.breakpoint["kind"] == "loss_below" and s.history().batch_loss[-1] < 0.5


@pytest.mark.parametrize("conditions, field", [
    ({"loss_rising": 0}, "breakpoints.loss_rising"),
    ({"grad_norm_above": -1.0}, "breakpoints.grad_norm_above"),
    ({"grad_norm_below": math.nan}, "breakpoints.grad_norm_below"),
    ({"at_iteration": True}, "breakpoints.at_iteration"),
    ({"watch": {"layer": 3, "i": 0, "j": 0, "value": 0}}, "breakpoints.watch.layer"),
    ({"watch": {"layer": 0, "i": 2, "j": 0, "value": 0}}, "breakpoints.watch.i"),
    ({"watch": {"layer": 0, "i": 0, "j": 4, "value": 0}}, "breakpoints.watch.j"),
    ({"sometimes": 1}, "breakpoints.sometimes"),
])
def test_bad_breakpoints_name_the_field(conditions, field):
    s = make()
    with pytest.raises(ConfigError) as err:
        s.set_breakpoints(conditions)
    assert err.value.field == field
    assert s.breakpoints is None


# ---- time travel -------------------------------------------------------------------------

def test_a_past_iteration_is_served_exactly_without_touching_the_session():
    s = make(preset="spiral")
    s.train(iterations=40)
    before = s.network.params.copy()
    past = s.at(25)
    assert past.iteration == 25
    past_forward, past_update = past.forward(), (past.loss(), past.backward(), past.update())[-1]
    assert np.array_equal(s.network.params, before) and s.iteration == 40
    s.rewind(15)
    assert same(s.forward().a, past_forward.a)
    s.loss(), s.backward()
    assert same(s.update().W, past_update.W)


def test_a_past_iteration_outside_the_kept_history_is_refused():
    from engine import Limits
    s = Session(build_config({}), Limits(max_history=5))
    s.train(iterations=20)
    with pytest.raises(ConfigError, match="iteration must be between 15 and 20"):
        s.at(3)


# ---- diagnostics and hints -----------------------------------------------------------

def test_diagnostics_are_the_norms_of_the_last_iteration():
    s = make(preset="spiral")
    s.train(iterations=5)
    for phase in ("forward", "loss", "backward"):
        s.run_phase(phase)
    before = s.network.params.copy()
    u = s.update()
    d = s.diagnostics()
    for l in range(4):
        step = np.concatenate([u.step_W[l].ravel(), u.step_b[l]])
        params = np.concatenate([u.W[l].ravel(), u.b[l]])
        grad = s.grads[s.network.layer_slices()[l]]
        assert d.layers[l, 0] == pytest.approx(np.linalg.norm(grad), rel=1e-12)
        assert d.layers[l, 1] == pytest.approx(np.linalg.norm(step) / np.linalg.norm(params), rel=1e-12)
    assert np.isnan(d.layers[:, 2]).all()                       # tanh: no dead ReLUs to count
    assert not np.array_equal(before, s.network.params)


def test_a_dead_relu_network_produces_the_dead_unit_hint():
    s = make(network={"layers": [2, 8, 8, 1], "activation": "relu", "output_activation": "tanh"},
             optimizer={"learning_rate": 10.0})
    s.train(iterations=100)
    d = s.diagnostics()
    dead = [h for h in d.hints if h["kind"] == "dead_relu"]
    assert dead and dead[0]["layer"] == 2
    assert dead[0]["numbers"]["dead_fraction"] == d.layers[1, 2] >= 0.5
    assert "leaky_relu" in dead[0]["message"] and "ReLUs are dead" in dead[0]["message"]


def test_saturated_units_are_counted_and_hinted():
    s = make(network={"layers": [2, 4, 1], "activation": "tanh", "output_activation": "tanh",
                      "init": "uniform", "init_range": [20.0, 30.0]})
    s.train(iterations=1)
    d = s.diagnostics()
    assert d.layers[0, 3] == 1.0
    assert any(h["kind"] == "saturated" and h["layer"] == 1 for h in d.hints)


def test_diagnostics_are_logged_every_eval_every_iterations():
    s = make(eval_every=5)
    s.train(iterations=23)
    h = s.history()
    assert h.diagnostics_iterations.tolist() == [5, 10, 15, 20]
    assert h.diagnostics.shape == (4, 3, 4)


# ---- textbook variants -------------------------------------------------------------------

def test_frozen_biases_never_move_but_their_gradients_are_shown():
    s = make(freeze_biases=True, optimizer={"name": "adam", "learning_rate": 0.05})
    b0 = [b.copy() for b in s.network.b]
    for phase in ("forward", "loss"):
        s.run_phase(phase)
    assert any(np.abs(g).sum() > 0 for g in s.backward().grad_b)
    u = s.update()
    assert all(not step.any() for step in u.step_b)
    s.train(iterations=50)
    assert same(b0, s.network.b)


def test_the_full_batch_gradient_is_what_a_full_batch_iteration_computes():
    s = make(preset="iris", batch_size=120)   # Iris: 120 training rows at test fraction 0.2
    grad_W, grad_b = s.full_batch_gradient()
    s.forward(), s.loss()
    b = s.backward()
    for full, batch in zip(grad_W + grad_b, b.grad_W + b.grad_b):
        np.testing.assert_allclose(full, batch, rtol=1e-12, atol=1e-15)   # same rows, other order


# ---- the chain rule for one weight ---------------------------------------------------------

def test_the_chain_rule_multiplies_out_to_the_gradient():
    s = make(preset="spiral", regularization={"kind": "l2", "rate": 0.01})
    s.train(iterations=5)
    for phase in ("forward", "loss", "backward"):
        s.run_phase(phase)
    c = s.chain_rule(1, 2, 3)
    back = s.trace().backward
    assert c["value"] == s.network.W[1][2, 3]
    assert c["grad"] == back.grad_W[1][2, 3] and c["grad_reg"] == pytest.approx(0.01 * c["value"], rel=1e-15)
    assert c["sum"] == pytest.approx(c["grad"], rel=1e-12)
    for row in c["samples"]:
        assert row["product"] == row["a_i"] * row["delta_j"]
        assert row["delta_j"] == pytest.approx(row["f_prime_z_j"] * row["upstream"], rel=1e-12)
        assert row["upstream"] == pytest.approx(sum(t["product"] for t in row["terms"]), rel=1e-12)
    weight_before = c["value"]
    s.update()
    assert s.chain_rule(1, 2, 3)["value"] == weight_before     # the weight the iteration used
    output = s.chain_rule(3, 0, 0)
    for row in output["samples"]:
        assert row["delta_j"] == pytest.approx(row["d_loss_d_output_j"] * row["f_prime_z_j"], rel=1e-12)
    assert s.chain_rule(0, None, 1)["sum"] == pytest.approx(s.trace().backward.grad_b[0][1], rel=1e-12)


def test_the_chain_rule_needs_a_backward_pass():
    s = make()
    s.forward()
    with pytest.raises(ConfigError, match="run forward, loss and backward first"):
        s.chain_rule(0, 0, 0)
    with pytest.raises(ConfigError, match="j must be between 0 and 3"):
        s.chain_rule(0, 0, 9)


# ---- settings changed in place, and reset ------------------------------------------------------

def test_a_learning_rate_change_applies_in_place_and_rewind_brings_the_old_one_back():
    changed, reference = make(optimizer={"name": "momentum", "learning_rate": 0.03}), make(
        optimizer={"name": "momentum", "learning_rate": 0.03})
    changed.train(iterations=10)
    reference.train(iterations=10)
    changed.forward()
    changed.set_training({"optimizer": {"learning_rate": 0.1}})
    assert changed.phase is None and changed.config.optimizer.learning_rate == 0.1
    assert np.array_equal(changed.optimizer.state["momentum_buffer"], reference.optimizer.state["momentum_buffer"])
    changed.train(iterations=5)
    assert changed.config_at(12).optimizer.learning_rate == 0.1 and changed.config_at(9).optimizer.learning_rate == 0.03
    changed.rewind(10)        # to iteration 5, before the change: the old rate, the same run as before
    assert changed.config.optimizer.learning_rate == 0.03
    changed.train(iterations=5)
    assert np.array_equal(changed.network.params, reference.network.params)


@pytest.mark.parametrize("changes, field", [
    ({"network": {"layers": [2, 3, 1]}}, "network"),
    ({"optimizer": {"name": "adam"}}, "optimizer.name"),
    ({"optimizer": {"learning_rate": -1}}, "optimizer.learning_rate"),
    ({"regularization": {"kind": "l3"}}, "regularization.kind"),
])
def test_changes_that_need_a_new_session_are_refused(changes, field):
    s = make()
    s.train(iterations=3)
    with pytest.raises(ConfigError) as err:
        s.set_training(changes)
    assert err.value.field == field and s.config.optimizer.learning_rate == 0.03


def test_reset_starts_again_with_the_same_initial_weights():
    s = make()
    initial = s.network.params.copy()
    s.train(iterations=30)
    s.reset()
    assert s.iteration == 0 and s.max_rewind == 0 and np.array_equal(s.network.params, initial)
    assert s.history().iterations.size == 0


def test_single_parameters_set_by_hand_change_the_next_step():
    s = make()
    s.edit_parameters([{"layer": 1, "i": 0, "j": 1, "value": 0.25}, {"layer": 0, "i": 2, "j": None, "value": -1.5}])
    assert s.network.W[1][0, 1] == 0.25 and s.network.b[0][2] == -1.5
    f = s.forward()
    assert f.z[1][:, 2] == pytest.approx(f.a[0] @ s.network.W[0][:, 2] - 1.5, rel=1e-15)
    with pytest.raises(ConfigError) as err:
        s.edit_parameters([{"layer": 0, "i": 5, "j": 0, "value": 1.0}])
    assert err.value.field == "edits[0].i" and s.network.b[0][2] == -1.5


def test_mini_batch_and_full_batch_gradients_are_compared_per_layer():
    s = make(preset="iris")
    c = s.compare_gradients()
    assert len(c.batch) == 16 and len(c.cosine) == 2
    assert all(-1.0 <= x <= 1.0 for x in c.cosine)
    full_W, _ = s.full_batch_gradient()
    assert np.array_equal(c.full_W[0], full_W[0])
    whole = make(preset="iris", batch_size=120).compare_gradients()
    assert whole.cosine == pytest.approx([1.0, 1.0], abs=1e-12) and whole.norm_ratio == pytest.approx([1.0, 1.0])


def test_a_first_layer_with_no_gradient_at_all_is_called_vanishing_without_dividing_by_zero():
    s = make(network={"layers": [2, 4, 1], "activation": "relu", "init": "explicit",
                      "W": [[[-1.0] * 4, [-1.0] * 4], [[1.0]] * 4], "b": [[-100.0] * 4, [0.0]]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.train(iterations=1)
        d = s.diagnostics()
    vanishing = [h for h in d.hints if h["kind"] == "vanishing"]
    assert d.layers[0, 0] == 0.0 and "vanish entirely" in vanishing[0]["message"]
    assert d.layers[0, 2] == 1.0   # every ReLU of layer 1 is dead
