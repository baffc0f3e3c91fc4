"""A session saved to a plain dict (and through JSON) and rebuilt carries on bit for bit;
a malformed document raises ConfigError, never anything else."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from engine_helpers import assert_same, session_from
from engine import PHASES, Config, ConfigError, Limits, Session, session_from_state, session_to_state
from engine.serialize import from_document, to_document


def make(**overrides) -> Session:
    config = {
        "data": {"name": "spiral", "samples": 60, "noise": 0.1, "test_fraction": 0.2, "seed": 4},
        "network": {"layers": [2, 6, 4, 1], "activation": "tanh", "output_activation": "sigmoid"},
        "loss": "bce",
        "optimizer": {"name": "adam", "learning_rate": 0.02},
        "batch_size": 9,           # 48 training rows: 6 batches, the last of 3
        "regularization": {"kind": "l2", "rate": 0.001},
        "seed": 3,
        "eval_every": 4,
    }
    return session_from(config, overrides)


def through_json(state: dict) -> dict:
    return from_document(json.loads(json.dumps(to_document(state), allow_nan=False)))


def assert_carries_on_identically(original: Session, restored: Session, iterations: int = 8):
    for attr in ("iteration", "epoch", "batch_pos", "phase", "next_phase", "status", "divergence",
                 "max_rewind", "layer"):
        assert getattr(restored, attr) == getattr(original, attr), attr
    np.testing.assert_array_equal(restored.network.params, original.network.params)
    np.testing.assert_array_equal(restored.optimizer.flat_state, original.optimizer.flat_state)
    assert_same(restored.optimizer_state(), original.optimizer_state())
    assert_same(restored.history(), original.history())
    assert restored.metrics() == original.metrics()
    if original.phase is not None:                # the iteration in progress, as it was
        assert_same(restored.trace(), original.trace())
    if original.status != "ok":
        return
    # finish the iteration in progress, then whole ones, phase by phase: every number the same
    for _ in range(iterations):
        while True:
            p = original.next_phase
            assert_same(restored.run_phase(p), original.run_phase(p))
            if p == "update":
                break
    assert_same(restored.history(), original.history())
    # and the rebuilt history rewinds as far, to the same states
    back = original.max_rewind
    original.rewind(back)
    restored.rewind(back)
    np.testing.assert_array_equal(restored.network.params, original.network.params)
    original.train(iterations=3)
    restored.train(iterations=3)
    np.testing.assert_array_equal(restored.network.params, original.network.params)


def fresh():
    return make()


def trained():
    s = make()
    s.train(iterations=13)
    return s


def in_phase(phase):
    def build():
        s = make()
        s.train(iterations=7)
        for q in PHASES[:PHASES.index(phase) + 1]:
            s.run_phase(q)
        return s
    return build


def layer_by_layer():
    s = make()
    s.train(iterations=2)
    s.forward(layers=1)
    return s


def rewound():
    s = make(optimizer={"name": "momentum", "learning_rate": 0.1, "nesterov": True})
    s.train(iterations=20)
    s.rewind(9)
    return s


def edited():
    s = make(optimizer={"name": "rmsprop", "learning_rate": 0.01})
    s.train(iterations=5)
    s.set_network([w * 0.5 for w in s.network.W], [v + 0.1 for v in s.network.b])
    s.train(iterations=2)
    return s


def sparse_snapshots():
    s = make(network={"layers": [2, 64, 64, 64, 1]}, batch_size=4)
    assert s.snapshot_every > 1
    s.train(iterations=s.snapshot_every + 1)     # between snapshots
    s.forward()
    s.loss()
    return s


def diverged():
    s = Session(Config.from_dict({
        "data": {"name": "custom", "X": [[1.0], [2.0]], "y": [0.0, 1.0], "test_fraction": 0.0},
        "network": {"layers": [1, 1, 1], "activation": "linear", "output_activation": "linear",
                    "init": "explicit", "W": [[[1e200]], [[1e200]]], "b": [[0.0], [0.0]]},
        "optimizer": {"name": "sgd", "learning_rate": 0.1}, "batch_size": 1}))
    s.forward()
    assert s.status == "diverged"
    return s


SCENARIOS = {"fresh": fresh, "trained": trained, "in-forward": in_phase("forward"),
             "in-loss": in_phase("loss"), "in-backward": in_phase("backward"),
             "layer-by-layer": layer_by_layer, "rewound": rewound, "edited": edited,
             "sparse-snapshots": sparse_snapshots, "diverged": diverged}


@pytest.mark.parametrize("json_round_trip", [False, True], ids=["state", "json"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_rebuilt_session_carries_on_bit_for_bit(name, json_round_trip):
    original = SCENARIOS[name]()
    state = session_to_state(original)
    if json_round_trip:
        state = through_json(state)
    assert_carries_on_identically(original, session_from_state(state))


def test_saving_does_not_disturb_the_session():
    s = make()
    s.train(iterations=4)
    s.forward()
    before = s.trace()
    session_to_state(s)
    assert_same(s.trace(), before)
    reference = make()
    reference.train(iterations=4)
    reference.forward()
    for p in ("loss", "backward", "update"):
        assert_same(s.run_phase(p), reference.run_phase(p))


def test_a_document_is_plain_json():
    doc = to_document(session_to_state(make()))
    text = json.dumps(doc, allow_nan=False)
    assert json.loads(text) == doc


# ---- malformed documents --------------------------------------------------------------------------

def base_state() -> dict:
    s = make()
    s.train(iterations=2 * s.snapshot_every + 7)   # three snapshots, and iterations since the newest
    s.forward()
    return session_to_state(s)


def set_path(d, path, value):
    for key in path[:-1]:
        d = d[key]
    d[path[-1]] = value


def mutate(path, value):
    def apply(state):
        set_path(state, path, value)
    return apply


def drop(*path):
    def apply(state):
        d = state
        for key in path[:-1]:
            d = d[key]
        del d[path[-1]]
    return apply


def meta(column, value, row=-1, phase="forward"):
    def apply(state):
        state["ring"]["meta"][row, column] = value
        state["phase"] = phase      # None: nothing is replayed on loading
    return apply


MALFORMED = {
    "not a dict": lambda s: s.clear() or s.update({"x": 1}),
    "wrong format": mutate(["format"], "other"),
    "wrong version": mutate(["version"], 99),
    "no config": drop("config"),
    "bad config": mutate(["config", "network", "layers"], [2, 0, 1]),
    "config not a dict": mutate(["config"], 5),
    "no epochs": drop("epochs"),
    "epochs not a list": mutate(["epochs"], 5),
    "order not a permutation": lambda s: s["epochs"][0].__setitem__("order", np.zeros(48, dtype=np.int64)),
    "order of strings": lambda s: s["epochs"][0].__setitem__("order", ["a"] * 48),
    "rng state not json": lambda s: s["epochs"][0].__setitem__("rng_state", "{"),
    "rng state wrong": lambda s: s["epochs"][0].__setitem__("rng_state", json.dumps({"a": 1})),
    "rng state a number": lambda s: s["epochs"][0].__setitem__("rng_state", 5),
    "epoch not a number": lambda s: s["epochs"][0].__setitem__("epoch", "x"),
    "lacks an epoch": lambda s: s.__setitem__("epochs", s["epochs"][1:]),
    "no ring": drop("ring"),
    "ring not a dict": mutate(["ring"], 5),
    "ring params a list": lambda s: s["ring"].__setitem__("params", s["ring"]["params"].tolist()),
    "ring params wrong width": lambda s: s["ring"].__setitem__("params", s["ring"]["params"][:, :3]),
    "ring params 1-d": lambda s: s["ring"].__setitem__("params", s["ring"]["params"][0]),
    "ring state wrong width": lambda s: s["ring"].__setitem__("state", s["ring"]["state"][:, :3]),
    "ring meta wrong width": lambda s: s["ring"].__setitem__("meta", s["ring"]["meta"][:, :2]),
    "ring lengths disagree": lambda s: s["ring"].__setitem__("meta", s["ring"]["meta"][1:]),
    "ring empty": lambda s: s.__setitem__("ring", {k: v[:0] if hasattr(v, "shape") else v
                                                   for k, v in s["ring"].items()}),
    "ring out of order": lambda s: s["ring"]["meta"].__setitem__(slice(None), s["ring"]["meta"][::-1]),
    "iteration beyond the ring": mutate(["iteration"], 99),
    "iteration negative": mutate(["iteration"], -1),
    "iteration a string": mutate(["iteration"], "seven"),
    "iteration null": mutate(["iteration"], None),
    "snapshot epoch negative": meta(1, -5),
    "snapshot batch position past the epoch": meta(2, 999),
    "snapshot batch position negative": meta(2, -1),
    "snapshot step count negative": meta(3, -7),
    "snapshot epoch negative, between iterations": meta(1, -5, phase=None),
    "snapshot batch position past the epoch, between iterations": meta(2, 999, phase=None),
    "snapshot batch position negative, between iterations": meta(2, -1, phase=None),
    "snapshot step count negative, between iterations": meta(3, -7, phase=None),
    "old snapshot batch position past the epoch": meta(2, 999, row=0, phase=None),
    "old snapshot iteration negative": meta(0, -3, row=0, phase=None),
    "phase unknown": mutate(["phase"], "iterate"),
    "phase a list": mutate(["phase"], ["forward"]),
    "layer out of range": lambda s: s.update({"phase": "forward", "layer": 7}),
    "layer a string": lambda s: s.update({"phase": "forward", "layer": "x"}),
    "no log": drop("log"),
    "log rows 1-d": lambda s: s["log"].__setitem__("rows", np.zeros(3)),
    "log rows wrong width": lambda s: s["log"].__setitem__("rows", np.zeros((3, 9))),
    "log rows a list": lambda s: s["log"].__setitem__("rows", [[1.0, 2.0]]),
    "evaluations rows 3-d": lambda s: s["evaluations"].__setitem__("rows", np.zeros((2, 2, 2))),
}


@pytest.fixture(scope="module")
def good_state():
    return base_state()


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_malformed_state_raises_config_error(good_state, name):
    state = copy.deepcopy(good_state)
    MALFORMED[name](state)
    try:
        restored = session_from_state(state)
    except ConfigError as e:
        assert e.field.startswith(("document", "config", "network")), str(e)
        return
    # accepted: fail, but first show whether it is a time bomb (a session that breaks later)
    restored.train(iterations=12)
    restored.rewind(restored.max_rewind)
    restored.train(iterations=3)
    pytest.fail(f"{name} was accepted")


@pytest.mark.parametrize("doc", [
    {"dtype": "float32", "shape": [1], "base64": "AAAAAA=="},
    {"dtype": "float64", "shape": [2], "base64": "AAAAAAAAAAA="},
    {"dtype": "float64", "shape": [1], "base64": "not base64!"},
    {"dtype": "float64", "shape": "x", "base64": "AAAAAAAAAAA="},
    {"dtype": "int64", "shape": [1], "base64": 5},
    {"dtype": ["float64"], "shape": [1], "base64": "AAAAAAAAAAA="},
])
def test_malformed_arrays_raise_config_error(doc):
    with pytest.raises(ConfigError):
        from_document({"ring": {"params": doc}})


@pytest.mark.parametrize("doc", [None, 5, "x", [], {"format": "taffy-session"}])
def test_documents_that_are_not_sessions(doc):
    with pytest.raises(ConfigError):
        session_from_state(from_document(doc))


def test_a_document_from_a_server_with_more_history_is_trimmed_to_this_ones_limits():
    s = make()
    s.train(iterations=30)
    restored = session_from_state(session_to_state(s), Limits(max_history=10))
    assert restored.max_rewind == 10 and restored.iteration == 30
    np.testing.assert_array_equal(restored.network.params, s.network.params)
    s.rewind(10)
    restored.rewind(10)
    np.testing.assert_array_equal(restored.network.params, s.network.params)
