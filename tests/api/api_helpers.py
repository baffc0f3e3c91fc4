"""Helpers the API tests share (fixtures are in conftest.py)."""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi.testclient import TestClient

from app.cli import uvicorn_options
from app.main import create_app
from app.settings import Settings
from engine import Session
from engine.presets import build_config


@dataclass
class Created:
    id: str
    token: str
    body: dict[str, Any]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def url(self, path: str = "") -> str:
        return f"/api/sessions/{self.id}{path}"


def create(client: TestClient, config: dict[str, Any] | None = None) -> Created:
    response = client.post("/api/sessions", json=config if config is not None else {"preset": "xor"})
    assert response.status_code == 201, response.text
    body = response.json()
    return Created(body["id"], body["token"], body)


def engine_for(config: dict[str, Any]) -> Session:
    """The engine session a create body makes, for comparing numbers."""
    return Session(build_config(config))


def jsonable(value: Any) -> Any:
    """Engine arrays as the plain lists JSON gives back."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def network_of(engine: Session) -> dict[str, Any]:
    """GET /network as the engine gives it."""
    return {**jsonable(vars(engine.network_state())), "optimizer_state": jsonable(engine.optimizer_state())}


def state_of(client: TestClient, created: Created) -> tuple[dict, dict, dict]:
    """Everything a change could touch: summary, network, trace."""
    return (client.get(created.url()).json(), client.get(created.url("/network")).json(),
            client.get(created.url("/trace")).json())


def receive_until(ws, kind, reason=None, limit=500):
    """Messages up to and including the first of this type (and reason)."""
    seen = []
    for _ in range(limit):
        message = ws.receive_json()
        seen.append(message)
        if message["type"] == kind and (reason is None or message.get("reason") == reason):
            return seen
    raise AssertionError(f"no {kind} message in {limit}")


class LiveServer:
    """uvicorn in a thread on a free port, for tests that need real sockets. `send_buffer`
    shrinks the kernel's send buffer of every connection (accepted sockets inherit it), so
    a client that stops reading holds the server up after a few kilobytes, not megabytes."""

    def __init__(self, settings: Settings, send_buffer: int | None = None):
        self.app = create_app(settings)
        self.socket = socket.socket()
        if send_buffer is not None:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", **uvicorn_options(settings)))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        while not self.server.started:
            assert self.thread.is_alive(), "the server did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.socket.close()
