"""The REST API under /api, as docs/api.md lists it.

Routes with a `{session_id}` find the session (404) and, when they change it, check the
token (401 without one, 403 with a wrong one) before the body is read: SessionRoute does
both first, then reads the body within the size limit (413). Bodies are parsed with
orjson, which refuses NaN and Infinity.
"""
from __future__ import annotations

from typing import Annotated, Any, Callable, Coroutine

import anyio
import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from engine import DATASETS, PHASES, PRESETS, Session, TaffyError
from engine import config as engine_config
from engine.presets import DEFAULT_PRESET, build_config, preset_config

from . import __version__, encoding, schemas
from .actions import KEEP, Actions, kept
from .errors import ApiError, from_engine, too_large
from .examples import ok
from .runtime import runtime_of
from .sessions import LiveSession, decode_state, encode_state

# ---- status codes, described once ---------------------------------------------------------

_ERROR_EXAMPLES: dict[int, tuple[str, dict[str, Any]]] = {
    400: ("Malformed JSON", {"detail": "body must be well-formed JSON (unexpected character)",
                             "errors": [{"field": "body", "rule": "must be well-formed JSON (unexpected character)"}]}),
    401: ("No token: send `Authorization: Bearer <token>`",
          {"detail": "this request changes the session: send Authorization: Bearer <token>", "errors": []}),
    403: ("A wrong token", {"detail": "the token is not this session's", "errors": []}),
    404: ("No such session", {"detail": "no session 'abc': it never existed, was deleted or expired", "errors": []}),
    409: ("Conflicts with the session's state: a phase out of order (with `expected`), playing, "
          "diverged (with `divergence`), or going past the kept history (with `max_rewind`)",
          {"detail": "cannot run backward now: call loss next", "errors": [], "expected": "loss"}),
    413: ("Over a limit of this server (see `limits` in /api/presets)",
          {"detail": "iterations must be at most 100000 iterations per call (a limit of this server)",
           "errors": [{"field": "iterations", "rule": "must be at most 100000 iterations per call (a limit of this server)"}]}),
    422: ("An invalid body or parameter: the field and the rule it broke",
          {"detail": "network.layers[2] must be between 1 and 64",
           "errors": [{"field": "network.layers[2]", "rule": "must be between 1 and 64"}]}),
    503: ("Every session this server keeps in memory is busy", {"detail": "all 100 sessions this server keeps "
                                                                "in memory are busy; try again shortly", "errors": []}),
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": schemas.ErrorBody, "description": _ERROR_EXAMPLES[code][0],
                   "content": {"application/json": {"example": _ERROR_EXAMPLES[code][1]}}}
            for code in codes}


# (422 on every route: FastAPI declares its own for any route with a parameter otherwise)
READ = (404, 422, 503)                     # any route on one session
CHANGE = (401, 403, 404, 409, 422, 503)    # any route that changes one
WITH_BODY = (400, 413, 422)


# ---- finding the session and checking the token, before the body ---------------------------

class JsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = orjson.loads(await self.body())
        return self._json

    async def read_body(self, limit: int) -> None:
        """Read the body now, refusing it (413) as soon as it passes `limit` bytes."""
        declared = self.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large("body", limit, "bytes")
        body = bytearray()
        async for chunk in self.stream():
            body += chunk
            if len(body) > limit:
                raise too_large("body", limit, "bytes")
        self._body = bytes(body)


class SessionRoute(APIRoute):
    """Before FastAPI reads the body: find the session (404), check the token if the route
    changes it (401, 403), then read the body within the size limit (413)."""
    changes = False

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            runtime = runtime_of(request)
            request = JsonRequest(request.scope, request.receive)
            session_id = request.path_params.get("session_id")
            if session_id is not None:
                live = runtime.sessions.get(session_id)
                if self.changes:
                    _authorize(request, live)
                request.state.live = live
            await request.read_body(runtime.settings.max_body_bytes)
            return await handler(request)

        return handle


class ChangingRoute(SessionRoute):
    changes = True

    def __init__(self, *args: Any, **kwargs: Any):
        # declared for /docs ("Authorize") and clients; the check itself is _authorize
        kwargs["openapi_extra"] = {**(kwargs.get("openapi_extra") or {}), "security": [{"bearer": []}]}
        super().__init__(*args, **kwargs)


