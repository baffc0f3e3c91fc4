"""The phases over REST give exactly the engine's numbers; order, train, rewind, network."""
import pytest

from api_helpers import create, engine_for, jsonable, network_of, state_of
from engine.trace import ForwardResult

CONFIG = {"preset": "xor", "regularization": {"kind": "l2", "rate": 0.01},
          "optimizer": {"name": "adam", "learning_rate": 0.05}}


def body_of(result) -> dict:
    return {k: jsonable(v) for k, v in vars(result).items()}


def test_each_phase_returns_the_engines_numbers(client):
    created = create(client, CONFIG)
    engine = engine_for(CONFIG)
    for iteration in range(3):
        for phase, next_phase in (("forward", "loss"), ("loss", "backward"), ("backward", "update"),
                                  ("update", "forward")):
            response = client.post(created.url(f"/{phase}"), headers=created.auth)
            assert response.status_code == 200, response.text
            body = response.json()
            expected = body_of(getattr(engine, phase)())
            assert {k: body[k] for k in expected} == expected
            assert body["next_phase"] == next_phase
            assert body["phase"] == (None if phase == "update" else phase)
            assert body["iteration"] == iteration
    summary = client.get(created.url()).json()
    assert summary["iteration"] == 3
    assert summary["metrics"] == jsonable(vars(engine.metrics()))
    assert client.get(created.url("/network")).json() == network_of(engine)


def test_phase_bodies_have_the_documented_shapes(client, xor):
    forward = client.post(xor.url("/forward"), headers=xor.auth).json()
    assert forward["z"][0] is None and len(forward["a"][0]) == len(forward["batch"]) == 10
    assert [len(a[0]) for a in forward["a"]] == [2, 3, 1]
    loss = client.post(xor.url("/loss"), headers=xor.auth).json()
    assert len(loss["sample_losses"]) == 10 and loss["regularization_loss"] == 0
    assert len(loss["targets"]) == 10 and loss["targets"][0][0] in (0.0, 1.0)
    backward = client.post(xor.url("/backward"), headers=xor.auth).json()
    assert backward["delta"][0] is None and backward["grad_W_reg"] is None
    assert [len(g) for g in backward["grad_W"]] == [2, 3]
    update = client.post(xor.url("/update"), headers=xor.auth).json()
    assert update["optimizer_state"] == {}
    for w, step in zip(update["W"], update["step_W"]):
        assert len(w) == len(step)


def test_a_phase_out_of_order_is_a_409_naming_the_expected_one(client, xor):
    before = state_of(client, xor)
    response = client.post(xor.url("/backward"), headers=xor.auth)
    assert response.status_code == 409
    assert response.json()["expected"] == "forward"
    assert "forward" in response.json()["detail"]
    assert state_of(client, xor) == before


def test_train_iterations_and_epochs(client):
    created = create(client, CONFIG)
    engine = engine_for(CONFIG)
    client.post(created.url("/forward"), headers=created.auth)
    engine.forward()
    response = client.post(created.url("/train"), headers=created.auth, json={"iterations": 25})
    assert response.status_code == 200
    engine.train(iterations=25)
    assert response.json()["iterations_run"] == 25
    assert response.json()["session"]["iteration"] == 25
    response = client.post(created.url("/train"), headers=created.auth, json={"epochs": 2})
    engine.train(epochs=2)
    body = response.json()
    assert body["session"]["epoch"] == engine.epoch and body["session"]["batch_in_epoch"] == 0
    assert body["iterations_run"] == engine.iteration - 25
    assert client.get(created.url("/network")).json() == network_of(engine)
    assert client.get(created.url("/history")).json()["batch_loss"] == jsonable(engine.history().batch_loss)


@pytest.mark.parametrize("body, status, field", [
    ({}, 422, "iterations"), ({"iterations": 1, "epochs": 1}, 422, "iterations"),
    ({"iterations": 0}, 422, "iterations"), ({"iterations": True}, 422, "iterations"),
    ({"iterations": 10**6}, 413, "iterations"), ({"epochs": 10**5}, 413, "epochs"),
])
def test_bad_train_bodies(client, xor, body, status, field):
    before = state_of(client, xor)
    response = client.post(xor.url("/train"), headers=xor.auth, json=body)
    assert response.status_code == status
    assert response.json()["errors"][0]["field"] == field
    assert state_of(client, xor) == before


