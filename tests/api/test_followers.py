"""A follower that never reads costs bounded memory and slows no one: a real server and sockets."""
import base64
import os
import socket
import threading
import time

import httpx
from websockets.sync.client import connect

from api_helpers import LiveServer
from app.events import MAX_PENDING
from app.settings import Settings


def stalled_follower(port: int, path: str) -> socket.socket:
    """Open the websocket by hand, then never read another byte."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    assert sock.recv(12) == b"HTTP/1.1 101"
    return sock


def test_a_stalled_follower_slows_no_one_and_its_outbox_stays_bounded():
    with LiveServer(Settings(db=":memory:"), send_buffer=8192) as server:
        created = httpx.post(f"{server.url}/api/sessions", json={"preset": "circle"}).json()
        path = f"/api/sessions/{created['id']}/ws"
        stalled = stalled_follower(server.port, path)
        counts, stop = [0, 0, 0], threading.Event()

        def read(i: int) -> None:
            with connect(f"ws://127.0.0.1:{server.port}{path}", max_size=None) as ws:
                while not stop.is_set():
                    try:
                        message = ws.recv(timeout=0.1)
                    except TimeoutError:
                        continue
                    if message.startswith('{"type":"frame"'):
                        counts[i] += 1

        readers = [threading.Thread(target=read, args=(i,)) for i in range(3)]
        for reader in readers:
            reader.start()
        with connect(f"ws://127.0.0.1:{server.port}{path}", max_size=None) as steer:
            steer.recv()
            steer.send('{"type": "auth", "token": "%s"}' % created["token"])
            steer.recv()
            steer.send('{"type": "play"}')
            hubs = server.app.state.runtime.hubs
            deadline = time.monotonic() + 60
            backlog = 0
            while time.monotonic() < deadline and backlog == 0:   # until the stalled one is behind
                backlog = max(f.pending() for f in hubs.followers(created["id"]))
                time.sleep(0.05)
            assert backlog > 0, "the stalled follower never fell behind"
            start = list(counts)
            while time.monotonic() < deadline and min(c - s for c, s in zip(counts, start)) < 40:
                assert max(f.pending() for f in hubs.followers(created["id"])) <= MAX_PENDING
                time.sleep(0.05)
            steer.send('{"type": "pause"}')
            while '"reason":"pause"' not in steer.recv(timeout=30):   # it follows too: read to the end
                pass
        stop.set()
        for reader in readers:
            reader.join()
        stalled.close()
        assert min(c - s for c, s in zip(counts, start)) >= 40   # every reader kept getting frames
        summary = httpx.get(f"{server.url}/api/sessions/{created['id']}").json()
        assert summary["iteration"] > 100 and summary["playing"] is False
