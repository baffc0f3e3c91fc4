"""Debugging over REST: breakpoints, layer steps, time travel, diagnostics, settings and
weights changed in place, reset, the full-batch gradient — each against the engine's numbers."""
import pytest

from api_helpers import create, engine_for, jsonable, network_of, receive_until, state_of

# A linear network at a learning rate far too high: its weights blow up within a few iterations.
EXPLODING = {"preset": "curve", "network": {"layers": [1, 8, 1], "activation": "linear", "output_activation": "linear"},
             "optimizer": {"name": "sgd", "learning_rate": 0.5}}
# Five sigmoid layers: the first layer's gradient is a thousandth of the last one's.
DEEP_SIGMOID = {"preset": "xor", "network": {"layers": [2, 8, 8, 8, 8, 8, 1], "activation": "sigmoid",
                                             "output_activation": "sigmoid"}}
# Positive inputs into all-negative weights: every hidden ReLU is 0 on every sample.
DEAD_RELU = {"data": {"name": "custom", "X": [[1, 2], [2, 1], [1, 1], [2, 2]], "y": [0, 1, 1, 0], "test_fraction": 0},
             "network": {"layers": [2, 4, 1], "activation": "relu", "output_activation": "sigmoid",
                         "init": "uniform", "init_range": [-1.0, -0.1]},
             "loss": "bce", "batch_size": 4}
THREE_LAYERS = {"preset": "circle", "optimizer": {"name": "adam", "learning_rate": 0.01}}


def test_a_nan_stops_train_where_the_engine_does_and_rewind_recovers(client):
    created = create(client, EXPLODING)
    engine = engine_for(EXPLODING)
    expected = engine.train(iterations=500)
    body = client.post(created.url("/train"), headers=created.auth, json={"iterations": 500}).json()
    assert body["stopped_by"] == "diverged" and body["iterations_run"] == expected.iterations_run
    assert body["breakpoint"] == {"epoch": engine.epoch, **expected.breakpoint}
    assert body["breakpoint"]["kind"] == "nan" and body["session"]["status"] == "diverged"
    # back to before it went wrong, a lower learning rate, and on it goes
    back = body["session"]["max_rewind"]
    assert client.post(created.url("/rewind"), headers=created.auth, json={"iterations": back}).json()["status"] == "ok"
    client.patch(created.url("/config"), headers=created.auth, json={"optimizer": {"learning_rate": 0.01}})
    body = client.post(created.url("/train"), headers=created.auth, json={"iterations": 50}).json()
    assert body["stopped_by"] is None and body["breakpoint"] is None and body["session"]["status"] == "ok"


def test_a_deep_sigmoid_network_trips_the_vanishing_gradient_breakpoint(client):
    created = create(client, DEEP_SIGMOID)
    conditions = {"grad_norm_below": 1e-3, "grad_norm_iterations": 3}
    engine = engine_for(DEEP_SIGMOID)
    engine.set_breakpoints(conditions)
    expected = engine.train(iterations=200)
    body = client.post(created.url("/train"), headers=created.auth,
                       json={"iterations": 200, "breakpoints": conditions}).json()
    assert body["stopped_by"] == "breakpoint" and body["iterations_run"] == expected.iterations_run
    assert body["breakpoint"] == expected.breakpoint
    assert body["breakpoint"]["kind"] == "grad_norm_below" and body["breakpoint"]["layer"] == 0
    assert client.get(created.url("/breakpoints")).json() == {"breakpoints": engine.breakpoints.to_dict()}
    hints = client.get(created.url("/diagnostics")).json()["hints"]
    assert "vanishing" in [h["kind"] for h in hints]


@pytest.mark.parametrize("conditions, kind", [
    ({"loss_below": 0.69}, "loss_below"), ({"at_iteration": 4}, "at_iteration"), ({"at_epoch": 1}, "at_epoch"),
    ({"loss_rising": 2}, "loss_rising"), ({"grad_norm_above": 0.01}, "grad_norm_above"),
    ({"watch": {"layer": 1, "i": 0, "j": None, "value": -0.1}}, "watch"),
])
def test_each_breakpoint_stops_train_where_the_engine_does(client, conditions, kind):
    created = create(client)
    client.put(created.url("/breakpoints"), headers=created.auth, json=conditions).raise_for_status()
    engine = engine_for({"preset": "xor"})
    engine.set_breakpoints(conditions)
    expected = engine.train(iterations=400)
    body = client.post(created.url("/train"), headers=created.auth, json={"iterations": 400}).json()
    assert expected.stopped_by == "breakpoint" and body["breakpoint"]["kind"] == kind
    assert body["breakpoint"] == expected.breakpoint and body["iterations_run"] == expected.iterations_run
    assert client.get(created.url("/network")).json() == network_of(engine)