def test_rewind_is_exact(client, xor):
    client.post(xor.url("/train"), headers=xor.auth, json={"iterations": 5})
    before = state_of(client, xor)
    client.post(xor.url("/train"), headers=xor.auth, json={"iterations": 7})
    client.post(xor.url("/forward"), headers=xor.auth)
    response = client.post(xor.url("/rewind"), headers=xor.auth, json={"iterations": 7})
    assert response.status_code == 200
    assert response.json()["iteration"] == 5
    after = state_of(client, xor)
    assert (after[1]["W"], after[1]["b"]) == (before[1]["W"], before[1]["b"])
    assert after[0] == before[0]


def test_rewind_zero_drops_the_iteration_in_progress(client, xor):
    client.post(xor.url("/forward"), headers=xor.auth)
    body = client.post(xor.url("/rewind"), headers=xor.auth, json={"iterations": 0}).json()
    assert body["phase"] is None and body["next_phase"] == "forward"


def test_rewinding_too_far_is_a_409_with_max_rewind_and_changes_nothing(client, xor):
    client.post(xor.url("/train"), headers=xor.auth, json={"iterations": 3})
    before = state_of(client, xor)
    response = client.post(xor.url("/rewind"), headers=xor.auth, json={"iterations": 4})
    assert response.status_code == 409
    assert response.json()["max_rewind"] == 3
    assert state_of(client, xor) == before
    assert client.post(xor.url("/rewind"), headers=xor.auth, json={"iterations": -1}).status_code == 422


def test_put_network_sets_every_weight(client, xor):
    client.post(xor.url("/forward"), headers=xor.auth)
    W = [[[0.5, -0.25, 0.125], [1.0, 2.0, -3.0]], [[0.1], [0.2], [0.3]]]
    b = [[0.0, 0.1, -0.1], [0.5]]
    response = client.put(xor.url("/network"), headers=xor.auth, json={"W": W, "b": b})
    assert response.status_code == 200
    assert response.json()["W"] == W and response.json()["b"] == b
    summary = client.get(xor.url()).json()
    assert summary["phase"] is None   # the iteration in progress was dropped
    assert client.get(xor.url("/network")).json()["W"] == W


@pytest.mark.parametrize("W, b, field", [
    ([[[0.5, 0.5, 0.5]]], [[0, 0, 0], [0]], "W"),
    ([[[0.5, 0.5], [1, 1]], [[0.1], [0.2], [0.3]]], [[0, 0, 0], [0]], "W[0]"),
    ([[[0.5, 0.5, 0.5], [1, 1, 1]], [[0.1], [0.2], [0.3]]], [[0, 0, 0], [True]], "b[1][0]"),
])
def test_put_network_refuses_wrong_shapes_and_changes_nothing(client, xor, W, b, field):
    before = state_of(client, xor)
    response = client.put(xor.url("/network"), headers=xor.auth, json={"W": W, "b": b})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert state_of(client, xor) == before


def test_trace_between_and_during_iterations(client, xor):
    empty = client.get(xor.url("/trace")).json()
    assert empty == {"iteration": 0, "forward": None, "loss": None, "backward": None, "update": None}
    forward = client.post(xor.url("/forward"), headers=xor.auth).json()
    trace = client.get(xor.url("/trace")).json()
    assert trace["forward"] == {k: v for k, v in forward.items() if k not in ("phase", "next_phase")}
    assert trace["loss"] is None


def test_history_since(client, xor):
    client.post(xor.url("/train"), headers=xor.auth, json={"iterations": 30})
    full = client.get(xor.url("/history")).json()
    assert full["iterations"] == list(range(1, 31))
    assert [e["iteration"] for e in full["evaluations"]] == [10, 20, 30]
    tail = client.get(xor.url("/history?since=25")).json()
    assert tail["iterations"] == [26, 27, 28, 29, 30] and tail["batch_loss"] == full["batch_loss"][25:]


def test_predict_gives_the_engines_outputs(client, xor):
    X = [[0.5, -1.0], [2.0, 3.0], [-4.0, 4.0]]
    body = client.post(xor.url("/predict"), json={"X": X}).json()
    expected = engine_for({"preset": "xor"}).predict(X)
    assert body["outputs"] == jsonable(expected.outputs)
    assert body["a"] == jsonable(expected.a) and body["z"] == jsonable(expected.z)
    assert client.post(xor.url("/predict"), json={"X": [[1, 2, 3]]}).status_code == 422
    assert client.post(xor.url("/predict"), json={"X": [["a", 2]]}).status_code == 422


