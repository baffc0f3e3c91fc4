"""`taffy`: serve the app. Every setting is an option (`--max-layers 12`), a `TAFFY_*`
variable (`TAFFY_MAX_LAYERS=12`), or its default, in that order of precedence."""
from __future__ import annotations

import argparse
import socket
import threading
import webbrowser
from dataclasses import fields

import uvicorn

from .main import create_app
from .settings import Settings, field_type


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="taffy", description="Serve Taffy: backpropagation, made visible.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for a classroom LAN)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--open", action="store_true", help="open the page in a browser")
    parser.add_argument("--db", help="SQLite file for sessions (default: TAFFY_DB, else in your data directory)")
    for f in fields(Settings):
        if f.name != "db":
            parser.add_argument("--" + f.name.replace("_", "-"), type=field_type(f.name), metavar="N",
                                help=f"default {getattr(Settings(), f.name)}")
    return parser.parse_args(argv)


def lan_address() -> str | None:
    """This machine's address on the local network, for the link a class opens."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))   # picks the outgoing interface; sends nothing
            return probe.getsockname()[0]
        except OSError:
            return None


def uvicorn_options(settings: Settings) -> dict:
    """How uvicorn should serve Taffy. Per-message deflate is off: it would compress every
    frame once per follower, which costs more CPU than the whole frame does."""
    return {"ws_max_size": settings.max_message_bytes, "ws_per_message_deflate": False}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    settings = Settings.from_env(**{f.name: getattr(args, f.name) for f in fields(Settings)})
    everywhere = args.host in ("0.0.0.0", "::")
    url = f"http://{'127.0.0.1' if everywhere else args.host}:{args.port}/"
    print(f"Taffy is serving {url} (API reference: {url}docs; sessions in {settings.db_path})", flush=True)
    if everywhere and (address := lan_address()):
        print(f"Others on your network can open http://{address}:{args.port}/", flush=True)
    if args.open:
        threading.Timer(1.0, webbrowser.open, (url,)).start()
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info", **uvicorn_options(settings))


if __name__ == "__main__":
    main()
