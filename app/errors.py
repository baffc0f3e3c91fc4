"""One shape for every refusal: `{"detail", "errors": [{"field", "rule"}]}` plus a few extras.

Engine errors, pydantic validation errors and HTTP errors all become an ApiError here, so
REST responses and websocket `error` messages say the same thing the same way.
"""
from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.routing import Match

from engine import ConfigError, DivergedError, PhaseOrderError, RewindError


class ApiError(Exception):
    """A 4xx answer. `field` and `rule` name what was wrong; `extra` adds keys such as
    `expected` (the phase to call instead) or `max_rewind`."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, str]] | None = None,
                 headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail)
        self.status, self.detail = status, detail
        self.errors = errors if errors is not None else []
        self.headers = headers
        self.extra = extra

    @classmethod
    def field(cls, status: int, field: str, rule: str, **extra: Any) -> "ApiError":
        return cls(status, f"{field} {rule}", [{"field": field, "rule": rule}], **extra)

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, "errors": self.errors, **self.extra}


def not_found(session_id: str) -> ApiError:
    return ApiError(404, f"no session {session_id!r}: it never existed, was deleted or expired")


def playing_conflict() -> ApiError:
    return ApiError(409, "the session is playing: pause it first")


def too_large(field: str, limit: int, what: str) -> ApiError:
    return ApiError.field(413, field, f"must be at most {limit} {what} (a limit of this server)")


def from_engine(error: Exception) -> ApiError:
    """The answer to an error the engine raised on purpose."""
    if isinstance(error, PhaseOrderError):
        return ApiError(409, str(error), expected=error.expected)
    if isinstance(error, RewindError):
        return ApiError.field(409, "iterations", f"must be at most {error.max_rewind}, the kept history",
                              max_rewind=error.max_rewind)
    if isinstance(error, DivergedError):
        return ApiError(409, str(error), divergence=error.divergence)
    if isinstance(error, ConfigError):
        return ApiError.field(422, error.field, error.rule)
    raise TypeError(f"not an engine error: {error!r}") from error


def field_path(loc: tuple[Any, ...]) -> str:
    """("body", "network", "layers", 2) → "network.layers[2]"."""
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def rule_of(error: dict[str, Any]) -> str:
    """Pydantic's message as a rule: "Input should be a valid integer" → "must be a valid integer"."""
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "extra_forbidden":
        return "is not a known field"
    if error["type"] in ("model_attributes_type", "dict_type", "model_type") and isinstance(error.get("input"), (bytes, str)):
        return "must be a JSON object sent with Content-Type: application/json"
    message = error["msg"]
    for prefix, replacement in (("Input should be", "must be"), ("Input should", "must"),
                                ("Value should", "must"), ("List should", "must"), ("Value error, ", "")):
        if message.startswith(prefix):
            return replacement + message[len(prefix):]
    return message[0].lower() + message[1:]


def from_validation(errors: list[dict[str, Any]]) -> ApiError:
    """A pydantic or FastAPI validation failure: 400 for malformed JSON, else 422."""
    if any(e["type"] == "json_invalid" for e in errors):
        error = errors[0]
        reason = error.get("ctx", {}).get("error", "")
        return ApiError.field(400, "body", f"must be well-formed JSON ({reason})" if reason else "must be well-formed JSON")
    # A union reports one error per member it tried; the first of each field is enough.
    seen: dict[str, str] = {}
    for e in errors:
        seen.setdefault(field_path(tuple(e["loc"])), rule_of(e))
    listed = [{"field": f, "rule": r} for f, r in seen.items()]
    return ApiError(422, "; ".join(f"{e['field']} {e['rule']}" for e in listed), listed)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Every method some route offers at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def install_handlers(app: FastAPI) -> None:
    """Turn every refusal into the uniform body."""

    async def api_error(request: Request, error: ApiError) -> Response:
        return json_response(error.status, error.body(), error.headers)

    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        return await api_error(request, from_validation(list(error.errors())))

    async def pydantic_error(request: Request, error: ValidationError) -> Response:
        return await api_error(request, from_validation(error.errors()))

    async def http_error(request: Request, error: HTTPException) -> Response:
        detail = error.detail if isinstance(error.detail, str) else str(error.detail)
        headers = error.headers
        if error.status_code == 405:
            headers = {"Allow": ", ".join(_allowed_methods(app, request))}
        return json_response(error.status_code, {"detail": detail, "errors": []}, headers)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(ValidationError, pydantic_error)
    app.add_exception_handler(HTTPException, http_error)
