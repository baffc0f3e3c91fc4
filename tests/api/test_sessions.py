"""Creating, reading and deleting sessions; every bad config is a 4xx naming the field."""
import pytest

from api_helpers import create, engine_for, jsonable


def test_create_returns_the_summary_and_a_token(client):
    created = create(client, {"preset": "circle"})
    body = created.body
    assert len(created.token) >= 32 and len(created.id) >= 16
    assert body["phase"] is None and body["next_phase"] == "forward"
    assert (body["iteration"], body["epoch"], body["batch_in_epoch"]) == (0, 0, 0)
    assert body["batches_per_epoch"] == 10      # 100 training points, batch 10
    assert body["status"] == "ok" and body["divergence"] is None and body["playing"] is False
    assert body["task"] == "classification" and body["max_rewind"] == 0
    engine = engine_for({"preset": "circle"})
    assert body["metrics"] == jsonable(vars(engine.metrics()))
    assert client.get(created.url()).json() == {k: v for k, v in body.items() if k != "token"}


def test_explicit_fields_override_the_preset(client):
    body = create(client, {"preset": "xor", "optimizer": {"name": "adam", "learning_rate": 0.01},
                           "network": {"layers": [2, 5, 1]}, "seed": 4}).body
    assert body["config"]["optimizer"]["name"] == "adam"
    assert body["config"]["network"]["layers"] == [2, 5, 1]
    assert body["config"]["network"]["output_activation"] == "sigmoid"   # from the preset
    assert body["config"]["seed"] == 4


def test_no_body_makes_the_default_preset(client):
    response = client.post("/api/sessions")
    assert response.status_code == 201
    assert response.json()["config"]["network"]["layers"] == [2, 4, 2, 1]


def test_an_exported_config_creates_the_same_session(client):
    created = create(client, {"preset": "xor", "freeze_biases": True, "eval_every": 5})
    config = client.get(created.url("/export")).json()["config"]
    assert config["data"]["X"] is None and config["network"]["W"] is None   # as the export has them
    again = client.post("/api/sessions", json=config)
    assert again.status_code == 201, again.text
    assert again.json()["config"] == created.body["config"]
    assert again.json()["config"]["freeze_biases"] is True and again.json()["config"]["eval_every"] == 5


def test_custom_data(client):
    config = {"data": {"name": "custom", "X": [[0, 0], [0, 1], [1, 0], [1, 1]], "y": [0, 1, 1, 0], "test_fraction": 0},
              "network": {"layers": [2, 2, 1], "activation": "sigmoid", "output_activation": "sigmoid"},
              "loss": "bce", "batch_size": 4}
    created = create(client, config)
    assert "X" not in created.body["config"]["data"]     # rows are served by /data
    data = client.get(created.url("/data")).json()
    assert data["X_train"] == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert data["y_train"] == [0, 1, 1, 0]
    assert data["targets_train"] == [[0], [1], [1], [0]]
    assert data["task"] == "classification"


@pytest.mark.parametrize("config, field, rule", [
    ({"network": {"layers": [2, 65, 1]}}, "network.layers[1]", "must be between 1 and 64"),
    ({"network": {"layers": [2, 4, 1], "output_activation": "softmax"}, "loss": "cross_entropy"},
     "network.layers[-1]", "must be at least 2 for a softmax output"),
    ({"network": {"layers": [3, 4, 1]}}, "network.layers[0]", "must be 2, the data's input columns"),
    ({"optimizer": {"learning_rate": False}}, "optimizer.learning_rate", "must be a valid number"),
    ({"batch_size": 1.5}, "batch_size", "must be a valid integer"),
    ({"batch_size": "10"}, "batch_size", "must be a valid integer"),
    ({"nonsense": 1}, "nonsense", "is not a known field"),
    ({"network": {"activation": "swish"}}, "network.activation", None),
    ({"preset": "nope"}, "preset", None),
    ({"data": {"name": "custom", "X": [[1, 2], [3, 4]], "y": [1, 2, 3]}}, "data.y", None),
    ({"data": {"name": "circle", "samples": 0}}, "data.samples", None),
])
def test_a_bad_config_is_a_422_naming_the_field(client, config, field, rule):
    response = client.post("/api/sessions", json=config)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["errors"][0]["field"] == field
    if rule is not None:
        assert body["errors"][0]["rule"] == rule
    assert body["detail"].startswith(field)


@pytest.mark.parametrize("raw", [b"{", b'{"seed": NaN}', b'{"seed": Infinity}', b'{"seed": 1e999}', b"\xff"])
def test_malformed_json_is_a_400(client, raw):
    response = client.post("/api/sessions", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "body"


def test_too_many_rows_or_bytes_is_a_413(client, settings):
    rows = [[0.0, 0.0]] * (settings.max_rows + 1)
    response = client.post("/api/sessions", json={"data": {"name": "custom", "X": rows, "y": [0] * len(rows)}})
    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "data.X"
    response = client.post("/api/sessions", content=b" " * (settings.max_body_bytes + 1),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "body"


def test_delete(client, xor):
    assert client.delete(xor.url(), headers=xor.auth).status_code == 204
    assert client.get(xor.url()).status_code == 404
    assert client.delete(xor.url(), headers=xor.auth).status_code == 404


def test_unknown_session_is_a_404_everywhere(client):
    for method, path in [("get", ""), ("get", "/network"), ("get", "/trace"), ("get", "/history"),
                         ("get", "/boundary"), ("get", "/gradcheck"), ("get", "/export"), ("get", "/data"),
                         ("post", "/forward"), ("post", "/train"), ("delete", "")]:
        response = getattr(client, method)(f"/api/sessions/nope{path}")
        assert response.status_code == 404, path
        assert "no session" in response.json()["detail"]


def test_unknown_routes_and_methods_keep_the_error_shape(client, xor):
    assert client.get("/api/nothing").json() == {"detail": "Not Found", "errors": []}
    response = client.get(xor.url("/forward"))
    assert response.status_code == 405 and response.json()["errors"] == []
