"""The event stream: a snapshot, every phase run by anyone, commands with the token, play."""
import base64

import pytest
from starlette.websockets import WebSocketDisconnect

from api_helpers import create, receive_until, state_of


def test_snapshot_on_connect(client, xor):
    client.post(xor.url("/train"), headers=xor.auth, json={"iterations": 3})
    client.post(xor.url("/forward"), headers=xor.auth)
    with client.websocket_connect(xor.url("/ws")) as ws:
        snapshot = ws.receive_json()
    assert snapshot["type"] == "snapshot"
    summary, network, trace = state_of(client, xor)
    assert snapshot["session"] == summary
    assert snapshot["network"] == network and snapshot["trace"] == trace
    assert snapshot["history"] == client.get(xor.url("/history")).json()


def test_rest_calls_reach_followers(client, xor):
    with client.websocket_connect(xor.url("/ws")) as ws:
        ws.receive_json()
        forward = client.post(xor.url("/forward"), headers=xor.auth).json()
        assert ws.receive_json() == {"type": "forward", **forward}
        state = ws.receive_json()
        assert state["type"] == "state" and state["reason"] == "phase"
        assert state["session"] == client.get(xor.url()).json()

        client.post(xor.url("/train"), headers=xor.auth, json={"iterations": 4})
        metrics = ws.receive_json()
        assert metrics["type"] == "metrics" and metrics["iteration"] == 4
        assert metrics["metrics"] == client.get(xor.url()).json()["metrics"]
        assert ws.receive_json()["reason"] == "train"

        client.post(xor.url("/rewind"), headers=xor.auth, json={"iterations": 2})
        assert ws.receive_json()["session"]["iteration"] == 2

        network = client.get(xor.url("/network")).json()
        client.put(xor.url("/network"), headers=xor.auth, json={"W": network["W"], "b": network["b"]})
        assert ws.receive_json()["reason"] == "network"


def test_commands_need_the_token(client, xor):
    with client.websocket_connect(xor.url("/ws")) as ws:
        ws.receive_json()
        before = state_of(client, xor)
        for command in ({"type": "step", "phase": "forward"}, {"type": "play"}, {"type": "pause"},
                        {"type": "rewind", "iterations": 0}):
            ws.send_json(command)
            error = ws.receive_json()
            assert error["type"] == "error" and error["status"] == 401
        ws.send_json({"type": "auth", "token": "wrong"})
        assert ws.receive_json()["status"] == 403
        ws.send_json({"type": "step", "phase": "forward"})
        assert ws.receive_json()["status"] == 401
        assert state_of(client, xor) == before
        ws.send_json({"type": "auth", "token": xor.token})
        assert ws.receive_json() == {"type": "auth", "ok": True}
        ws.send_json({"type": "step", "phase": "forward"})
        assert ws.receive_json()["type"] == "forward"


@pytest.mark.parametrize("raw, status, field", [
    ("{", 400, "message"), ('{"type": "dance"}', 422, None), ('{"type": "step", "phase": "sideways"}', 422, "phase"),
    ('{"type": "play", "iterations_per_second": -1}', 422, "iterations_per_second"),
    ('{"type": "rewind", "iterations": false}', 422, "iterations"),
])
def test_malformed_commands_are_errors(client, xor, raw, status, field):
    with client.websocket_connect(xor.url("/ws")) as ws:
        ws.receive_json()
        ws.send_json({"type": "auth", "token": xor.token})
        ws.receive_json()
        ws.send_text(raw)
        error = ws.receive_json()
        assert error["type"] == "error" and error["status"] == status
        if field:
            assert error["errors"][0]["field"].endswith(field)


def test_steps_over_the_websocket(client, xor):
    with client.websocket_connect(xor.url("/ws")) as ws:
        ws.receive_json()
        ws.send_json({"type": "auth", "token": xor.token})
        ws.receive_json()
        ws.send_json({"type": "step", "phase": "forward"})
        assert [m["type"] for m in receive_until(ws, "state")] == ["forward", "state"]
        ws.send_json({"type": "step", "phase": "iteration"})   # the rest of this iteration
        kinds = [m["type"] for m in receive_until(ws, "update") + receive_until(ws, "state")]
        assert kinds == ["loss", "state", "backward", "state", "update", "state"]
        ws.send_json({"type": "step", "phase": "backward"})
        error = ws.receive_json()
        assert error["status"] == 409 and error["expected"] == "forward"
        ws.send_json({"type": "step", "phase": "epoch"})
        state = receive_until(ws, "state")[-1]
        assert state["reason"] == "train" and state["session"]["epoch"] == 1
        ws.send_json({"type": "rewind", "iterations": 1})
        assert receive_until(ws, "state")[-1]["reason"] == "rewind"
    assert client.get(xor.url()).json()["iteration"] == 7


