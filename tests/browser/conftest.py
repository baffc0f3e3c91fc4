"""Browser tests: Playwright for Python driving Debian's Chromium against a real uvicorn.

Without /usr/bin/chromium or the playwright package these tests skip, saying why, unless
TAFFY_REQUIRE_BROWSER=1 (CI), where they fail instead: CI never passes by skipping.

They run last (see pytest_collection_modifyitems): Playwright's sync API runs its own event
loop, and nothing after it should have to share the process with one.
"""
from __future__ import annotations

import importlib.util
import os
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BROWSER_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Browser tests last, the rest in their usual order."""
    items.sort(key=lambda item: Path(str(item.fspath)).is_relative_to(BROWSER_DIR))


def _missing_browser() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def live_server():
    """The real app on 127.0.0.1 at a free port, with an in-memory store."""
    os.environ["TAFFY_DB"] = ":memory:"  # before app.main builds its module-level app
    import uvicorn

    from app.main import create_app
    from app.settings import Settings

    app = create_app(Settings.from_env(db=":memory:"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="auto"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="session")
def chromium():
    reason = _missing_browser()
    if reason:
        if os.environ.get("TAFFY_REQUIRE_BROWSER") == "1":
            pytest.fail(f"TAFFY_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(f"browser tests need Chromium and Playwright: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            # No background DNS look-ups: the tests only ever talk to 127.0.0.1.
            args=["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"],
        )
        yield browser
        browser.close()


class Pages:
    """Opens pages, each in its own browser context (its own localStorage, so its own
    tokens), and records every console error and uncaught exception they produce."""

    def __init__(self, browser, base_url):
        self.browser = browser
        self.base_url = base_url
        self.contexts = []
        self.errors: list[str] = []

    def open(self, path="/", *, viewport=(1400, 1000), wait_ready=True):
        context = self.browser.new_context(
            base_url=self.base_url, viewport={"width": viewport[0], "height": viewport[1]},
            accept_downloads=True)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"{page.url}: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"{page.url}: uncaught {e}"))
        page.goto(path)
        if wait_ready:
            page.wait_for_url("**/s/*")
            page.wait_for_selector("body[data-ready='1'][data-connected='1']")
        return page

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(chromium, live_server):
    opened = Pages(chromium, live_server)
    yield opened
    opened.close()
    assert opened.errors == [], "console errors:\n" + "\n".join(opened.errors)


@pytest.fixture
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
