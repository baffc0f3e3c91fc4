"""What can be created, with which options and limits."""
from dataclasses import asdict

from app import __version__
from app.settings import Settings
from engine import DATASETS, PRESETS
from engine.config import ACTIVATIONS, LOSSES, OPTIMIZERS

from api_helpers import create


def test_health(client):
    assert client.get("/api/health").json() == {"status": "ok", "version": __version__}


def test_presets_list_every_preset_with_its_full_config_options_and_limits(client, settings):
    body = client.get("/api/presets").json()
    assert body["default"] == "circle"
    names = [p["name"] for p in body["presets"]]
    assert names == list(PRESETS)
    assert {"xor", "circle", "spiral", "iris", "curve"} <= set(names)
    circle = next(p for p in body["presets"] if p["name"] == "circle")
    assert circle["config"]["network"]["layers"] == [2, 4, 2, 1]
    assert circle["config"]["network"]["activation"] == "tanh"
    assert body["options"]["activations"] == list(ACTIVATIONS)
    assert body["options"]["losses"] == list(LOSSES)
    assert body["options"]["optimizers"] == list(OPTIMIZERS)
    assert body["options"]["datasets"] == list(DATASETS)
    expected = {k: v for k, v in asdict(settings).items() if k != "db"}
    assert body["limits"] == expected


def test_limits_follow_the_settings(client):
    from fastapi.testclient import TestClient
    from app.main import create_app
    with TestClient(create_app(Settings(db=":memory:", max_neurons=5, max_resolution=50))) as small:
        limits = small.get("/api/presets").json()["limits"]
        assert limits["max_neurons"] == 5 and limits["max_resolution"] == 50
        response = small.post("/api/sessions", json={"network": {"layers": [2, 6, 1]}})
        assert response.status_code == 422
        assert response.json()["errors"] == [{"field": "network.layers[1]", "rule": "must be between 1 and 5"}]


def test_every_preset_creates_a_session_with_its_config(client):
    for preset in client.get("/api/presets").json()["presets"]:
        created = create(client, {"preset": preset["name"]})
        assert created.body["config"] == preset["config"]
        assert created.body["iteration"] == 0 and created.body["next_phase"] == "forward"


def test_datasets(client):
    body = client.get("/api/datasets").json()
    assert [d["name"] for d in body["datasets"]] == list(DATASETS)
    iris = next(d for d in body["datasets"] if d["name"] == "iris")
    assert (iris["n_features"], iris["n_classes"], iris["task"]) == (4, 3, "classification")
    assert "Fisher" in iris["source"]


def test_the_create_schema_covers_every_config_field_of_the_engine():
    from dataclasses import fields

    from app import schemas
    from engine import config

    pairs = [(config.Config, schemas.ConfigIn), (config.DataConfig, schemas.DataIn),
             (config.NetworkConfig, schemas.NetworkIn), (config.OptimizerConfig, schemas.OptimizerIn),
             (config.RegularizationConfig, schemas.RegularizationIn)]
    for engine_class, model in pairs:
        assert {f.name for f in fields(engine_class)} == set(model.model_fields), model.__name__
