"""The debugging routes of docs/api.md: breakpoints, time travel, diagnostics, changing
settings and single weights in place, the chain rule for one weight, and exports.

Their routers use the same route classes as the rest of the API, so they find the session
and check the token before the body exactly as the others do.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from engine import ConfigError, Session

from . import encoding, exports, schemas
from .actions import kept
from .errors import ApiError, too_large
from .examples import ok
from .routes import CHANGE, READ, WITH_BODY, ChangingRoute, SessionId, SessionRoute, errors, reply, target
from .runtime import runtime_of

api = APIRouter(prefix="/api", route_class=SessionRoute)
changing = APIRouter(prefix="/api", route_class=ChangingRoute)


class CsvResponse(Response):
    media_type = "text/csv"


class TexResponse(Response):
    media_type = "text/x-tex"


# ---- breakpoints -------------------------------------------------------------------------------

@api.get("/sessions/{session_id}/breakpoints", response_model=schemas.BreakpointsOut, tags=["debugging"],
         responses={**ok("breakpoints"), **errors(*READ)})
async def get_breakpoints(request: Request, session_id: SessionId) -> Response:
    """The conditions that stop train and play (null when none are set)."""
    actions, live = target(request)
    return reply(await actions.read(live, encoding.breakpoints))


@changing.put("/sessions/{session_id}/breakpoints", response_model=schemas.BreakpointsOut, tags=["debugging"],
              responses={**ok("breakpoints"), **errors(401, 403, 404, 503, *WITH_BODY)})
async def put_breakpoints(request: Request, body: schemas.BreakpointsIn | None, session_id: SessionId) -> Response:
    """Set the conditions that stop train and play (null clears them; a NaN or inf always stops).
    Allowed while playing: play honours them from its next turn."""
    actions, live = target(request)
    return reply(await actions.set_breakpoints(live, body.conditions() if body is not None else None))


# ---- time travel and diagnostics ----------------------------------------------------------------

@api.get("/sessions/{session_id}/history/{iteration}", response_model=schemas.PastOut, tags=["debugging"],
         responses={**ok("past"), **errors(*READ, 409)})
async def past(request: Request, session_id: SessionId,
               iteration: int = Path(description="a kept iteration (at most max_rewind back)")) -> Response:
    """A kept iteration, read-only: the network, metrics and settings at its start, and its trace
    run from there. Changes nothing; to resume from it, rewind `iteration_now - iteration`."""
    actions, live = target(request)
    return reply(await actions.read_slowly(live, lambda s: encoding.past(kept(s, iteration))))


@api.get("/sessions/{session_id}/diagnostics", response_model=schemas.DiagnosticsOut, tags=["debugging"],
         responses={**ok("diagnostics"), **errors(*READ)})
async def diagnostics(request: Request, session_id: SessionId) -> Response:
    """Per weight layer, for the last completed iteration: gradient norm, update-to-weight ratio,
    fraction of dead ReLUs and of saturated sigmoid/tanh units; and hints in plain words."""
    actions, live = target(request)
    return reply(await actions.read(live, lambda s: encoding.diagnostics(s.diagnostics())))


@api.get("/sessions/{session_id}/full_gradient", response_model=schemas.FullGradientOut, tags=["debugging"],
         responses={**ok("full_gradient"), **errors(*READ, 413)})
async def full_gradient(request: Request, session_id: SessionId) -> Response:
    """The mini-batch gradient of the iteration in progress (or the next) beside the whole
    training set's, at the same parameters: per layer, the cosine between them and their norms' ratio."""
    actions, live = target(request)
    limit = runtime_of(request).settings.max_gradcheck_parameters
    if live.engine.network.n_params > limit:
        raise too_large("network", limit, "parameters for a gradient comparison")
    return reply(await actions.read_slowly(live, lambda s: encoding.full_gradient(s.compare_gradients())))


# ---- changing settings and weights in place ---------------------------------------------------------

@changing.patch("/sessions/{session_id}/network", response_model=schemas.NetworkOut, tags=["debugging"],
                responses={**ok("network"), **errors(*CHANGE, *WITH_BODY)})
async def edit_network(request: Request, body: schemas.EditsIn, session_id: SessionId) -> Response:
    """Set single weights (or biases, with `j` null) by hand, e.g. to check homework done on paper;
    drops an iteration in progress. The optimizer's state is kept."""
    actions, live = target(request)
    if len(body.edits) > live.engine.network.n_params:
        raise too_large("edits", live.engine.network.n_params, "edits, the network's parameters (PUT sets them all)")
    op = {"op": "edits", "edits": [edit.model_dump() for edit in body.edits]}
    return reply(await actions.change(live, op, "network", lambda live: encoding.network(live.engine)))


