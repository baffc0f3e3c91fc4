"""Numerical gradient check: central differences against the engine's own backward pass.

For each parameter p: (L(p + ε) - L(p - ε)) / 2ε, with L the data loss plus the
regularization loss on one batch. Its error is O(ε²), so float64 agrees to ~1e-8 or better.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .calls import run
from .network import Buffers, Passes
from .trace import GradCheck

if TYPE_CHECKING:
    from .session import Session


def _batch_buffers(session: "Session", rows: np.ndarray) -> Buffers:
    """Fresh buffers loaded with these training rows: the session's own stay untouched."""
    buf = Buffers(session.network.layers, len(rows))
    buf.a[0][...] = session.dataset.X_train[rows]
    buf.targets[...] = session.targets_train[rows]
    return buf


def _backpropagate(session: "Session", buf: Buffers) -> np.ndarray:
    """Forward, loss derivative and backward on `buf`: the flat gradient of data + regularization."""
    net, loss_fn, L = session.network, session.loss_fn, session.network.n_layers
    gradient = np.zeros(net.n_params)
    passes = Passes(net, buf, loss_fn, net.stacked_views(gradient))
    run(passes.forward)
    loss_fn.d_loss_d_output(buf.a[L], buf.targets, buf.d_loss_d_output)
    run(passes.backward)
    if session.regularizer.active:
        reg = np.zeros(net.n_params)
        session.regularizer.gradient(net.params, reg)
        gradient += reg
    return gradient


def analytic_gradient(session: "Session", rows: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Backward over the given training rows at the current parameters: (grad_W, grad_b)."""
    with np.errstate(all="ignore"):
        gradient = _backpropagate(session, _batch_buffers(session, rows))
    W, b = session.network.views(gradient)
    return [w.copy() for w in W], [v.copy() for v in b]


def gradient_check(session: "Session", epsilon: float = 1e-6) -> GradCheck:
    """Both gradients on the batch of the iteration in progress (or the next one)."""
    net, loss_fn, regularizer = session.network, session.loss_fn, session.regularizer
    batch = session.current_batch()
    buf = _batch_buffers(session, batch)
    params = net.params
    saved = params.copy()
    reg_scratch = np.zeros(net.n_params)
    L = net.n_layers

    forward = Passes(net, buf).forward

    def total_loss() -> float:
        run(forward)
        loss_fn.sample_losses(buf.a[L], buf.z[L], buf.targets, buf.sample_losses)
        data_loss = float(np.add.reduce(buf.sample_losses)) / len(batch)
        return data_loss + (regularizer.gradient(params, reg_scratch) if regularizer.active else 0.0)

    with np.errstate(all="ignore"):
        analytic = _backpropagate(session, buf)
        numerical = np.zeros(net.n_params)
        try:
            for i in range(net.n_params):
                params[i] = saved[i] + epsilon
                loss_plus = total_loss()
                params[i] = saved[i] - epsilon
                loss_minus = total_loss()
                params[i] = saved[i]
                numerical[i] = (loss_plus - loss_minus) / (2 * epsilon)
        finally:
            np.copyto(params, saved)

        # |a - n| / max(|a|, |n|), floored so that two gradients both ~0 do not count as far apart
        relative = np.abs(analytic - numerical) / np.maximum(
            np.maximum(np.abs(analytic), np.abs(numerical)), 1e-7)

    views = [net.views(v) for v in (analytic, numerical, relative)]
    copies = [[x.copy() for x in part] for pair in views for part in pair]
    return GradCheck(
        iteration=session.iteration, batch=np.asarray(batch).copy(), epsilon=epsilon,
        analytic_W=copies[0], analytic_b=copies[1], numerical_W=copies[2], numerical_b=copies[3],
        relative_error_W=copies[4], relative_error_b=copies[5],
        max_relative_error=float(np.max(relative)) if relative.size else 0.0)
