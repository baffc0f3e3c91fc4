"""Debugging over the websocket and across restarts: layer steps, play stopping on a
breakpoint, frames with activations, and every debugging change surviving a restart."""
from fastapi.testclient import TestClient

from api_helpers import create, engine_for, jsonable, network_of, receive_until, state_of
from app.main import create_app
from app.settings import Settings

CONFIG = {"preset": "circle", "optimizer": {"name": "adam", "learning_rate": 0.01}}


def authorise(socket, created):
    """Past the snapshot, with the token."""
    socket.receive_json()
    socket.send_json({"type": "auth", "token": created.token})
    assert socket.receive_json()["ok"] is True


def test_layer_steps_over_the_websocket_equal_the_whole_phase(client):
    created = create(client, CONFIG)
    engine = engine_for(CONFIG)
    whole = engine.forward()
    with client.websocket_connect(created.url("/ws")) as socket:
        authorise(socket, created)
        socket.send_json({"type": "step", "phase": "forward", "layers": 2})
        first, state = receive_until(socket, "state")
        assert first["type"] == "forward" and first["layer"] == 2 and first["a"][3] is None
        assert state["session"]["layer"] == 2 and state["session"]["next_phase"] == "forward"
        socket.send_json({"type": "step", "phase": "forward", "layers": 1})
        last = receive_until(socket, "state")[0]
        socket.send_json({"type": "step", "phase": "loss", "layers": 1})
        assert receive_until(socket, "error")[-1]["status"] == 422
    assert last["a"] == jsonable(whole.a) and last["z"] == jsonable(whole.z) and last["next_phase"] == "loss"


def test_play_stops_on_a_breakpoint_and_says_which(client):
    created = create(client, CONFIG)
    with client.websocket_connect(created.url("/ws")) as socket:
        authorise(socket, created)
        socket.send_json({"type": "play", "breakpoints": {"at_iteration": 30}})
        seen = receive_until(socket, "state", "breakpoint", limit=5000)
    frame, breakpoint, state = seen[-3], seen[-2], seen[-1]
    assert breakpoint == {"type": "breakpoint", "kind": "at_iteration", "iteration": 30, "epoch": 3,
                          "detail": "iteration 30 reached"}
    assert state["session"]["iteration"] == 30 and state["session"]["playing"] is False
    assert client.get(created.url("/breakpoints")).json()["breakpoints"]["at_iteration"] == 30
    # the frame colours neurons with the newest batch's first sample
    trace = client.get(created.url("/trace")).json()
    assert frame["type"] == "frame" and frame["a_sample"] == [a[0] for a in trace["forward"]["a"]]
    engine = engine_for(CONFIG)
    engine.train(iterations=30)
    assert client.get(created.url("/network")).json() == network_of(engine)


def test_debugging_changes_survive_a_restart(tmp_path):
    settings = Settings(db=str(tmp_path / "taffy.db"))
    engine = engine_for(CONFIG)
    with TestClient(create_app(settings)) as client:
        created = create(client, CONFIG)
        auth = created.auth
        stopped = client.post(created.url("/train"), headers=auth,
                              json={"iterations": 100, "breakpoints": {"loss_rising": 3}}).json()
        client.patch(created.url("/config"), headers=auth, json={"optimizer": {"learning_rate": 0.05}})
        client.patch(created.url("/network"), headers=auth, json={"edits": [{"layer": 1, "i": 2, "j": 0, "value": 0.5}]})
        client.post(created.url("/train"), headers=auth, json={"iterations": 4})
        client.post(created.url("/forward"), headers=auth, json={"layers": 1})
        before = state_of(client, created), client.get(created.url("/breakpoints")).json()
    engine.set_breakpoints({"loss_rising": 3})
    assert engine.train(iterations=100).iterations_run == stopped["iterations_run"] < 100
    engine.set_training({"optimizer": {"learning_rate": 0.05}})
    engine.edit_parameters([{"layer": 1, "i": 2, "j": 0, "value": 0.5}])
    engine.train(iterations=4)
    engine.forward(layers=1)
    with TestClient(create_app(settings)) as client:
        assert (state_of(client, created), client.get(created.url("/breakpoints")).json()) == before
        rest = client.post(created.url("/forward"), headers=created.auth, json={"layers": 2}).json()
        assert rest["a"] == jsonable(engine.forward(layers=2).a)
        back = client.post(created.url("/rewind"), headers=created.auth, json={"iterations": 5}).json()
        assert back["config"]["optimizer"]["learning_rate"] == 0.01   # from before the change
