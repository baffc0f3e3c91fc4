"""WS /api/sessions/{id}/ws: a snapshot, then every event of the session; with the token,
commands too (step, play, pause, rewind).

Two tasks per connection: this one reads commands, a sender drains the follower's outbox.
Replies to commands go through the same outbox, so everything reaches the client in order.
"""
from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket
from pydantic import TypeAdapter, ValidationError

from . import encoding
from .errors import ApiError, from_validation, too_large
from .events import CLOSE, RESYNC, Follower, snapshot
from .routes import breakpoints_given
from .runtime import Runtime, runtime_of
from .schemas import Command

router = APIRouter()
commands: TypeAdapter[Any] = TypeAdapter(Command)


def error_message(error: ApiError) -> str:
    return encoding.dumps({"type": "error", "status": error.status, **error.body()}).decode()


@router.websocket("/api/sessions/{session_id}/ws")
async def follow(websocket: WebSocket, session_id: str) -> None:
    runtime = runtime_of(websocket)
    await websocket.accept()
    try:
        live = runtime.sessions.get(session_id)
    except ApiError as error:
        await websocket.send_text(error_message(error))
        await websocket.close(code=4404)
        return
    follower = Follower()
    async with live.lock:   # the snapshot and joining happen together: no event falls between
        follower.put(snapshot(live).decode())
        runtime.hubs.follow(session_id, follower)
    sender = asyncio.create_task(_send(websocket, follower, session_id, runtime))
    authorised = False
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                text = (message.get("bytes") or b"").decode(errors="replace")
            try:
                authorised = await _command(runtime, session_id, text, authorised, follower)
            except ApiError as error:
                follower.put(error_message(error))
    finally:
        runtime.hubs.unfollow(session_id, follower)
        sender.cancel()


async def _send(websocket: WebSocket, follower: Follower, session_id: str, runtime: Runtime) -> None:
    while True:
        item = await follower.next()
        if item is CLOSE:
            await websocket.close(code=4404)
            return
        if item is RESYNC:
            live = runtime.sessions.get(session_id)
            async with live.lock:
                item = snapshot(live).decode()
        await websocket.send_text(item)


async def _command(runtime: Runtime, session_id: str, text: str, authorised: bool, follower: Follower) -> bool:
    """Carry out one command; returns whether the connection is authorised afterwards."""
    limit = runtime.settings.max_message_bytes
    if len(text) > limit:
        raise too_large("message", limit, "bytes")
    try:
        command = commands.validate_python(orjson.loads(text))
    except orjson.JSONDecodeError:
        raise ApiError.field(400, "message", "must be well-formed JSON") from None
    except ValidationError as error:
        raise from_validation(error.errors()) from None
    live = runtime.sessions.get(session_id)
    actions = runtime.actions
    if command.type == "auth":
        if not live.accepts(command.token):
            raise ApiError(403, "the token is not this session's")
        follower.put('{"type":"auth","ok":true}')
        return True
    if not authorised:
        raise ApiError(401, 'commands need the token: send {"type": "auth", "token": "..."} first')
    if command.type == "step":
        await actions.step(live, command.phase, command.layers)
    elif command.type == "play":
        await actions.play(live, command.iterations_per_second, breakpoints_given(command))
    elif command.type == "pause":
        await actions.pause(live)
    elif command.type == "rewind":
        await actions.rewind(live, command.iterations)
    return True
