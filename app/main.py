"""The ASGI app: `app.main:app`, or `create_app(settings)` for another configuration."""
from __future__ import annotations

import contextlib
from typing import AsyncIterator

from fastapi import FastAPI

from . import __version__, debug_routes, pages, routes, websocket
from .errors import install_handlers
from .runtime import Runtime
from .settings import Settings

DESCRIPTION = """Taffy makes backpropagation visible: create a session, run its phases one by
one (forward → loss → backward → update) and read every number they computed, or play it
and watch over the websocket `/api/sessions/{id}/ws`.

Changing a session needs `Authorization: Bearer <token>`, with the token returned when it
was created; reading and watching need only its id. Every 4xx answer has the same body:
`{"detail", "errors": [{"field", "rule"}]}`. Non-finite numbers (only in a diverged session)
are sent as the strings "NaN", "Infinity" and "-Infinity". See docs/api.md for the guide.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with Runtime.start(settings).running() as runtime:
            app.state.runtime = runtime
            yield

    app = FastAPI(title="Taffy", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    install_handlers(app)
    for router in (*routes.routers, *debug_routes.routers, websocket.router, pages.router):
        app.include_router(router)
    pages.mount_static(app)
    _declare_security(app)
    return app


def _declare_security(app: FastAPI) -> None:
    """Name the bearer scheme the changing routes refer to, so /docs offers "Authorize"."""
    generate = app.openapi

    def openapi() -> dict:
        schema = generate()
        schema.setdefault("components", {})["securitySchemes"] = routes.SECURITY_SCHEMES
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


app = create_app()
