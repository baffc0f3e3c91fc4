"""How the page performs in headless Chromium while a session plays.

    .venv/bin/python benchmarks/browser.py [--url http://127.0.0.1:8000] [--seconds 5]

Without --url it starts `uvicorn app.main:app` on a free loopback port with an in-memory
store. For the circle preset and a 2-8-8-8-1 spiral network it prints:
- time to interactive: navigation start → the page has its session and data and its
  controls work (the page's `taffy-interactive` performance mark);
- page weight: HTML, JS, CSS and icons, uncompressed (the target is ≤ 500 KB), and the JSON
  the page fetched to start;
- frames drawn per second while playing at full speed (requestAnimationFrame callbacks)
  and the longest gap between two frames.
Targets (issue 4): ≥ 50 frames/s, time to interactive ≤ 1 s, page ≤ 500 KB.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SESSIONS = {
    "circle preset (2-4-2-1)": {"preset": "circle"},
    "spiral, 2-8-8-8-1": {"preset": "spiral", "network": {"layers": [2, 8, 8, 8, 1]}},
}

# Counts animation frames and the longest gap between two, from when it is installed.
FRAME_COUNTER = """() => {
  const stats = { frames: 0, longest: 0, start: performance.now() };
  let last = stats.start;
  const tick = (now) => {
    stats.frames += 1;
    stats.longest = Math.max(stats.longest, now - last);
    last = now;
    window.__frameStats = stats;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""

PAGE_WEIGHT = """() => {
  const entries = [performance.getEntriesByType("navigation")[0], ...performance.getEntriesByType("resource")];
  const assets = entries.filter((e) => !new URL(e.name).pathname.startsWith("/api/"));
  const api = entries.filter((e) => new URL(e.name).pathname.startsWith("/api/"));
  const sum = (list) => list.reduce((total, e) => total + e.decodedBodySize, 0);
  return { assets: sum(assets), files: assets.length, api: sum(api) };
}"""


@contextmanager
def local_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "TAFFY_DB": ":memory:"}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{url}/api/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def measure(browser, url: str, body: dict, seconds: float) -> dict:
    created = httpx.post(f"{url}/api/sessions", json=body, timeout=10).json()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    # This browser created the session, so it holds the token and may press Play.
    context.add_init_script(f"localStorage.setItem('taffy.token.{created['id']}', '{created['token']}')")
    page = context.new_page()
    page.goto(f"{url}/s/{created['id']}")
    page.wait_for_function("document.body.dataset.ready === '1' && document.body.dataset.connected === '1'",
                           polling="raf")
    interactive_ms = page.evaluate("performance.getEntriesByName('taffy-interactive')[0].startTime")
    weight = page.evaluate(PAGE_WEIGHT)

    page.fill("#speed", "5")  # full speed: the most frames and data per second
    page.dispatch_event("#speed", "input")
    page.click("#play-button")
    page.wait_for_selector("body[data-playing='1']")
    page.wait_for_timeout(500)  # let the first frames arrive before counting
    start_iteration = int(page.get_attribute("body", "data-iteration"))
    page.evaluate(FRAME_COUNTER)
    page.wait_for_timeout(seconds * 1000)
    stats = page.evaluate("({...window.__frameStats, now: performance.now()})")
    end_iteration = int(page.get_attribute("body", "data-iteration"))
    page.click("#play-button")
    page.wait_for_selector("body[data-playing='0']")
    context.close()
    elapsed = (stats["now"] - stats["start"]) / 1000
    return {
        "interactive_ms": interactive_ms,
        "assets_kb": weight["assets"] / 1000,
        "files": weight["files"],
        "api_kb": weight["api"] / 1000,
        "fps": stats["frames"] / elapsed,
        "longest_frame_ms": stats["longest"],
        "iterations_per_s": (end_iteration - start_iteration) / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a running Taffy server (default: start one)")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to play each session")
    args = parser.parse_args()

    with sync_playwright() as playwright, (local_server() if not args.url else _given(args.url)) as url:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        print(f"{'session':28} {'frames/s':>9} {'longest ms':>11} {'TTI ms':>7} {'page KB':>8} {'files':>6} {'API KB':>7} {'iter/s':>7}")
        for name, body in SESSIONS.items():
            r = measure(browser, url, body, args.seconds)
            print(f"{name:28} {r['fps']:9.1f} {r['longest_frame_ms']:11.1f} {r['interactive_ms']:7.0f} "
                  f"{r['assets_kb']:8.1f} {r['files']:6d} {r['api_kb']:7.1f} {r['iterations_per_s']:7.0f}")
        browser.close()


@contextmanager
def _given(url: str):
    yield url.rstrip("/")


if __name__ == "__main__":
    main()
