"""Numbers that explain why a network does or does not learn, and hints in plain words.

Per weight layer l (W[l], b[l], feeding neuron layer l+1), from one iteration's trace:
  grad_norm       ‖(∂L/∂W[l], ∂L/∂b[l])‖
  update_ratio    ‖step of layer l‖ / ‖(W[l], b[l])‖: ~1e-3 is healthy; 1e-1 too fast, 1e-6 stalled
  dead_fraction   of layer l+1's ReLUs, those at 0 on every sample of the batch (they pass no gradient)
  saturated_fraction  of layer l+1's sigmoid/tanh units, those whose f′(z) is under 5% of its
                  peak on every sample (they pass almost no gradient)
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .session import Session

COLUMNS = ("grad_norm", "update_ratio", "dead_fraction", "saturated_fraction")
SATURATED = 0.05          # f′(z) under 5% of its peak
PEAK_SLOPE = {"sigmoid": 0.25, "tanh": 1.0}


def layer_diagnostics(session: "Session") -> np.ndarray:
    """(L, 4) the four columns per weight layer for the last completed iteration
    (NaN where a column does not apply, e.g. dead_fraction of a tanh layer)."""
    net, buf = session.network, session._buf
    out = np.full((net.n_layers, len(COLUMNS)), np.nan)
    for l, s in enumerate(net.layer_slices()):
        grad, step, params = session.grads[s], session.step[s], net.params[s]
        out[l, 0] = np.sqrt(np.dot(grad, grad))
        norm = np.sqrt(np.dot(params, params))
        out[l, 1] = np.sqrt(np.dot(step, step)) / norm if norm > 0 else np.nan
        act = net.activations[l + 1]
        if l + 1 == net.n_layers:     # the output layer: its units are what the loss reads
            continue
        a, z = buf.a[l + 1], buf.z[l + 1]
        if act.name == "relu":
            out[l, 2] = np.mean(np.all(a <= 0.0, axis=0))
        elif act.name in PEAK_SLOPE:
            slope = act.df(z, a, out=np.empty_like(a))
            out[l, 3] = np.mean(np.all(slope < SATURATED * PEAK_SLOPE[act.name], axis=0))
    return out


def hints(session: "Session", diagnostics: np.ndarray) -> list[dict]:
    """Plain-language hints from one row of diagnostics, each with the numbers behind it."""
    net, found = session.network, []

    def hint(kind: str, layer: int | None, message: str, **numbers) -> None:
        found.append({"kind": kind, "layer": layer, "message": message, "numbers": numbers})

    lr = session.config.optimizer.learning_rate
    for l, (_, ratio, dead, saturated) in enumerate(diagnostics):
        n_units = net.layers[l + 1]
        name = net.activations[l + 1].name
        if not np.isnan(dead) and dead >= 0.5:
            k = round(dead * n_units)
            hint("dead_relu", l + 1, f"layer {l + 1}: {k} of {n_units} ReLUs are dead (0 on every sample of "
                 f"the batch), so no gradient flows through them — lower the learning rate (now {lr:g}) "
                 f"or use leaky_relu",
                 dead_fraction=float(dead), units=n_units)
        if not np.isnan(saturated) and saturated >= 0.5:
            k = round(saturated * n_units)
            hint("saturated", l + 1, f"layer {l + 1}: {k} of {n_units} {name} units are saturated "
                 f"(f′(z) near 0 on every sample) — use smaller initial weights, scale the inputs, or relu",
                 saturated_fraction=float(saturated), units=n_units)
        if not np.isnan(ratio) and ratio > 0.1:
            hint("update_too_large", l, f"W[{l}]: each update moves the weights by {ratio:.0%} of their size "
                 f"— the learning rate ({lr:g}) is too high", update_ratio=float(ratio))
        elif not np.isnan(ratio) and 0 < ratio < 1e-6:
            hint("update_too_small", l, f"W[{l}]: each update moves the weights by {ratio:.1e} of their size "
                 f"— training has stalled", update_ratio=float(ratio))
    norms = diagnostics[:, 0]
    if len(norms) > 1 and norms[-1] > 0 and np.isfinite(norms).all():
        shrink = norms[0] / norms[-1]
        if shrink < 1e-3:
            remedy = ("use relu or tanh, or fewer layers" if session.config.network.activation == "sigmoid"
                      else "look for dead or saturated units, or use fewer layers")
            how_much = f"shrink {1 / shrink:.0f}×" if shrink > 0 else "vanish entirely"
            hint("vanishing", 0, f"gradients {how_much} from the last layer back to the first "
                 f"(‖∂L/∂W[0]‖ = {norms[0]:.2e}) — vanishing gradients: {remedy}",
                 first=float(norms[0]), last=float(norms[-1]))
        elif shrink > 1e3:
            hint("exploding", 0, f"gradients grow {shrink:.0f}× from the last layer back to the first "
                 f"(‖∂L/∂W[0]‖ = {norms[0]:.2e}) — exploding gradients: lower the learning rate or the initial weights",
                 first=float(norms[0]), last=float(norms[-1]))
    if not any(h["kind"] in ("dead_relu", "saturated", "vanishing") for h in found):
        for h in found:   # with no dead or saturated units to blame, the learning rate is the lever
            if h["kind"] == "update_too_small":
                h["message"] += f"; raise the learning rate ({lr:g})"
    return found