def _authorize(request: Request, live: LiveSession) -> None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "this request changes the session: send Authorization: Bearer <token>",
                       headers={"WWW-Authenticate": "Bearer"})
    if not live.accepts(token.strip()):
        raise ApiError(403, "the token is not this session's")


# Declared on each route for the schema; SessionRoute has already found the session.
SessionId = Annotated[str, Path(description="the id returned when the session was created")]


def target(request: Request) -> tuple[Actions, LiveSession]:
    """This server's actions, and the session SessionRoute found. Looked up again: while
    the body was read, the session may have been spilled from memory and reloaded, and
    only the object in memory may change it."""
    runtime = runtime_of(request)
    return runtime.actions, runtime.sessions.get(request.state.live.id)


SECURITY_SCHEMES = {"bearer": {"type": "http", "scheme": "bearer",
                               "description": "the token returned when the session was created"}}
api = APIRouter(prefix="/api", route_class=SessionRoute)
changing = APIRouter(prefix="/api", route_class=ChangingRoute)


def reply(body: Any, status: int = 200) -> Response:
    """Bytes as they are, anything else through the encoder."""
    content = body if isinstance(body, bytes) else encoding.dumps(body)
    return Response(content, status_code=status, media_type="application/json")


# ---- the catalogue ---------------------------------------------------------------------------

@api.get("/health", response_model=schemas.Health, tags=["server"])
async def health() -> Response:
    return reply({"status": "ok", "version": __version__})


@api.get("/presets", response_model=schemas.PresetsOut, tags=["server"])
async def presets(request: Request) -> Response:
    """Ready-made sessions, every option's choices, and this server's limits."""
    return reply({
        "default": DEFAULT_PRESET,
        "presets": [{"name": name, "title": p["title"], "description": p["description"],
                     "config": encoding.public_config(preset_config(name))} for name, p in PRESETS.items()],
        "options": {"activations": engine_config.ACTIVATIONS, "output_activations": engine_config.OUTPUT_ACTIVATIONS,
                    "losses": engine_config.LOSSES, "optimizers": engine_config.OPTIMIZERS,
                    "inits": engine_config.INITS, "regularization": engine_config.REGULARIZATIONS,
                    "datasets": list(DATASETS)},
        "limits": runtime_of(request).settings.advertised(),
    })


@api.get("/datasets", response_model=schemas.DatasetsOut, tags=["server"])
async def datasets() -> Response:
    return reply({"datasets": [vars(info) for info in DATASETS.values()]})


# ---- creating, reading, deleting -------------------------------------------------------------

@api.post("/sessions", status_code=201, response_model=schemas.Created, tags=["sessions"],
          responses={**ok("created", 201), **errors(*WITH_BODY, 503)})
async def create(request: Request, body: schemas.CreateIn | None = None) -> Response:
    """A new session from a preset (the default one if none is named) and any fields that
    override it. The `token` in the answer is needed to change the session: keep it."""
    runtime = runtime_of(request)
    config = body.model_dump(exclude_unset=True) if body is not None else {}
    rows = config.get("data", {}).get("X")
    if rows is not None and len(rows) > runtime.settings.max_rows:
        raise too_large("data.X", runtime.settings.max_rows, "rows")
    limits = runtime.sessions.limits
    return await _created(request, lambda: Session(build_config(config, limits), limits))


@api.post("/sessions/import", status_code=201, response_model=schemas.Created, tags=["sessions"],
          responses={**ok("created", 201), **errors(*WITH_BODY, 503)})
async def import_session(request: Request, document: schemas.ImportIn) -> Response:
    """A session from a document made by export, exactly as it was, with a new id and token."""
    limits = runtime_of(request).sessions.limits
    return await _created(request, lambda: decode_state(document.model_dump(), limits))


async def _created(request: Request, build: Callable[[], Session]) -> Response:
    """Build the engine session in a worker thread (a big data set or document takes a
    while), then store it and answer with its token."""
    try:
        engine = await anyio.to_thread.run_sync(build)
    except TaffyError as error:
        raise from_engine(error) from None
    live, token = runtime_of(request).sessions.create(engine)
    return reply({**encoding.summary(live), "token": token}, status=201)


@api.get("/sessions/{session_id}", response_model=schemas.Summary, tags=["sessions"],
         responses={**ok("summary"), **errors(*READ)})
