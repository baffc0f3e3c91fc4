"""Bad configuration raises ConfigError naming the field and the rule it broke, never
another exception, whether the rule is checked on the config alone or against the data."""
from __future__ import annotations

import copy

import pytest

from engine import Config, ConfigError, Limits, Session
from engine.presets import build_config

BASE = {
    "data": {"name": "circle", "samples": 40, "noise": 0.0, "test_fraction": 0.5, "seed": 0},
    "network": {"layers": [2, 4, 1], "activation": "tanh", "output_activation": "tanh", "init": "xavier_uniform"},
    "loss": "mse",
    "optimizer": {"name": "sgd", "learning_rate": 0.03},
    "batch_size": 10,
    "regularization": {"kind": "none", "rate": 0.0},
    "seed": 0,
}
EXPLICIT = {"network": {"layers": [2, 3, 1], "init": "explicit",
                        "W": [[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], [[1.0], [2.0], [3.0]]],
                        "b": [[0.0, 0.0, 0.0], [0.0]]}}
CUSTOM = {"data": {"name": "custom", "X": [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]],
                   "y": [[0.5], [0.25], [1.0], [0.0]], "test_fraction": 0.0}, "batch_size": 2}


def merged(*overrides) -> dict:
    config = copy.deepcopy(BASE)
    for override in overrides:
        for key, value in override.items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key] = {**config[key], **value}
            else:
                config[key] = value
    return config


def error(config: dict, limits: Limits = Limits()) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        Session(Config.from_dict(config, limits), limits)
    return info.value


def test_the_base_configs_are_valid():
    for config in (merged(), merged(EXPLICIT), merged(CUSTOM)):
        Session(Config.from_dict(config))


NAN, INF = float("nan"), float("inf")