def test_play_sends_frames_and_pause_stops(client, xor, settings):
    with client.websocket_connect(xor.url("/ws")) as watcher, client.websocket_connect(xor.url("/ws")) as ws:
        watcher.receive_json()
        ws.receive_json()
        ws.send_json({"type": "auth", "token": xor.token})
        ws.receive_json()
        ws.send_json({"type": "play"})
        assert receive_until(watcher, "state")[-1]["reason"] == "play"
        frames = [m for m in (watcher.receive_json() for _ in range(5))]
        assert all(f["type"] == "frame" for f in frames)
        assert [f["iteration"] for f in frames] == sorted({f["iteration"] for f in frames})
        assert client.get(xor.url()).json()["playing"] is True
        conflict = client.post(xor.url("/forward"), headers=xor.auth)
        assert conflict.status_code == 409 and "pause" in conflict.json()["detail"]
        ws.send_json({"type": "pause"})
        paused = receive_until(watcher, "state", "pause")[-1]["session"]
    assert paused["playing"] is False and paused["iteration"] >= frames[-1]["iteration"] > 0
    assert client.get(xor.url()).json() == paused
    assert client.post(xor.url("/forward"), headers=xor.auth).status_code == 200


def test_a_frame_carries_what_the_views_draw(client, settings):
    created = create(client, {"preset": "circle"})
    with client.websocket_connect(created.url("/ws")) as ws:
        ws.receive_json()
        ws.send_json({"type": "auth", "token": created.token})
        ws.receive_json()
        ws.send_json({"type": "play", "iterations_per_second": 100})
        frame = next(m for m in iter(ws.receive_json, None) if m["type"] == "frame" and m["iteration"] >= 5)
        ws.send_json({"type": "pause"})
        final = receive_until(ws, "state", "pause")[-2]
    assert final["type"] == "frame"
    network = client.get(created.url("/network")).json()
    assert final["W"] == network["W"] and final["b"] == network["b"]
    assert final["metrics"] == client.get(created.url()).json()["metrics"]
    history = client.get(created.url("/history")).json()
    assert final["batch_loss"] == history["batch_loss"][-1] and final["grad_norm"] == history["grad_norm"][-1]
    r = settings.frame_resolution
    boundary, exact = final["boundary"], client.get(created.url(f"/boundary?resolution={r}")).json()
    assert boundary["resolution"] == r and boundary["x_range"] == exact["x_range"]
    assert boundary["lo"] == [None, -1.0, -1.0, -1.0] and boundary["hi"] == [None, 1.0, 1.0, 1.0]
    decoded = [-1 + byte / 255 * 2 for byte in base64.b64decode(boundary["outputs"][0])]
    assert len(decoded) == r * r
    assert max(abs(a - b) for a, b in zip(decoded, exact["outputs"][0])) <= 1 / 255 + 1e-12
    assert len(boundary["neurons"][1]) == 4 and boundary["neurons"][0] is None
    assert frame["iteration"] <= final["iteration"]


def test_a_deleted_session_tells_its_followers(client, xor):
    with client.websocket_connect(xor.url("/ws")) as ws:
        ws.receive_json()
        client.delete(xor.url(), headers=xor.auth)
        error = ws.receive_json()
        assert error["type"] == "error" and error["status"] == 404
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()


def test_an_unknown_session_is_an_error_then_closed(client):
    with client.websocket_connect("/api/sessions/nope/ws") as ws:
        assert ws.receive_json()["status"] == 404
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()


def test_play_stops_where_the_session_diverges(client):
    created = create(client, {"preset": "curve", "optimizer": {"name": "sgd", "learning_rate": 100.0}})
    with client.websocket_connect(created.url("/ws")) as ws:
        ws.receive_json()
        ws.send_json({"type": "auth", "token": created.token})
        ws.receive_json()
        ws.send_json({"type": "play"})
        seen = receive_until(ws, "state", "breakpoint", limit=5000)
        breakpoint, state = seen[-2], seen[-1]["session"]
        assert breakpoint["type"] == "breakpoint" and breakpoint["kind"] == "nan"
        assert breakpoint["iteration"] == state["divergence"]["iteration"]
        assert state["status"] == "diverged" and state["playing"] is False
        ws.send_json({"type": "play"})
        assert receive_until(ws, "error")[-1]["status"] == 409
    assert client.get(created.url()).json() == state
