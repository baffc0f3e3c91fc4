"""The current iteration's numbers as files for homework: the trace as CSV, and the chain
rule for one weight as a LaTeX fragment. The numbers are the engine's; only their layout
is decided here."""
from __future__ import annotations

import csv
import io
import math
from dataclasses import fields
from typing import Any, Callable, Iterator

import numpy as np

from engine import trace as t

CSV_HEADER = ("phase", "quantity", "layer", "sample", "i", "j", "value")
# Arrays laid out [sample][neuron] (per layer or not); every other array is shaped like a
# parameter: W[l][i][j], b[l][j].
PER_SAMPLE = {"batch", "z", "a", "delta", "sample_losses", "d_loss_d_output", "targets"}
NOT_NUMBERS = {"iteration", "layer"}   # where the trace stands, not what it computed


# ---- trace.csv -------------------------------------------------------------------------------

def trace_csv(trace: t.Trace) -> str:
    """One number per row: phase, quantity, layer, sample (position in the batch), i, j, value,
    with empty cells where an index does not apply. The neuron of a per-sample array is `j`.
    Floats are written with repr, so they read back to the same float64, NaN and inf included."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerow(("", "iteration", "", "", "", "", trace.iteration))
    for phase in ("forward", "loss", "backward", "update"):
        result = getattr(trace, phase)
        if result is None:
            continue
        for f in fields(result):
            if f.name in NOT_NUMBERS:
                continue
            value = getattr(result, f.name)
            if f.name == "optimizer_state":
                for name, state in value.items():
                    writer.writerows(_rows(phase, f"optimizer_state.{name}", state, per_sample=False))
            else:
                writer.writerows(_rows(phase, f.name, value, per_sample=f.name in PER_SAMPLE))
    return out.getvalue()


def _rows(phase: str, quantity: str, value: Any, per_sample: bool, layer: Any = "") -> Iterator[tuple]:
    if value is None:   # a layer not reached, or no regularization
        return
    if isinstance(value, list):   # one array per layer
        for l, array in enumerate(value):
            yield from _rows(phase, quantity, array, per_sample, l)
        return
    array = np.asarray(value)
    whole = np.issubdtype(array.dtype, np.integer)
    for index in np.ndindex(array.shape):
        number = int(array[index]) if whole else repr(float(array[index]))
        yield (phase, quantity, layer, *_index_cells(index, per_sample), number)


def _index_cells(index: tuple[int, ...], per_sample: bool) -> tuple[Any, Any, Any]:
    """(sample, i, j) cells for an array index."""
    if per_sample:
        return (index[0], "", index[1] if len(index) > 1 else "")
    padded = ("", "") + index
    return ("", padded[-2], padded[-1])


# ---- chain_rule.tex --------------------------------------------------------------------------

_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def tex_escape(text: str) -> str:
    """Text as LaTeX typesets it literally (outside maths)."""
    return "".join(_TEX_SPECIAL.get(c, c) for c in str(text))


def tex_number(x: float, digits: int) -> str:
    """A number in maths mode, to `digits` significant digits: 1.5 \\times 10^{-7}, \\infty."""
    if math.isnan(x):
        return r"\mathrm{NaN}"
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    mantissa, _, exponent = f"{x:.{digits}g}".partition("e")
    return mantissa if not exponent else rf"{mantissa} \times 10^{{{int(exponent)}}}"


def chain_rule_tex(rule: dict[str, Any], digits: int) -> str:
    """The engine's chain rule for one weight (or bias) as a LaTeX fragment that needs no
    package: the equation with the live numbers, then a tabular of the per-sample factors."""
    l, i, j = rule["layer"], rule["i"], rule["j"]

    def num(x: float) -> str:
        return tex_number(x, digits)

    weight = i is not None
    output = "d_loss_d_output_j" in rule["samples"][0]   # a batch has at least one sample
    softmax = rule["activation"] == "softmax"
    name = rf"W^{{[{l}]}}_{{{i},{j}}}" if weight else rf"b^{{[{l}]}}_{{{j}}}"
    delta = rf"\delta^{{[{l + 1}]}}_{{n,{j}}}"
    factor = rf"a^{{[{l}]}}_{{n,{i}}}\,{delta}" if weight else delta
    plain = f"W[{l}][{i}][{j}]" if weight else f"b[{l}][{j}]"
    lines = [
        f"% Taffy: the chain rule for {plain} at iteration {rule['iteration']}.",
        f"% Numbers to {digits} significant digits; the exact ones are at GET .../chain_rule.",
        r"\[",
        rf"  \frac{{\partial L}}{{\partial {name}}} = \sum_{{n}} {factor} = {num(rule['sum'])}",
        r"\]",
        r"\[",
        "  " + _delta_rule(l, j, output, softmax),
        r"\]",
        rf"where $n$ runs over the batch's samples, ${name} = {num(rule['value'])}$ is the value the "
        rf"iteration used, and $f$ is \texttt{{{tex_escape(rule['activation'])}}}.",
    ]
    if rule["grad_reg"] != 0:
        lines.append(rf"With the regularization term, the optimizer follows ${num(rule['sum'])} + "
                     rf"{num(rule['grad_reg'])} = {num(rule['total'])}$.")
    return "\n".join(lines + [""] + _tabular(rule, weight, output, softmax, num)) + "\n"


def _delta_rule(l: int, j: int, output: bool, softmax: bool) -> str:
    delta, z = rf"\delta^{{[{l + 1}]}}_{{n,{j}}}", rf"z^{{[{l + 1}]}}_{{n,{j}}}"
    if softmax:   # softmax with cross-entropy: the loss gives ∂L/∂z directly
        return rf"{delta} = \frac{{\partial L}}{{\partial {z}}}"
    if output:
        return rf"{delta} = \frac{{\partial L}}{{\partial \hat{{y}}_{{n,{j}}}}}\, f'({z})"
    return rf"{delta} = f'({z}) \sum_{{k}} W^{{[{l + 1}]}}_{{{j},k}}\, \delta^{{[{l + 2}]}}_{{n,k}}"


def _tabular(rule: dict[str, Any], weight: bool, output: bool, softmax: bool,
             num: Callable[[float], str]) -> list[str]:
    """One row per sample: each factor of its term, and the term."""
    columns = [("sample", None), ("$z_j$", "z_j")]
    if not softmax:
        columns.append(("$f'(z_j)$", "f_prime_z_j"))
        columns.append((r"$\partial L/\partial \hat{y}_j$", "d_loss_d_output_j") if output
                       else (r"$\sum_k w_{jk}\,\delta_k$", "upstream"))
    columns.append((r"$\delta_j$", "delta_j"))
    if weight:
        columns.append(("$a_i$", "a_i"))
    columns.append((r"$a_i\,\delta_j$" if weight else r"$\delta_j$ (term)", "product"))
    lines = [r"\begin{tabular}{" + "r" * len(columns) + "}", r"\hline",
             " & ".join(title for title, _ in columns) + r" \\", r"\hline"]
    for sample in rule["samples"]:
        cells = [str(sample["sample"])] + [f"${num(sample[key])}$" for _, key in columns[1:]]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\hline",
              rf"\multicolumn{{{len(columns) - 1}}}{{r}}{{$\sum_n$}} & ${num(rule['sum'])}$ \\",
              r"\hline", r"\end{tabular}"]
    return lines