@changing.patch("/sessions/{session_id}/config", response_model=schemas.Summary, tags=["debugging"],
                responses={**ok("summary"), **errors(*CHANGE, *WITH_BODY)})
async def change_config(request: Request, body: schemas.ConfigChangeIn, session_id: SessionId) -> Response:
    """Change training settings in place: the optimizer's parameters, regularization, frozen biases,
    eval_every. Same session and link; rewinding to before the change brings the old settings back.
    Anything else needs a new session (a 422 that says so)."""
    actions, live = target(request)
    op = {"op": "training", "changes": body.model_dump(exclude_unset=True)}
    return reply(await actions.change(live, op, "config", encoding.summary))


@changing.post("/sessions/{session_id}/reset", response_model=schemas.Summary, tags=["debugging"],
               responses={**ok("summary"), **errors(*CHANGE)})
async def reset(request: Request, session_id: SessionId) -> Response:
    """Start again in place: iteration 0, the config's initial weights, no history; the same
    session, link, settings and breakpoints."""
    actions, live = target(request)
    return reply(await actions.change(live, {"op": "reset"}, "reset", encoding.summary))


# ---- the chain rule for one weight, and exports ---------------------------------------------------

Layer = Query(ge=0, description="the weight layer l of W[l][i][j]")
From = Query(None, ge=0, description="the neuron i of layer l; left out for the bias b[l][j]")
To = Query(ge=0, description="the neuron j of layer l+1")


def chain_rule_of(s: Session, layer: int, i: int | None, j: int) -> dict[str, Any]:
    """The engine's chain rule; before a backward it is a conflict with the session's state
    (409), not a bad parameter."""
    try:
        return s.chain_rule(layer, i, j)
    except ConfigError as error:
        if error.field != "trace":
            raise
        raise ApiError(409, str(error)) from None


@api.get("/sessions/{session_id}/chain_rule", response_model=schemas.ChainRuleOut, tags=["debugging"],
         responses={**ok("chain_rule"), **errors(*READ, 409)})
async def chain_rule(request: Request, session_id: SessionId, layer: int = Layer, i: int | None = From,
                     j: int = To) -> Response:
    """∂L/∂W[l][i][j] (or ∂L/∂b[l][j]) factor by factor for each sample of the trace's batch,
    with the weights that iteration used; 409 before a backward."""
    actions, live = target(request)
    return reply(await actions.read_slowly(live, lambda s: encoding.finite(chain_rule_of(s, layer, i, j))))


@api.get("/sessions/{session_id}/chain_rule.tex", response_class=TexResponse, tags=["debugging"],
         responses={**ok("chain_rule.tex", media_type=TexResponse.media_type), **errors(*READ, 409)})
async def chain_rule_tex(request: Request, session_id: SessionId, layer: int = Layer, i: int | None = From,
                         j: int = To, digits: int = Query(6, ge=1, le=17, description="significant digits")) -> Response:
    """The chain rule above as a LaTeX fragment for homework: the equation with the live numbers,
    then a table of the per-sample factors (no package needed)."""
    actions, live = target(request)
    text = await actions.read_slowly(live, lambda s: exports.chain_rule_tex(chain_rule_of(s, layer, i, j), digits))
    return TexResponse(text)


@api.get("/sessions/{session_id}/trace.csv", response_class=CsvResponse, tags=["debugging"],
         responses={**ok("trace.csv", media_type=CsvResponse.media_type), **errors(*READ)})
async def trace_csv(request: Request, session_id: SessionId) -> Response:
    """The current trace, one number per row: `phase,quantity,layer,sample,i,j,value` (sample is
    the position in the batch; a per-sample array's neuron is `j`), floats in full precision."""
    actions, live = target(request)
    return CsvResponse(await actions.read_slowly(live, lambda s: exports.trace_csv(s.trace())))


routers = (changing, api)
