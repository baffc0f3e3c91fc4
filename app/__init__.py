"""Taffy's web server: the engine's phases over REST and a live event stream, sessions in a store.

The ASGI app is `app.main:app`; `taffy` (app.cli) serves it.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("taffy")
except PackageNotFoundError:   # running from a checkout that was never installed
    __version__ = "0.0.0"
