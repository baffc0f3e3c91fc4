"""The chain rule for one weight, written out with the numbers of one iteration.

    ∂L/∂W[l][i][j] = Σ_n a[l]_i · δ[l+1]_j            (n over the batch's samples)
    δ[l+1]_j = f′(z[l+1]_j) · Σ_k W[l+1][j][k] · δ[l+2]_k      for a hidden neuron j
    δ[L]_j   = ∂L/∂ŷ_j · f′(z[L]_j)   (softmax + cross-entropy: ∂L/∂z_j directly)
and for a bias, ∂L/∂b[l][j] = Σ_n δ[l+1]_j. Regularization adds r·W (L2) or r·sign(W) (L1).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .config import check_int
from .errors import ConfigError

if TYPE_CHECKING:
    from .session import Session


def chain_rule(session: "Session", layer: int, i: int | None, j: int) -> dict:
    """Every factor of ∂L/∂W[layer][i][j] (i None: ∂L/∂b[layer][j]) for the trace's iteration,
    per sample; needs a trace that has been through backward."""
    net = session.network
    L = net.n_layers
    check_int("layer", layer, 0, L - 1)
    check_int("j", j, 0, net.layers[layer + 1] - 1)
    if i is not None:
        check_int("i", i, 0, net.layers[layer] - 1)
    trace = session.trace()
    if trace.backward is None or trace.backward.grad_W[layer] is None:
        raise ConfigError("trace", "has no gradients yet: run forward, loss and backward first")
    f, loss, back = trace.forward, trace.loss, trace.backward
    z, delta = f.z[layer + 1][:, j], back.delta[layer + 1][:, j]
    act = net.activations[layer + 1]
    combined = act.name == "softmax"            # cross-entropy's ∂L/∂z: no separate f′
    f_prime = None if combined else act.df(z, f.a[layer + 1][:, j], out=np.empty_like(z))

    W_used, b_used = session.parameters_used()
    samples = []
    for n, index in enumerate(f.batch):
        row = {"sample": int(index), "z_j": float(z[n]), "delta_j": float(delta[n])}
        if f_prime is not None:
            row["f_prime_z_j"] = float(f_prime[n])
        if layer + 1 == L:
            row["d_loss_d_output_j"] = float(loss.d_loss_d_output[n, j])
        else:
            W_next, delta_next = W_used[layer + 1], back.delta[layer + 2][n]
            row["terms"] = [{"k": k, "w_jk": float(W_next[j, k]), "delta_k": float(delta_next[k]),
                             "product": float(W_next[j, k] * delta_next[k])} for k in range(len(delta_next))]
            row["upstream"] = float(W_next[j] @ delta_next)
        if i is not None:
            row["a_i"] = float(f.a[layer][n, i])
            row["product"] = float(f.a[layer][n, i] * delta[n])
        else:
            row["product"] = float(delta[n])
        samples.append(row)

    data_gradient = float(back.grad_W[layer][i, j] if i is not None else back.grad_b[layer][j])
    regularization = 0.0
    if i is not None and back.grad_W_reg is not None:
        regularization = float(back.grad_W_reg[layer][i, j])
    return {
        "iteration": trace.iteration, "layer": layer, "i": i, "j": j,
        "value": float(W_used[layer][i, j] if i is not None else b_used[layer][j]),
        "activation": act.name, "samples": samples,
        "sum": float(sum(row["product"] for row in samples)),
        "grad": data_gradient, "grad_reg": regularization, "total": data_gradient + regularization,
    }
