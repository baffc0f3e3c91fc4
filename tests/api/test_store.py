"""Sessions outlive the process, spill out of memory and come back exactly, and expire."""
import time

import pytest
from fastapi.testclient import TestClient

from api_helpers import create, engine_for, jsonable, state_of
from app.main import create_app
from app.settings import Settings

CONFIG = {"preset": "xor", "optimizer": {"name": "adam", "learning_rate": 0.05}}


def exact(client, created, engine):
    """The stored session is the engine's: same numbers now, and the same next phase."""
    summary, network, trace = state_of(client, created)
    assert summary["iteration"] == engine.iteration and summary["phase"] == engine.phase
    assert network["W"] == jsonable(engine.network.W) and network["b"] == jsonable(engine.network.b)
    phase = engine.next_phase
    body = client.post(created.url(f"/{phase}"), headers=created.auth).json()
    expected = vars(getattr(engine, phase)())
    assert {k: body[k] for k in expected} == jsonable(expected)


def test_a_restarted_server_serves_the_session_exactly_and_accepts_its_token(tmp_path):
    settings = Settings(db=str(tmp_path / "taffy.db"))
    engine = engine_for(CONFIG)
    with TestClient(create_app(settings)) as client:
        created = create(client, CONFIG)
        client.post(created.url("/train"), headers=created.auth, json={"iterations": 7})
        client.post(created.url("/forward"), headers=created.auth)
        client.post(created.url("/loss"), headers=created.auth)
    engine.train(iterations=7)
    engine.forward()
    engine.loss()
    with TestClient(create_app(settings)) as client:
        exact(client, created, engine)


def test_sessions_spill_out_of_memory_and_come_back_exactly():
    settings = Settings(db=":memory:", max_sessions_in_memory=2)
    with TestClient(create_app(settings)) as client:
        sessions = [create(client, {**CONFIG, "seed": seed}) for seed in range(4)]
        engines = [engine_for({**CONFIG, "seed": seed}) for seed in range(4)]
        for created, engine in zip(sessions, engines):
            client.post(created.url("/train"), headers=created.auth, json={"iterations": 3})
            client.post(created.url("/forward"), headers=created.auth)
            engine.train(iterations=3)
            engine.forward()
        assert len(client.app.state.runtime.sessions) <= 2
        for created, engine in zip(sessions, engines):
            exact(client, created, engine)


def test_the_journal_is_folded_into_the_base_and_replays_exactly(tmp_path):
    settings = Settings(db=str(tmp_path / "taffy.db"), compact_after_iterations=10)
    engine = engine_for(CONFIG)
    with TestClient(create_app(settings)) as client:
        created = create(client, CONFIG)
        for _ in range(6):
            client.post(created.url("/train"), headers=created.auth, json={"iterations": 4})
            client.post(created.url("/forward"), headers=created.auth)
            engine.train(iterations=4)
            engine.forward()
        client.post(created.url("/rewind"), headers=created.auth, json={"iterations": 5})
        engine.rewind(5)
        stored = client.app.state.runtime.store.load(created.id)
        assert stored.base_seq > 0 and len(stored.journal) < 12
    with TestClient(create_app(settings)) as client:
        exact(client, created, engine)


def test_idle_sessions_expire_unless_followed():
    # long enough that a loaded machine still connects the follower before the first sweep
    settings = Settings(db=":memory:", idle_expiry_seconds=0.5)
    with TestClient(create_app(settings)) as client:
        watched = create(client)
        with client.websocket_connect(watched.url("/ws")) as ws:
            assert ws.receive_json()["type"] == "snapshot"
            idle = create(client)
            sessions = client.app.state.runtime.sessions
            for _ in range(200):   # the sweep runs every expiry / 4; a request would count as use
                if idle.id not in sessions.live_ids():
                    break
                time.sleep(0.05)
            assert client.get(idle.url()).status_code == 404
            assert client.get(watched.url()).status_code == 200


@pytest.mark.parametrize("name", ["max_layers", "frame_rate"])
def test_settings_come_from_the_environment(name):
    settings = Settings.from_env({f"TAFFY_{name.upper()}": "7"})
    assert getattr(settings, name) == 7
    with pytest.raises(ValueError, match=f"TAFFY_{name.upper()}"):
        Settings.from_env({f"TAFFY_{name.upper()}": "lots"})
    with pytest.raises(ValueError):
        Settings.from_env({f"TAFFY_{name.upper()}": "0"})


def test_a_long_train_cut_into_turns_replays_as_one_call(tmp_path):
    settings = Settings(db=str(tmp_path / "taffy.db"))
    engine = engine_for(CONFIG)
    with TestClient(create_app(settings)) as client:
        created = create(client, CONFIG)
        client.post(created.url("/forward"), headers=created.auth)
        client.post(created.url("/train"), headers=created.auth, json={"iterations": 1500})
    engine.forward()
    engine.train(iterations=1500)
    with TestClient(create_app(settings)) as client:
        exact(client, created, engine)
