"""kill -9 never undoes an answered change: a real server, killed and restarted on its store."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from api_helpers import Created, engine_for, jsonable

ROOT = Path(__file__).resolve().parents[2]
CONFIG = {"preset": "circle", "optimizer": {"name": "momentum", "learning_rate": 0.05}}


class Server:
    def __init__(self, db: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.db = db

    def __enter__(self) -> httpx.Client:
        self.process = subprocess.Popen([sys.executable, "-m", "app.cli", "--port", str(self.port), "--db", str(self.db)],
                                        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        banner = self.process.stdout.readline()
        assert f"http://127.0.0.1:{self.port}/" in banner   # the CLI prints where it serves
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)
        for _ in range(300):
            try:
                self.client.get("/api/health")
                return self.client
            except httpx.TransportError:
                time.sleep(0.05)
        pytest.fail("the server did not start")

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def __exit__(self, *_: object) -> None:
        if self.process.poll() is None:
            self.kill()
        self.client.close()


def test_acknowledged_steps_survive_sigkill(tmp_path):
    server = Server(tmp_path / "taffy.db")
    with server as client:
        body = client.post("/api/sessions", json=CONFIG).json()
        created = Created(body["id"], body["token"], body)
        client.post(created.url("/train"), headers=created.auth, json={"iterations": 13}).raise_for_status()
        for phase in ("forward", "loss", "backward", "update", "forward", "loss"):
            client.post(created.url(f"/{phase}"), headers=created.auth).raise_for_status()
        before = client.get(created.url()).json(), client.get(created.url("/network")).json()["W"]
        server.kill()
    with server as client:
        summary = client.get(created.url()).json()
        assert summary == before[0]
        assert (summary["iteration"], summary["phase"]) == (14, "loss")
        assert client.get(created.url("/network")).json()["W"] == before[1]
        backward = client.post(created.url("/backward"), headers=created.auth)
        assert backward.status_code == 200      # the token is still accepted
        engine = engine_for(CONFIG)
        engine.train(iterations=13)
        for phase in ("forward", "loss", "backward", "update", "forward", "loss"):
            getattr(engine, phase)()
        assert backward.json()["grad_W"] == jsonable(engine.backward().grad_W)
        assert client.post(created.url("/update"), headers={"Authorization": "Bearer nope"}).status_code == 403


def test_play_keeps_all_but_the_last_second_through_sigkill(tmp_path):
    server = Server(tmp_path / "taffy.db")
    with server as client:
        body = client.post("/api/sessions", json=CONFIG).json()
        created = Created(body["id"], body["token"], body)
        url = f"ws://127.0.0.1:{server.port}{created.url('/ws')}"
        with connect(url) as ws:
            ws.recv()
            ws.send('{"type": "auth", "token": "%s"}' % created.token)
            ws.recv()
            ws.send('{"type": "play", "iterations_per_second": 200}')
            started = time.monotonic()
            while time.monotonic() - started < 2.5:   # past two journal intervals of one second
                ws.recv()
            server.kill()
    with server as client:
        summary = client.get(created.url()).json()
        assert summary["iteration"] > 0 and summary["playing"] is False
        assert client.post(created.url("/forward"), headers=created.auth).status_code == 200
