"""Stop conditions for `train` and play: where a network goes wrong, training stops there.

A NaN or inf always stops training (the session diverges); the conditions here are the
optional ones. Each is checked after every iteration from numbers the iteration already
computed (the batch loss, each layer's gradient norm, one watched parameter), so a
breakpoint costs a few comparisons, not another pass.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from .config import check_float, check_int
from .errors import ConfigError

if TYPE_CHECKING:
    from .session import Session


@dataclass
class Watch:
    """A weight W[layer][i][j] (or, with j None, a bias b[layer][i]) and the value it may not cross."""
    layer: int
    i: int
    j: int | None
    value: float


@dataclass
class Breakpoints:
    loss_rising: int | None = None        # the batch loss rose this many iterations in a row
    grad_norm_above: float | None = None  # some layer's gradient norm above this (exploding) ...
    grad_norm_below: float | None = None  # ... or below this (vanishing) ...
    grad_norm_iterations: int = 1         # ... for this many iterations in a row
    watch: Watch | None = None            # a parameter crossed a value
    loss_below: float | None = None       # the batch loss fell below this
    at_iteration: int | None = None       # this many iterations done
    at_epoch: int | None = None           # this many epochs done

    @classmethod
    def from_dict(cls, d: dict[str, Any], layers: list[int]) -> "Breakpoints":
        """Check every condition against the network's shape; ConfigError names the field."""
        if not isinstance(d, dict):
            raise ConfigError("breakpoints", "must be an object")
        known = set(cls.__dataclass_fields__)
        for key in d:
            if key not in known:
                raise ConfigError(f"breakpoints.{key}", f"is not a known condition; known: {', '.join(sorted(known))}")
        bp = cls(**{k: v for k, v in d.items() if k != "watch"})
        for name in ("loss_rising", "at_iteration", "at_epoch"):
            if getattr(bp, name) is not None:
                check_int(f"breakpoints.{name}", getattr(bp, name), 1, 10**9)
        check_int("breakpoints.grad_norm_iterations", bp.grad_norm_iterations, 1, 10**6)
        for name in ("grad_norm_above", "grad_norm_below", "loss_below"):
            if getattr(bp, name) is not None:
                check_float(f"breakpoints.{name}", getattr(bp, name), 0.0, 1e300)
        if d.get("watch") is not None:
            bp.watch = _watch(d["watch"], layers)
        return bp

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _watch(w: Any, layers: list[int]) -> Watch:
    if not isinstance(w, dict) or set(w) - {"layer", "i", "j", "value"}:
        raise ConfigError("breakpoints.watch", "must be {layer, i, j, value} (j null for a bias)")
    layer = check_int("breakpoints.watch.layer", w.get("layer"), 0, len(layers) - 2)
    j = w.get("j")
    if j is None:   # the bias of neuron i of layer `layer` + 1
        i = check_int("breakpoints.watch.i", w.get("i"), 0, layers[layer + 1] - 1)
    else:
        i = check_int("breakpoints.watch.i", w.get("i"), 0, layers[layer] - 1)
        j = check_int("breakpoints.watch.j", j, 0, layers[layer + 1] - 1)
    value = check_float("breakpoints.watch.value", w.get("value"), -1e300, 1e300)
    return Watch(layer, i, j, value)


class BreakpointChecker:
    """Counts what the conditions need across iterations (losses in a row, norms in a row)."""

    def __init__(self, breakpoints: Breakpoints, session: "Session"):
        self.bp = breakpoints
        self.rising = 0
        self.last_loss = math.inf
        self.above = [0] * session.network.n_layers
        self.below = [0] * session.network.n_layers
        self.side = self._side(session)

    def _watched(self, session: "Session") -> float:
        w = self.bp.watch
        if w.j is None:
            return float(session.network.b[w.layer][w.i])
        return float(session.network.W[w.layer][w.i, w.j])

    def _side(self, session: "Session") -> bool | None:
        return None if self.bp.watch is None else self._watched(session) >= self.bp.watch.value

    def check(self, session: "Session", batch_loss: float, grad_norms) -> dict | None:
        """After an iteration: the condition that fired, with its numbers, or None."""
        bp, it = self.bp, session.iteration
        if bp.loss_rising is not None:
            self.rising = self.rising + 1 if batch_loss > self.last_loss else 0
            if self.rising >= bp.loss_rising:
                return _fired("loss_rising", session, value=batch_loss, iterations=self.rising,
                              detail=f"the batch loss rose {self.rising} iterations in a row, to {batch_loss:.6g}")
        self.last_loss = batch_loss
        for l, norm in enumerate(grad_norms):
            if bp.grad_norm_above is not None:
                self.above[l] = self.above[l] + 1 if norm > bp.grad_norm_above else 0
                if self.above[l] >= bp.grad_norm_iterations:
                    return _fired("grad_norm_above", session, layer=l, value=float(norm), bound=bp.grad_norm_above,
                                  detail=f"layer {l}'s gradient norm {norm:.3g} is above {bp.grad_norm_above:g} (exploding)")
            if bp.grad_norm_below is not None:
                self.below[l] = self.below[l] + 1 if norm < bp.grad_norm_below else 0
                if self.below[l] >= bp.grad_norm_iterations:
                    return _fired("grad_norm_below", session, layer=l, value=float(norm), bound=bp.grad_norm_below,
                                  detail=f"layer {l}'s gradient norm {norm:.3g} is below {bp.grad_norm_below:g} (vanishing)")
        if bp.watch is not None:
            side = self._side(session)
            if side != self.side:
                w = bp.watch
                self.side = side
                name = f"b[{w.layer}][{w.i}]" if w.j is None else f"W[{w.layer}][{w.i}][{w.j}]"
                value = self._watched(session)
                return _fired("watch", session, layer=w.layer, i=w.i, j=w.j, value=value, bound=w.value,
                              detail=f"{name} crossed {w.value:g}: it is now {value:.6g}")
        if bp.loss_below is not None and batch_loss < bp.loss_below:
            return _fired("loss_below", session, value=batch_loss, bound=bp.loss_below,
                          detail=f"the batch loss {batch_loss:.6g} is below {bp.loss_below:g}")
        if bp.at_iteration is not None and it == bp.at_iteration:
            return _fired("at_iteration", session, detail=f"iteration {it} reached")
        if bp.at_epoch is not None and session.epoch == bp.at_epoch and session.batch_pos == 0:
            return _fired("at_epoch", session, detail=f"epoch {session.epoch} reached")
        return None


def _fired(kind: str, session: "Session", **numbers: Any) -> dict:
    return {"kind": kind, "iteration": session.iteration, "epoch": session.epoch, **numbers}