async def get_session(request: Request, session_id: SessionId) -> Response:
    """Config, phase, iteration, epoch and metrics."""
    actions, live = target(request)
    return reply(await actions.read(live, lambda s: encoding.summary(live)))


@changing.delete("/sessions/{session_id}", status_code=204, tags=["sessions"], responses=errors(401, 403, 404, 422, 503))
async def delete_session(request: Request, session_id: SessionId) -> Response:
    actions, live = target(request)
    await actions.delete(live)
    return Response(status_code=204)


@api.get("/sessions/{session_id}/data", response_model=schemas.DataOut, tags=["reading"],
         responses={**ok("data"), **errors(*READ)})
async def data(request: Request, session_id: SessionId) -> Response:
    """The data set: training and test rows, labels, and the targets the network is trained on."""
    actions, live = target(request)
    return reply(await actions.read(live, encoding.data))


# ---- the four phases, and whole iterations ---------------------------------------------------

_PHASE_MODELS = {"forward": schemas.ForwardOut, "loss": schemas.LossOut,
                 "backward": schemas.BackwardOut, "update": schemas.UpdateOut}
_PHASE_DOCS = {
    "forward": "Step 1: the next mini-batch goes in; `z` and `a` for every layer.",
    "loss": "Step 2: the batch loss, each sample's loss, the regularization loss and ∂loss/∂ŷ.",
    "backward": "Step 3: the chain rule from the output back: `delta` per layer, ∂loss/∂W and ∂loss/∂b.",
    "update": "Step 4: the optimizer adds its step to every weight and bias.",
}


_BY_LAYER = (" With `{\"layers\": n}`, only the next n weight layers: the same numbers as the whole phase, "
             "a few layers at a time; `layer` says how far it got, and `next_phase` stays until it is finished.")


def _phase_route(phase: str) -> None:
    by_layer = phase in ("forward", "backward")

    async def run_phase(request: Request, session_id: SessionId) -> Response:
        actions, live = target(request)
        return reply(await actions.phase(live, phase))

    async def run_layers(request: Request, session_id: SessionId, body: schemas.LayersIn | None = None) -> Response:
        actions, live = target(request)
        return reply(await actions.phase(live, phase, body.layers if body is not None else None))

    changing.post(f"/sessions/{{session_id}}/{phase}", response_model=_PHASE_MODELS[phase], tags=["phases"],
                  responses={**ok(phase), **errors(*CHANGE, *(WITH_BODY if by_layer else ()))},
                  name=phase, summary=phase.capitalize(),
                  description=_PHASE_DOCS[phase] + (_BY_LAYER if by_layer else "")
                  + " Out of order it is a 409 naming the phase `expected`.")(run_layers if by_layer else run_phase)


for _phase in PHASES:
    _phase_route(_phase)


@changing.post("/sessions/{session_id}/train", response_model=schemas.TrainOut, tags=["phases"],
               responses={**ok("train"), **errors(*CHANGE, *WITH_BODY)})
async def train(request: Request, body: schemas.TrainIn, session_id: SessionId) -> Response:
    """Finish the iteration in progress, then run whole ones: `iterations` of them, or up to the
    `epochs`-th epoch boundary from here. Stops early if a NaN or inf appears, or a breakpoint
    fires (`stopped_by` and `breakpoint` say which, with its numbers)."""
    actions, live = target(request)
    return reply(await actions.train(live, body.iterations, body.epochs, breakpoints_given(body)))


def breakpoints_given(body: schemas.TrainIn | schemas.PlayCommand) -> Any:
    """The conditions a train or play sets first: a dict, None to clear them, KEEP if left out."""
    if "breakpoints" not in body.model_fields_set:
        return KEEP
    return body.breakpoints.conditions() if body.breakpoints is not None else None


@changing.post("/sessions/{session_id}/rewind", response_model=schemas.Summary, tags=["phases"],
               responses={**ok("summary"), **errors(*CHANGE, *WITH_BODY)})
async def rewind(request: Request, body: schemas.RewindIn, session_id: SessionId) -> Response:
    """Back to the exact state at the start of the iteration `iterations` ago (0 drops the
    iteration in progress). Past the kept history it is a 409 with `max_rewind`."""
    actions, live = target(request)
    return reply(await actions.rewind(live, body.iterations))


# ---- the numbers -------------------------------------------------------------------------------