def test_breakpoints_are_checked_cleared_and_a_refusal_changes_nothing(client, xor):
    client.put(xor.url("/breakpoints"), headers=xor.auth, json={"loss_below": 0.5}).raise_for_status()
    bad = client.put(xor.url("/breakpoints"), headers=xor.auth, json={"watch": {"layer": 5, "i": 0, "value": 1.0}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "breakpoints.watch.layer"
    assert client.put(xor.url("/breakpoints"), headers=xor.auth, json={"loss_below": -1}).status_code == 422
    assert client.get(xor.url("/breakpoints")).json()["breakpoints"]["loss_below"] == 0.5
    cleared = client.put(xor.url("/breakpoints"), headers={**xor.auth, "Content-Type": "application/json"},
                         content=b"null")
    assert cleared.json() == {"breakpoints": None}


def test_a_dead_relu_network_gets_the_dead_unit_hint(client):
    created = create(client, DEAD_RELU)
    assert client.get(created.url("/diagnostics")).json() == {
        "iteration": None, "columns": ["grad_norm", "update_ratio", "dead_fraction", "saturated_fraction"],
        "layers": [], "hints": []}
    client.post(created.url("/train"), headers=created.auth, json={"iterations": 3})
    body = client.get(created.url("/diagnostics")).json()
    engine = engine_for(DEAD_RELU)
    engine.train(iterations=3)
    expected = engine.diagnostics()
    dead = next(h for h in body["hints"] if h["kind"] == "dead_relu")
    assert dead["layer"] == 1 and dead["numbers"] == {"dead_fraction": 1.0, "units": 4}
    assert body["hints"] == jsonable(expected.hints) and body["iteration"] == expected.iteration == 2
    assert body["layers"][0][2] == 1.0 and body["layers"][0][3] is None   # saturation: not for relu


@pytest.mark.parametrize("phase, steps", [("forward", [1, 1, 1]), ("forward", [2, 3]), ("backward", [1, 2])])
def test_layer_steps_equal_the_whole_phase(client, phase, steps):
    created = create(client, THREE_LAYERS)
    engine = engine_for(THREE_LAYERS)
    while engine.next_phase != phase:
        client.post(created.url(f"/{engine.next_phase}"), headers=created.auth)
        engine.run_phase(engine.next_phase)
    whole = vars(engine.run_phase(phase))
    done = 0
    for n in steps:
        body = client.post(created.url(f"/{phase}"), headers=created.auth, json={"layers": n}).json()
        done = min(3, done + n)
        finished = done == 3
        assert body["next_phase"] == ("loss" if phase == "forward" else "update") if finished else phase
        assert body["layer"] == (done if phase == "forward" else 3 - done)
        assert client.get(created.url()).json()["layer"] == (None if finished else body["layer"])
    assert {k: body[k] for k in whole} == jsonable(whole)


def test_a_layer_step_is_checked(client, xor):
    before = state_of(client, xor)
    assert client.post(xor.url("/forward"), headers=xor.auth, json={"layers": 3}).status_code == 422
    assert client.post(xor.url("/forward"), headers=xor.auth, json={"layers": 0}).status_code == 422
    assert state_of(client, xor) == before


def test_a_past_iteration_is_served_exactly_and_changes_nothing(client):
    created = create(client, THREE_LAYERS)
    client.post(created.url("/train"), headers=created.auth, json={"iterations": 20})
    client.post(created.url("/forward"), headers=created.auth)
    before = state_of(client, created)
    past = client.get(created.url("/history/12")).json()
    assert state_of(client, created) == before
    engine = engine_for(THREE_LAYERS)
    engine.train(iterations=12)
    assert past["network"] == {k: jsonable(v) for k, v in vars(engine.network_state()).items() if k in ("layers", "W", "b")}
    assert past["metrics"] == jsonable(vars(engine.metrics()))
    assert client.get(created.url("/boundary?resolution=5&iteration=12")).json() == jsonable(vars(engine.boundary(5)))
    for phase in ("forward", "loss", "backward", "update"):
        engine.run_phase(phase)
    assert past["trace"] == jsonable({k: vars(v) if hasattr(v, "__dict__") else v for k, v in vars(engine.trace()).items()})
    # resuming from there is the same iteration again
    client.post(created.url("/rewind"), headers=created.auth, json={"iterations": 8})
    for phase in ("forward", "loss", "backward", "update"):
        client.post(created.url(f"/{phase}"), headers=created.auth)
    assert client.get(created.url("/trace")).json() == past["trace"]
    outside = client.get(created.url("/history/21"))
    assert outside.status_code == 409 and outside.json()["max_rewind"] == 13
    assert "between" in outside.json()["errors"][0]["rule"]


def test_settings_change_in_place_and_rewind_brings_them_back(client, xor):
    with client.websocket_connect(xor.url("/ws")) as ws:
        ws.receive_json()
        client.post(xor.url("/train"), headers=xor.auth, json={"iterations": 5})
        changed = client.patch(xor.url("/config"), headers=xor.auth,
                               json={"optimizer": {"learning_rate": 0.5}, "freeze_biases": True})
        assert changed.status_code == 200 and changed.json()["id"] == xor.id
        config = changed.json()["config"]
        assert config["optimizer"]["learning_rate"] == 0.5 and config["freeze_biases"] is True
        state = receive_until(ws, "state", "config")[-1]
        assert state["session"] == changed.json()
    engine = engine_for({"preset": "xor"})
    engine.train(iterations=5)
    engine.set_training({"optimizer": {"learning_rate": 0.5}, "freeze_biases": True})
    client.post(xor.url("/train"), headers=xor.auth, json={"iterations": 3})
    engine.train(iterations=3)
    assert client.get(xor.url("/network")).json() == network_of(engine)
    rewound = client.post(xor.url("/rewind"), headers=xor.auth, json={"iterations": 6}).json()
    assert rewound["config"]["optimizer"]["learning_rate"] == 0.1 and rewound["config"]["freeze_biases"] is False


@pytest.mark.parametrize("change, field", [
    ({"loss": "mse"}, "loss"), ({"batch_size": 5}, "batch_size"), ({"optimizer": {"name": "adam"}}, "optimizer.name"),
    ({"optimizer": {"learning_rate": -1.0}}, "optimizer.learning_rate"), ({"eval_every": True}, "eval_every"),
])
def test_a_change_that_needs_a_new_session_is_refused_and_changes_nothing(client, xor, change, field):
    before = state_of(client, xor)
    response = client.patch(xor.url("/config"), headers=xor.auth, json=change)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == field
    if field in ("loss", "batch_size", "optimizer.name"):
        assert "new session" in response.json()["detail"]
    assert state_of(client, xor) == before


def test_single_weights_are_set_by_hand(client, xor):
    client.post(xor.url("/forward"), headers=xor.auth)
    edits = [{"layer": 0, "i": 1, "j": 2, "value": 0.75}, {"layer": 1, "i": 0, "j": None, "value": -0.5}]
    body = client.patch(xor.url("/network"), headers=xor.auth, json={"edits": edits}).json()
    assert body["W"][0][1][2] == 0.75 and body["b"][1][0] == -0.5
    assert client.get(xor.url()).json()["phase"] is None   # the iteration in progress was dropped
    before = state_of(client, xor)
    bad = client.patch(xor.url("/network"), headers=xor.auth, json={"edits": [*edits, {"layer": 0, "i": 9, "j": 0, "value": 1}]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "edits[2].i"
    assert state_of(client, xor) == before


def test_reset_starts_again_in_place(client, xor):
    client.put(xor.url("/breakpoints"), headers=xor.auth, json={"at_iteration": 50})
    client.post(xor.url("/train"), headers=xor.auth, json={"iterations": 7})
    body = client.post(xor.url("/reset"), headers=xor.auth).json()
    assert body["id"] == xor.id and body["iteration"] == 0 and body["max_rewind"] == 0
    assert client.get(xor.url("/network")).json() == network_of(engine_for({"preset": "xor"}))
    assert client.get(xor.url("/history")).json()["iterations"] == []
    assert client.get(xor.url("/breakpoints")).json()["breakpoints"]["at_iteration"] == 50


def test_the_full_batch_gradient_beside_the_mini_batch_one(client):
    created = create(client, THREE_LAYERS)
    client.post(created.url("/train"), headers=created.auth, json={"iterations": 4})
    body = client.get(created.url("/full_gradient")).json()
    engine = engine_for(THREE_LAYERS)
    engine.train(iterations=4)
    c = engine.compare_gradients()
    assert body == jsonable({"batch": c.batch, "full": {"grad_W": c.full_W, "grad_b": c.full_b},
                             "mini_batch": {"grad_W": c.batch_W, "grad_b": c.batch_b},
                             "cosine": c.cosine, "norm_ratio": c.norm_ratio})


def test_the_network_shows_adams_bias_corrected_moments(client):
    created = create(client, THREE_LAYERS)
    client.post(created.url("/train"), headers=created.auth, json={"iterations": 2})
    state = client.get(created.url("/network")).json()["optimizer_state"]
    assert state["step"] == 2 and {"exp_avg_hat_W", "exp_avg_sq_hat_b"} <= set(state)