def test_boundary(client, xor, settings):
    body = client.get(xor.url("/boundary?resolution=7")).json()
    expected = engine_for({"preset": "xor"}).boundary(7)
    assert body["resolution"] == 7 and len(body["outputs"][0]) == 49
    assert body["outputs"] == jsonable(expected.outputs)
    assert body["neurons"][0] is None and len(body["neurons"][1]) == 3
    assert body["x_range"] == list(expected.x_range)
    too_big = client.get(xor.url(f"/boundary?resolution={settings.max_resolution + 1}"))
    assert too_big.status_code == 413 and too_big.json()["errors"][0]["field"] == "resolution"
    assert client.get(xor.url("/boundary?resolution=1")).status_code == 422
    iris = create(client, {"preset": "iris"})
    assert client.get(iris.url("/boundary")).status_code == 422   # four inputs


def test_gradcheck(client, xor):
    body = client.get(xor.url("/gradcheck")).json()
    assert body["max_relative_error"] < 1e-5
    entry = body["W"][0][1][2]
    assert set(entry) == {"analytic", "numerical", "relative_error"}
    assert len(body["W"]) == 2 and len(body["b"][1]) == 1
    expected = engine_for({"preset": "xor"}).gradcheck()
    assert entry["analytic"] == expected.analytic_W[0][1][2]


def test_export_and_import_round_trip_exactly(client):
    created = create(client, CONFIG)
    client.post(created.url("/train"), headers=created.auth, json={"iterations": 12})
    client.post(created.url("/forward"), headers=created.auth)
    client.post(created.url("/loss"), headers=created.auth)
    document = client.get(created.url("/export")).json()
    response = client.post("/api/sessions/import", json=document)
    assert response.status_code == 201
    copy = response.json()
    assert copy["id"] != created.id and copy["token"] != created.token
    original, imported = state_of(client, created), state_of(client, type(created)(copy["id"], copy["token"], copy))
    assert {k: v for k, v in original[0].items() if k != "id"} == {k: v for k, v in imported[0].items() if k != "id"}
    assert (original[1]["W"], original[1]["b"]) == (imported[1]["W"], imported[1]["b"])
    assert original[2] == imported[2]
    # and both go on the same way
    a = client.post(created.url("/backward"), headers=created.auth).json()
    b = client.post(f"/api/sessions/{copy['id']}/backward", headers={"Authorization": f"Bearer {copy['token']}"}).json()
    assert a == b


@pytest.mark.parametrize("document", [
    {"format": "taffy-session", "version": 1},
    {"format": "other", "version": 1},
    {"format": "taffy-session", "version": 99, "config": {}},
    [],
])
def test_import_refuses_what_is_not_a_session(client, document):
    response = client.post("/api/sessions/import", json=document)
    assert response.status_code == 422
    assert response.json()["errors"]


def test_a_forged_document_cannot_allocate_without_bound(client, xor):
    document = client.get(xor.url("/export")).json()
    document["ring"]["capacity"] = 10**15
    document["log"]["max_rows"] = 0
    response = client.post("/api/sessions/import", json=document)
    assert response.status_code in (201, 422)
    if response.status_code == 201:   # the server's own limits were used
        imported = response.json()
        client.post(f"/api/sessions/{imported['id']}/train", json={"iterations": 3},
                    headers={"Authorization": f"Bearer {imported['token']}"}).raise_for_status()


def test_divergence_is_reported_with_non_finite_numbers_as_strings(client):
    created = create(client, {"preset": "curve"})
    network = client.get(created.url("/network")).json()
    huge = {"W": [[[1e200] * len(row) for row in W] for W in network["W"]], "b": network["b"]}
    client.put(created.url("/network"), headers=created.auth, json=huge).raise_for_status()
    client.post(created.url("/forward"), headers=created.auth).raise_for_status()
    loss = client.post(created.url("/loss"), headers=created.auth).json()
    assert loss["loss"] == "Infinity"            # JSON has no inf; never null
    session = client.get(created.url()).json()
    assert session["status"] == "diverged"
    assert session["divergence"]["phase"] == "loss" and session["metrics"]["train_loss"] == "Infinity"
    conflict = client.post(created.url("/backward"), headers=created.auth)
    assert conflict.status_code == 409 and conflict.json()["divergence"] == session["divergence"]
    assert client.post(created.url("/train"), headers=created.auth, json={"iterations": 1}).status_code == 409
    assert client.post(created.url("/rewind"), headers=created.auth, json={"iterations": 0}).status_code == 200
    assert client.get(created.url()).json()["status"] == "ok"


def test_forward_result_fields_are_all_sent(client, xor):
    body = client.post(xor.url("/forward"), headers=xor.auth).json()
    assert set(ForwardResult.__dataclass_fields__) <= set(body)
