"""Ready-made sessions for a classroom, and how a preset combines with explicit fields."""
from __future__ import annotations

import copy
from typing import Any

from .config import Config, Limits
from .errors import ConfigError

DEFAULT_PRESET = "circle"

PRESETS: dict[str, dict[str, Any]] = {
    "xor": {
        "title": "XOR, tiny",
        "description": "Two inputs, three hidden tanh neurons, one sigmoid output: the smallest "
                       "network that must bend its boundary twice. Every number fits on a slide.",
        "config": {
            "data": {"name": "xor", "samples": 100, "noise": 0.0, "test_fraction": 0.2, "seed": 0},
            "network": {"layers": [2, 3, 1], "activation": "tanh", "output_activation": "sigmoid",
                        "init": "xavier_uniform"},
            "loss": "bce",
            "optimizer": {"name": "sgd", "learning_rate": 0.1},
            "batch_size": 10,
        },
    },
    "circle": {
        "title": "Circle (TensorFlow Playground's default)",
        "description": "2-4-2-1 tanh network with tanh output and squared error, learning rate 0.03, "
                       "batch 10, half the points for testing: Playground's opening page.",
        "config": {
            "data": {"name": "circle", "samples": 200, "noise": 0.0, "test_fraction": 0.5, "seed": 0},
            "network": {"layers": [2, 4, 2, 1], "activation": "tanh", "output_activation": "tanh",
                        "init": "xavier_uniform"},
            "loss": "mse",
            "optimizer": {"name": "sgd", "learning_rate": 0.03},
            "batch_size": 10,
        },
    },
    "spiral": {
        "title": "Spiral, deep",
        "description": "Two interleaved spirals need a deeper network: 2-8-8-8-1 tanh with Adam.",
        "config": {
            "data": {"name": "spiral", "samples": 300, "noise": 0.0, "test_fraction": 0.2, "seed": 0},
            "network": {"layers": [2, 8, 8, 8, 1], "activation": "tanh", "output_activation": "tanh",
                        "init": "xavier_uniform"},
            "loss": "mse",
            "optimizer": {"name": "adam", "learning_rate": 0.01},
            "batch_size": 10,
        },
    },
    "iris": {
        "title": "Iris, softmax",
        "description": "Fisher's 150 flowers, 4 measurements, 3 species: 4-8-3 with a softmax output "
                       "and cross-entropy.",
        "config": {
            "data": {"name": "iris", "test_fraction": 0.2, "seed": 0},
            "network": {"layers": [4, 8, 3], "activation": "tanh", "output_activation": "softmax",
                        "init": "xavier_uniform"},
            "loss": "cross_entropy",
            "optimizer": {"name": "adam", "learning_rate": 0.01},
            "batch_size": 16,
        },
    },
    "curve": {
        "title": "Regression, a curve",
        "description": "Fit sin(x) from noisy points: 1-8-8-1 tanh with a linear output and squared error.",
        "config": {
            "data": {"name": "curve", "samples": 100, "noise": 0.1, "test_fraction": 0.2, "seed": 0},
            "network": {"layers": [1, 8, 8, 1], "activation": "tanh", "output_activation": "linear",
                        "init": "xavier_uniform"},
            "loss": "mse",
            "optimizer": {"name": "adam", "learning_rate": 0.01},
            "batch_size": 10,
        },
    },
    "digits": {
        "title": "Handwritten digits, 8×8",
        "description": "1,797 small images of digits, 64 pixels in, 10 classes out: 64-16-10 ReLU, softmax.",
        "config": {
            "data": {"name": "digits", "test_fraction": 0.2, "seed": 0},
            "network": {"layers": [64, 16, 10], "activation": "relu", "output_activation": "softmax",
                        "init": "he"},
            "loss": "cross_entropy",
            "optimizer": {"name": "adam", "learning_rate": 0.01},
            "batch_size": 32,
        },
    },
}


def preset_config(name: str) -> dict[str, Any]:
    """A preset's full config as a plain dict (every field filled in)."""
    if name not in PRESETS:
        raise ConfigError("preset", f"must be one of {', '.join(PRESETS)}")
    return Config.from_dict(copy.deepcopy(PRESETS[name]["config"])).to_dict()


def build_config(body: dict[str, Any], limits: Limits = Limits()) -> Config:
    """A config from a `preset` (the default one if none is named) plus explicit fields, which win.

    Choosing another data set drops the preset's data options (samples and noise belong to
    its data set), and choosing another optimizer drops its optimizer options.
    """
    if not isinstance(body, dict):
        raise ConfigError("config", "must be an object")
    body = copy.deepcopy(body)
    base = preset_config(body.pop("preset", DEFAULT_PRESET))
    for section, key in (("data", "name"), ("optimizer", "name")):
        given = body.get(section)
        if isinstance(given, dict) and key in given and given[key] != base.get(section, {}).get(key):
            base.pop(section, None)
    return Config.from_dict(_merge(base, body), limits)


def _merge(base: dict, overrides: dict) -> dict:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
