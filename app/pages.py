"""The browser page: HTML routes, the favicon and the static files.

The page knows only the HTTP/websocket contract of docs/api.md; everything it shows comes
from those routes. `/` renders the same page without a session id, and the page itself
creates a session from the default preset (so the token never passes through HTML) and
moves to `/s/{id}`.
"""

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

ROOT = Path(__file__).resolve().parent.parent
STATIC_DIR = ROOT / "static"
TEMPLATES_DIR = ROOT / "templates"

templates = Jinja2Templates(directory=TEMPLATES_DIR)
router = APIRouter(include_in_schema=False)


def _page(request: Request, session_id: str | None) -> HTMLResponse:
    return templates.TemplateResponse(request, "index.html", {"session_id": session_id})


@router.get("/", response_class=HTMLResponse)
def start(request: Request) -> HTMLResponse:
    return _page(request, None)


@router.get("/s/{session_id}", response_class=HTMLResponse)
def session_page(request: Request, session_id: str) -> HTMLResponse:
    # An unknown id still gets the page: it says the session does not exist (or has
    # expired) and offers a new one, which is friendlier than a bare 404.
    return _page(request, session_id)


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    return FileResponse(STATIC_DIR / "icons" / "favicon.ico", media_type="image/x-icon")


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
