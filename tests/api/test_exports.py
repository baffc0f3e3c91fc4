"""Homework exports carry the trace's numbers exactly: trace.csv, the chain rule and its LaTeX."""
import csv
import io
import re

import pytest

from api_helpers import create

CONFIG = {"preset": "circle", "regularization": {"kind": "l2", "rate": 0.01},
          "optimizer": {"name": "momentum", "learning_rate": 0.05}}


@pytest.fixture
def stepped(client):
    """A session through one whole iteration and the backward of the next."""
    created = create(client, CONFIG)
    for phase in ("forward", "loss", "backward", "update", "forward", "loss", "backward"):
        client.post(created.url(f"/{phase}"), headers=created.auth).raise_for_status()
    return created


def numbers_in(value, path=()):
    """Every number of a JSON trace, keyed by its path (lists give their index)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from numbers_in(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from numbers_in(item, (*path, index))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield path, value


def csv_path(row):
    """Where a CSV row's value sits in the JSON trace."""
    phase, quantity, *cells = row[:-1]
    indices = tuple(int(c) for c in cells if c != "")
    if not phase:
        return (quantity,)
    return (phase, *quantity.split("."), *indices)


def test_trace_csv_reads_back_to_exactly_the_traces_numbers(client, stepped):
    trace = client.get(stepped.url("/trace")).json()
    response = client.get(stepped.url("/trace.csv"))
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["phase", "quantity", "layer", "sample", "i", "j", "value"]
    from_csv = {csv_path(row): float(row[-1]) for row in rows[1:]}
    expected = {path: float(v) for path, v in numbers_in(trace) if path[-1] != "layer" and path[1:] != ("iteration",)}
    assert from_csv == expected   # every number, each the same float64
    assert len(rows) - 1 == len(from_csv)


def test_the_chain_rule_sums_to_the_gradient(client, stepped):
    trace = client.get(stepped.url("/trace")).json()
    backward = trace["backward"]
    for layer, i, j in ((0, 1, 2), (2, 1, 0)):   # a hidden neuron's weight, an output neuron's
        rule = client.get(stepped.url(f"/chain_rule?layer={layer}&i={i}&j={j}")).json()
        assert rule["grad"] == backward["grad_W"][layer][i][j]
        assert rule["sum"] == pytest.approx(rule["grad"], rel=1e-12, abs=1e-15)
        assert rule["grad_reg"] == backward["grad_W_reg"][layer][i][j]
        assert [s["sample"] for s in rule["samples"]] == trace["forward"]["batch"]
    bias = client.get(stepped.url("/chain_rule?layer=1&j=0")).json()
    assert bias["i"] is None and bias["grad"] == backward["grad_b"][1][0] and bias["grad_reg"] == 0
    assert "a_i" not in bias["samples"][0] and "terms" in bias["samples"][0]


def test_the_chain_rule_needs_a_backward_and_real_indices(client, xor):
    client.post(xor.url("/forward"), headers=xor.auth)
    early = client.get(xor.url("/chain_rule?layer=0&i=0&j=0"))
    assert early.status_code == 409 and "backward" in early.json()["detail"]
    assert client.get(xor.url("/chain_rule.tex?layer=0&i=0&j=0")).status_code == 409
    for phase in ("loss", "backward"):
        client.post(xor.url(f"/{phase}"), headers=xor.auth)
    wrong = client.get(xor.url("/chain_rule?layer=0&i=0&j=7"))
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "j"


TEX_NUMBER = re.compile(r"(-?\d+(?:\.\d+)?)(?: \\times 10\^\{(-?\d+)\})?")


def test_chain_rule_tex_carries_the_numbers(client, stepped):
    rule = client.get(stepped.url("/chain_rule?layer=1&i=3&j=1")).json()
    response = client.get(stepped.url("/chain_rule.tex?layer=1&i=3&j=1&digits=17"))
    assert response.headers["content-type"].startswith("text/x-tex")
    tex = response.text
    written = {float(f"{m}e{e or 0}") for m, e in TEX_NUMBER.findall(tex)}
    for sample in rule["samples"]:
        assert {sample[k] for k in ("z_j", "f_prime_z_j", "upstream", "delta_j", "a_i", "product")} <= written
    assert {rule["sum"], rule["grad_reg"], rule["total"], rule["value"]} <= written
    assert r"\begin{tabular}" in tex and r"\end{tabular}" in tex and r"\frac{\partial L}{\partial W^{[1]}_{3,1}}" in tex
    assert r"\texttt{tanh}" in tex and "\\documentclass" not in tex   # a fragment to paste


def test_chain_rule_tex_escapes_names(client):
    created = create(client, {"preset": "xor", "network": {"activation": "leaky_relu", "layers": [2, 3, 1]}})
    for phase in ("forward", "loss", "backward"):
        client.post(created.url(f"/{phase}"), headers=created.auth)
    tex = client.get(created.url("/chain_rule.tex?layer=0&i=0&j=1")).text
    assert r"\texttt{leaky\_relu}" in tex and "leaky_relu" not in tex.replace(r"leaky\_relu", "")