CASES = [
    # layer sizes
    ({"network": {"layers": [2, 4, 0]}}, "network.layers[2]", "must be between 1 and 64"),
    ({"network": {"layers": [2, -3, 1]}}, "network.layers[1]", "must be between 1 and 64"),
    ({"network": {"layers": [2, 65, 1]}}, "network.layers[1]", "must be between 1 and 64"),
    ({"network": {"layers": [0, 4, 1]}}, "network.layers[0]", "between 1 and"),
    ({"network": {"layers": [2, 4.0, 1]}}, "network.layers[1]", "whole number"),
    ({"network": {"layers": [2, True, 1]}}, "network.layers[1]", "whole number"),
    ({"network": {"layers": [2, "4", 1]}}, "network.layers[1]", "whole number"),
    ({"network": {"layers": [2]}}, "network.layers", "between 2 and 10"),
    ({"network": {"layers": [2] + [3] * 10}}, "network.layers", "between 2 and 10"),
    ({"network": {"layers": "2-4-1"}}, "network.layers", "list"),
    ({"network": {"layers": None}}, "network.layers", "list"),
    # names
    ({"network": {"activation": "gelu"}}, "network.activation", "must be one of sigmoid, tanh, relu"),
    ({"network": {"activation": "softmax"}}, "network.activation", "must be one of"),
    ({"network": {"output_activation": "swish"}}, "network.output_activation", "must be one of"),
    ({"loss": "hinge"}, "loss", "must be one of mse, bce, cross_entropy"),
    ({"loss": ["mse"]}, "loss", "must be one of"),
    ({"optimizer": {"name": "lbfgs"}}, "optimizer.name", "must be one of sgd, momentum, rmsprop, adam"),
    ({"network": {"init": "zeros"}}, "network.init", "must be one of"),
    ({"regularization": {"kind": "l3"}}, "regularization.kind", "must be one of none, l1, l2"),
    ({"data": {"name": "mnist"}}, "data.name", "must be one of"),
    ({"data": {"name": 3}}, "data.name", "string"),
    # unknown fields
    ({"learning_rate": 0.1}, "learning_rate", "is not a known field"),
    ({"optimizer": {"lr": 0.1}}, "optimizer.lr", "is not a known field"),
    ({"network": {"layer": [2, 1]}}, "network.layer", "is not a known field"),
    ({"data": {"rows": 10}}, "data.rows", "is not a known field"),
    ({"regularization": {"strength": 1}}, "regularization.strength", "is not a known field"),
    ({"network": 3}, "network", "must be an object"),
    ({"optimizer": "adam"}, "optimizer", "must be an object"),
    # bools and strings where numbers are expected
    ({"batch_size": True}, "batch_size", "whole number"),
    ({"batch_size": 2.5}, "batch_size", "whole number"),
    ({"seed": False}, "seed", "whole number"),
    ({"seed": -1}, "seed", "between 0 and"),
    ({"eval_every": 0}, "eval_every", "between 1 and"),
    ({"optimizer": {"learning_rate": True}}, "optimizer.learning_rate", "must be a number"),
    ({"optimizer": {"learning_rate": "0.1"}}, "optimizer.learning_rate", "must be a number"),
    ({"optimizer": {"learning_rate": None}}, "optimizer.learning_rate", "must be a number"),
    ({"regularization": {"kind": "l2", "rate": True}}, "regularization.rate", "must be a number"),
    ({"data": {"samples": True}}, "data.samples", "whole number"),
    ({"data": {"noise": True}}, "data.noise", "must be a number"),
    ({"data": {"test_fraction": False}}, "data.test_fraction", "must be a number"),
    ({"optimizer": {"name": "momentum", "nesterov": 1}}, "optimizer.nesterov", "true or false"),
    ({"freeze_biases": 1}, "freeze_biases", "true or false"),
    # non-finite and out-of-range numbers
    ({"optimizer": {"learning_rate": NAN}}, "optimizer.learning_rate", "finite"),
    ({"optimizer": {"learning_rate": INF}}, "optimizer.learning_rate", "finite"),
    ({"optimizer": {"learning_rate": -INF}}, "optimizer.learning_rate", "finite"),
    ({"optimizer": {"learning_rate": 10**400}}, "optimizer.learning_rate", "finite"),
    ({"optimizer": {"learning_rate": -0.1}}, "optimizer.learning_rate", "must be in [0, 100]"),
    ({"optimizer": {"learning_rate": 101}}, "optimizer.learning_rate", "must be in [0, 100]"),
    ({"optimizer": {"name": "momentum", "momentum": NAN}}, "optimizer.momentum", "finite"),
    ({"optimizer": {"name": "momentum", "momentum": 1.5}}, "optimizer.momentum", "must be in"),
    ({"optimizer": {"name": "momentum", "momentum": 0.0, "nesterov": True}}, "optimizer.nesterov", "momentum"),
    ({"optimizer": {"name": "adam", "beta1": 1.0}}, "optimizer.beta1", "[0, 1)"),
    ({"optimizer": {"name": "adam", "beta2": INF}}, "optimizer.beta2", "finite"),
    ({"optimizer": {"name": "adam", "eps": 0.0}}, "optimizer.eps", "(0, 1]"),
    ({"optimizer": {"name": "rmsprop", "alpha": -0.5}}, "optimizer.alpha", "must be in"),
    ({"regularization": {"kind": "l2", "rate": NAN}}, "regularization.rate", "finite"),
    ({"regularization": {"kind": "l2", "rate": -1}}, "regularization.rate", "must be in"),
    ({"data": {"noise": NAN}}, "data.noise", None),
    ({"data": {"noise": 2.0}}, "data.noise", None),
    ({"data": {"test_fraction": 0.95}}, "data.test_fraction", None),
    ({"data": {"samples": 1}}, "data.samples", None),
    ({"data": {"samples": 10**6}}, "data.samples", None),
    ({"data": {"seed": -1}}, "data.seed", None),
    ({"network": {"init": "uniform", "init_range": [1.0, -1.0]}}, "network.init_range", "low < high"),
    ({"network": {"init": "uniform", "init_range": [0.0, NAN]}}, "network.init_range[1]", "finite"),
    ({"network": {"init": "uniform", "init_range": [-(10**400), 1]}}, "network.init_range[0]", "finite"),
    ({"network": {"init": "uniform", "init_range": [1.0]}}, "network.init_range", "two numbers"),
    # activations and losses that do not go together
    ({"network": {"output_activation": "softmax", "layers": [2, 4, 2]}}, "loss", "cross_entropy"),
    ({"loss": "cross_entropy"}, "loss", "softmax"),
    ({"loss": "cross_entropy", "network": {"output_activation": "sigmoid", "layers": [2, 4, 2]}}, "loss", "softmax"),
    ({"loss": "bce"}, "loss", "sigmoid"),
    ({"loss": "bce", "network": {"output_activation": "relu"}}, "loss", "sigmoid"),
    ({"loss": "cross_entropy", "network": {"output_activation": "softmax"}}, "network.layers[-1]", "at least 2"),
    # the network against the data
    ({"network": {"layers": [3, 4, 1]}}, "network.layers[0]", "must be 2"),
    ({"network": {"layers": [2, 4, 3]}}, "network.layers[-1]", "must be 2"),
    ({"data": {"name": "iris", "samples": None, "noise": None}, "network": {"layers": [4, 4, 2],
      "output_activation": "softmax"}, "loss": "cross_entropy"}, "network.layers[-1]", "must be 3"),
    ({"data": {"name": "iris", "samples": None, "noise": None}, "network": {"layers": [4, 4, 1]}},
     "network.layers[-1]", "must be 3"),
    ({"data": {"name": "curve", "samples": 40, "noise": 0.1}, "network": {"layers": [1, 4, 2],
      "output_activation": "softmax"}, "loss": "cross_entropy"}, "loss", "class labels"),
    ({"data": {"name": "curve", "samples": 40, "noise": 0.1}, "network": {"layers": [1, 4, 2]}},
     "network.layers[-1]", "must be 1"),
    ({"data": {"name": "iris", "samples": None, "noise": 0.1}, "network": {"layers": [4, 4, 3]}},
     "data.noise", "does not apply"),
    ({"batch_size": 21}, "batch_size", "must be between 1 and 20"),
    ({"batch_size": 0}, "batch_size", "between 1 and"),
    # explicit parameters
    ({"network": {"init": "explicit"}}, "network.W", "must both be given"),
    ({"network": {"W": [[[0.0]]], "b": [[0.0]]}}, "network.init", "explicit"),
    ({**EXPLICIT, "network": {**EXPLICIT["network"], "W": EXPLICIT["network"]["W"][:1]}},
     "network.W", "must be a list of 2 layers"),
    ({**EXPLICIT, "network": {**EXPLICIT["network"], "W": [[[0.1, 0.2], [0.4, 0.5]], [[1.0], [2.0], [3.0]]]}},
     "network.W[0]", "must have shape [2, 3]"),
    ({**EXPLICIT, "network": {**EXPLICIT["network"], "W": [[[0.1, 0.2, 0.3], [0.4, 0.5]], [[1.0], [2.0], [3.0]]]}},
     "network.W[0]", "ragged"),
    ({**EXPLICIT, "network": {**EXPLICIT["network"], "W": [[[0.1, NAN, 0.3], [0.4, 0.5, 0.6]], [[1.0], [2.0], [3.0]]]}},
     "network.W[0]", "finite"),
    ({**EXPLICIT, "network": {**EXPLICIT["network"], "W": [[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], [[1.0], [INF], [3.0]]]}},
     "network.W[1]", "finite"),
    ({**EXPLICIT, "network": {**EXPLICIT["network"], "W": [[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], [[1.0], [10**400], [3.0]]]}},
     "network.W[1]", "finite"),
    ({**EXPLICIT, "network": {**EXPLICIT["network"], "W": [[[0.1, "0.2", 0.3], [0.4, 0.5, 0.6]], [[1.0], [2.0], [3.0]]]}},
     "network.W[0]", "only numbers"),
    ({**EXPLICIT, "network": {**EXPLICIT["network"], "W": [[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], [[True], [2.0], [3.0]]]}},
     "network.W[1]", "only numbers"),
    ({**EXPLICIT, "network": {**EXPLICIT["network"], "b": [[0.0, 0.0], [0.0]]}}, "network.b[0]", "shape [3]"),
    ({**EXPLICIT, "network": {**EXPLICIT["network"], "b": [[0.0, 0.0, None], [0.0]]}}, "network.b[0]", None),
    ({**EXPLICIT, "network": {**EXPLICIT["network"], "b": "zeros"}}, "network.b", "list"),
    # custom data
    ({**CUSTOM, "data": {**CUSTOM["data"], "X": [[0.0, 1.0], [1.0], [1.0, 1.0], [0.0, 0.0]]}},
     "data.X[1]", "every row must have 2"),
    ({**CUSTOM, "data": {**CUSTOM["data"], "X": [[0.0, 1.0], [1.0, "a"], [1.0, 1.0], [0.0, 0.0]]}},
     "data.X[1][1]", "finite number"),
    ({**CUSTOM, "data": {**CUSTOM["data"], "X": [[0.0, 1.0], [1.0, NAN], [1.0, 1.0], [0.0, 0.0]]}},
     "data.X[1][1]", "finite number"),
    ({**CUSTOM, "data": {**CUSTOM["data"], "y": [[0.5], [0.25], [1.0]]}}, "data.y", "one per row"),
    ({**CUSTOM, "data": {**CUSTOM["data"], "y": None}}, "data.X", "data.y must both be given"),
    ({**CUSTOM, "data": {**CUSTOM["data"], "X": []}}, "data.X", "at least 1 row"),
    ({"data": {"X": [[0.0, 1.0]], "y": [1]}}, "data.X", "custom"),
    ({**CUSTOM, "data": {**CUSTOM["data"], "y": [0, 1, 2, 1]}, "loss": "bce",
      "network": {"output_activation": "sigmoid"}}, "network.layers[-1]", "must be 3"),
    ({"data": {"name": "curve", "samples": 40, "noise": 0.1}, "network": {"layers": [1, 4, 1],
      "output_activation": "sigmoid"}, "loss": "bce"}, "loss", "between 0 and 1"),
    ({**CUSTOM, "data": {**CUSTOM["data"], "y": [[0.5], [0.25], [1.0], [2.0]]}, "loss": "bce",
      "network": {"output_activation": "sigmoid"}}, "data.y[0]", "one-hot"),
    ({**CUSTOM, "data": {**CUSTOM["data"], "y": [1, 1, 1, 1]}, "loss": "bce",
      "network": {"output_activation": "sigmoid"}}, "data.y", "has no row of class 0"),
    ({**CUSTOM, "data": {**CUSTOM["data"], "y": [0.5, 1, 0, 1]}, "loss": "bce",
      "network": {"output_activation": "sigmoid"}}, "data.y[0]", "class label"),
    ({**CUSTOM, "batch_size": 5}, "batch_size", "must be between 1 and 4"),
]


