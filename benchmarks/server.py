"""Server benchmark: a real uvicorn in a subprocess, measured from this process.

    .venv/bin/python benchmarks/server.py [--seconds 3] [--followers 1,10,30,100] [--preset circle]

Prints REST latency of one phase beside a trivial route's (median, p99), then, with one
session playing at full speed and N websocket followers, each follower's frames per
second (min, median), the iterations per second trained, the largest frame, the
server's resident memory, and the latency of REST phases on another session meanwhile
(from a process of its own). Targets: 30 followers each >= 20 frames/s while training
>= 1000 it/s; a circle frame < 16 KiB; a phase <= 2x the trivial route.
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx
import orjson
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
PHASES = ("forward", "loss", "backward", "update")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, db: str) -> subprocess.Popen:
    # as users run it: the `taffy` command
    server = subprocess.Popen([sys.executable, "-m", "app.cli", "--port", str(port), "--db", db],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/health").raise_for_status()
            return server
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("the server did not start")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.99 * (len(ordered) - 1))]


def rest_latency(port: int, preset: str, rounds: int) -> None:
    """One keep-alive connection with the standard library's client: it adds the least of
    its own time, so the ratio shows the server's cost."""
    connection = http.client.HTTPConnection("127.0.0.1", port)

    def call(method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None) -> bytes:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        payload = response.read()
        assert response.status < 300, payload
        return payload

    created = orjson.loads(call("POST", "/api/sessions", {"Content-Type": "application/json"},
                                orjson.dumps({"preset": preset})))
    auth = {"Authorization": f"Bearer {created['token']}"}
    timings: dict[str, list[float]] = {name: [] for name in ("health", *PHASES)}
    for i in range(rounds * 4):
        phase = PHASES[i % 4]
        for name, path, headers in (("health", "/api/health", None),
                                    (phase, f"/api/sessions/{created['id']}/{phase}", auth)):
            started = time.perf_counter()
            call("GET" if headers is None else "POST", path, headers)
            timings[name].append(time.perf_counter() - started)
    connection.close()
    trivial = quantiles(timings["health"])[0]
    print(f"REST latency ({preset}, {rounds} iterations, one keep-alive connection): median / p99 in ms")
    for name, samples in timings.items():
        median, p99 = quantiles(samples)
        ratio = "" if name == "health" else f"   {median / trivial:.2f}x the trivial route"
        print(f"  {name:9s} {median * 1e3:6.3f} / {p99 * 1e3:6.3f}{ratio}")


async def follow(url: str, counts: list[int], sizes: list[int], iterations: list[int], stop: asyncio.Event,
                 index: int) -> None:
    async with connect(url, max_size=None) as ws:
        await ws.recv()   # the snapshot
        counts[index] = -1   # connected
        while not stop.is_set():
            try:
                message = await asyncio.wait_for(ws.recv(), 0.2)
            except asyncio.TimeoutError:
                continue
            if message.startswith('{"type":"frame"'):
                if counts[index] >= 0:
                    counts[index] += 1
                sizes.append(len(message.encode()))
                if index == 0:
                    iterations.append(orjson.loads(message)["iteration"])


def step_meanwhile(base: str, preset: str, seconds: float) -> list[float]:
    """Another session stepped over REST while the first one plays, from a process of its
    own so the followers' traffic in this one does not delay it."""
    timings = []
    with httpx.Client(base_url=base) as client:
        other = client.post("/api/sessions", json={"preset": preset}).json()
        auth = {"Authorization": f"Bearer {other['token']}"}
        end, i = time.perf_counter() + seconds, 0
        while time.perf_counter() < end:
            started = time.perf_counter()
            client.post(f"/api/sessions/{other['id']}/{PHASES[i % 4]}", headers=auth).raise_for_status()
            timings.append(time.perf_counter() - started)
            i += 1
            time.sleep(0.01)
    return timings


async def play_with_followers(base: str, preset: str, n: int, seconds: float, pid: int) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        created = (await client.post("/api/sessions", json={"preset": preset})).json()
    url = base.replace("http", "ws") + f"/api/sessions/{created['id']}/ws"
    counts, sizes, iterations = [0] * n, [], []
    stop = asyncio.Event()
    tasks = [asyncio.create_task(follow(url, counts, sizes, iterations, stop, i)) for i in range(n)]
    while any(c == 0 for c in counts):
        await asyncio.sleep(0.05)
    async with connect(url) as steer:
        await steer.recv()
        await steer.send(orjson.dumps({"type": "auth", "token": created["token"]}).decode())
        await steer.send('{"type":"play"}')
        await asyncio.sleep(0.5)                       # warm up
        for i in range(n):
            counts[i] = 0
        first = len(iterations)
        with ProcessPoolExecutor(1) as pool:
            stepper = asyncio.get_running_loop().run_in_executor(pool, step_meanwhile, base, preset, seconds)
            started = time.perf_counter()
            await asyncio.sleep(seconds)
            elapsed = time.perf_counter() - started
            rest = await stepper
        frames = list(counts)
        trained = iterations[-1] - iterations[first] if len(iterations) > first + 1 else 0
        memory = rss_mib(pid)
        await steer.send('{"type":"pause"}')
    stop.set()
    await asyncio.gather(*tasks)
    rates = [f / elapsed for f in frames]
    print(f"  {n:4d} followers: frames/s per follower min {min(rates):5.1f}, median {statistics.median(rates):5.1f};"
          f" {trained / elapsed:8.0f} it/s trained; largest frame {max(sizes) / 1024:5.1f} KiB;"
          f" server RSS {memory:6.1f} MiB; meanwhile a REST phase of another session"
          f" {quantiles(rest)[0] * 1e3:.1f} / {quantiles(rest)[1] * 1e3:.1f} ms (median / p99)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--followers", default="1,10,30,100")
    parser.add_argument("--preset", default="circle")
    parser.add_argument("--rounds", type=int, default=250, help="iterations stepped phase by phase over REST")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(port, str(Path(tmp) / "bench.db"))
        try:
            base = f"http://127.0.0.1:{port}"
            rest_latency(port, args.preset, args.rounds)
            print(f"Playing one {args.preset} session at full speed for {args.seconds:g} s:")
            for n in (int(x) for x in args.followers.split(",")):
                asyncio.run(play_with_followers(base, args.preset, n, args.seconds, server.pid))
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