@api.get("/sessions/{session_id}/network", response_model=schemas.NetworkOut, tags=["reading"],
         responses={**ok("network"), **errors(*READ)})
async def get_network(request: Request, session_id: SessionId) -> Response:
    """Every weight and bias, the latest gradients (null before the first backward) and the
    optimizer's state."""
    actions, live = target(request)
    return reply(await actions.read(live, encoding.network))


@changing.put("/sessions/{session_id}/network", response_model=schemas.NetworkOut, tags=["phases"],
              responses={**ok("network"), **errors(*CHANGE, *WITH_BODY)})
async def put_network(request: Request, body: schemas.NetworkSetIn, session_id: SessionId) -> Response:
    """Set every weight and bias (shapes must match, values finite); drops an iteration in progress."""
    actions, live = target(request)
    return reply(await actions.change(live, {"op": "network", "W": body.W, "b": body.b}, "network",
                                      lambda live: encoding.network(live.engine)))


@api.get("/sessions/{session_id}/trace", response_model=schemas.TraceOut, tags=["reading"],
         responses={**ok("trace"), **errors(*READ)})
async def trace(request: Request, session_id: SessionId) -> Response:
    """The iteration in progress (or, between iterations, the last one): every phase run so far."""
    actions, live = target(request)
    return reply(await actions.read(live, Session.trace))


@api.get("/sessions/{session_id}/history", response_model=schemas.HistoryOut, tags=["reading"],
         responses={**ok("history"), **errors(*READ)})
async def history(request: Request, session_id: SessionId,
                  since: int = Query(0, ge=0, description="only iterations after this one")) -> Response:
    """Batch loss and gradient norms per iteration; train and test metrics every `eval_every`."""
    actions, live = target(request)
    return reply(await actions.read(live, lambda s: encoding.history(s.history(since=since))))


@api.post("/sessions/{session_id}/predict", response_model=schemas.PredictOut, tags=["reading"],
          responses={**ok("predict"), **errors(*READ, *WITH_BODY)})
async def predict(request: Request, body: schemas.PredictIn, session_id: SessionId) -> Response:
    """The outputs, and every layer's z and a, for any input rows. Changes nothing."""
    limit = runtime_of(request).settings.max_predict_rows
    if len(body.X) > limit:
        raise too_large("X", limit, "rows")
    actions, live = target(request)
    return reply(await actions.read_slowly(live, lambda s: s.predict(body.X)))


@api.get("/sessions/{session_id}/boundary", response_model=schemas.BoundaryOut, tags=["reading"],
         responses={**ok("boundary"), **errors(*READ, 413)})
async def boundary(request: Request, session_id: SessionId,
                   resolution: int = Query(40, ge=2, description="grid points per side"),
                   iteration: int | None = Query(None, description="a kept iteration: the boundary at its start")) -> Response:
    """Outputs and every neuron over a grid spanning the inputs (1 or 2 of them); now, or as it
    was at a kept iteration's start."""
    limit = runtime_of(request).settings.max_resolution
    if resolution > limit:
        raise too_large("resolution", limit, "points per side")
    actions, live = target(request)

    def read(s: Session) -> Any:
        return (s if iteration is None else kept(s, iteration)).boundary(resolution)

    return reply(await actions.read_slowly(live, read))


@api.get("/sessions/{session_id}/gradcheck", response_model=schemas.GradCheckOut, tags=["reading"],
         responses={**ok("gradcheck"), **errors(*READ, 413)})
async def gradcheck(request: Request, session_id: SessionId) -> Response:
    """Central differences for every weight and bias, beside the analytic gradient, on the batch
    of the iteration in progress (or the next one)."""
    actions, live = target(request)
    limit = runtime_of(request).settings.max_gradcheck_parameters
    if live.engine.network.n_params > limit:
        raise too_large("network", limit, "parameters for a gradient check")
    return reply(await actions.read_slowly(live, lambda s: encoding.gradcheck(s.gradcheck())))


@api.get("/sessions/{session_id}/export", response_model=dict[str, Any], tags=["sessions"], responses=errors(*READ))
async def export(request: Request, session_id: SessionId) -> Response:
    """The whole session as one document (arrays as base64), for POST /api/sessions/import."""
    actions, live = target(request)
    return Response(await actions.read_slowly(live, encode_state),
                    media_type="application/json")


# Changing routes first: Starlette tries routes in order, and stepping is the hot path.
routers = (changing, api)