@pytest.mark.parametrize("override,field,rule", CASES, ids=[f"{i}:{c[1]}" for i, c in enumerate(CASES)])
def test_bad_configuration_names_the_field_and_the_rule(override, field, rule):
    e = error(merged(override))
    assert e.field == field, str(e)
    if rule is not None:
        assert rule in e.rule, str(e)
    assert str(e).startswith(field)


def test_the_issue_s_example_message():
    e = error(merged({"network": {"layers": [2, 4, 0]}}))
    assert str(e) == "network.layers[2] must be between 1 and 64"


@pytest.mark.parametrize("limits,override,field,rule", [
    (Limits(max_parameters=16), {}, "network.layers", "make 17 parameters; at most 16"),
    (Limits(max_layers=3), {"network": {"layers": [2, 4, 4, 1]}}, "network.layers", "between 2 and 3"),
    (Limits(max_neurons=3), {}, "network.layers[1]", "between 1 and 3"),
    (Limits(max_batch_size=5), {}, "batch_size", "between 1 and 5"),
    (Limits(max_rows=30), {}, "data.samples", "between 2 and 30"),
])
def test_limits_are_enforced(limits, override, field, rule):
    e = error(merged(override), limits)
    assert e.field == field and rule in e.rule, str(e)


@pytest.mark.parametrize("config,field", [
    ([], "config"), ("circle", "config"), (None, "config"),
])
def test_a_config_that_is_not_an_object(config, field):
    with pytest.raises(ConfigError) as info:
        Config.from_dict(config)
    assert info.value.field == field


def test_build_config_names_bad_presets_and_merges_the_rest():
    with pytest.raises(ConfigError) as info:
        build_config({"preset": "mnist"})
    assert info.value.field == "preset"
    with pytest.raises(ConfigError) as info:
        build_config({"preset": "xor", "network": {"layers": [2, 0, 1]}})
    assert info.value.field == "network.layers[1]"
    with pytest.raises(ConfigError) as info:
        build_config("xor")
    assert info.value.field == "config"
    c = build_config({"preset": "xor", "optimizer": {"learning_rate": 0.5}})
    assert (c.optimizer.name, c.optimizer.learning_rate, c.loss) == ("sgd", 0.5, "bce")
    # another optimizer drops the preset's optimizer options
    c = build_config({"preset": "xor", "optimizer": {"name": "adam"}})
    assert (c.optimizer.name, c.optimizer.learning_rate) == ("adam", 0.03)


def test_every_preset_builds_a_session():
    from engine import PRESETS
    for name in PRESETS:
        s = Session(build_config({"preset": name}))
        s.train(iterations=2)
        assert s.status == "ok"
