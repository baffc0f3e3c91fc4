"""What several engine test modules share: a session from a base config with overrides,
bit-for-bit equality through nested results, and random network shapes for property tests."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from engine import Config, Limits, Session

HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")
# every (output activation, loss) pairing the config allows
OUTPUTS = (("sigmoid", "mse"), ("tanh", "mse"), ("linear", "mse"), ("relu", "mse"),
           ("leaky_relu", "mse"), ("sigmoid", "bce"), ("softmax", "cross_entropy"))


@st.composite
def network_shapes(draw, max_classes: int) -> tuple[list[int], str, str, str]:
    """(layers, hidden, output, loss): 1–6 weight layers of 1–8 neurons, the output layer
    fitted to the loss (2..max_classes for softmax; 1, or one per class, for bce)."""
    n_weight_layers = draw(st.integers(1, 6))
    layers = draw(st.lists(st.integers(1, 8), min_size=n_weight_layers + 1, max_size=n_weight_layers + 1))
    hidden = draw(st.sampled_from(HIDDEN))
    output, loss = draw(st.sampled_from(OUTPUTS))
    if loss == "cross_entropy":
        layers[-1] = draw(st.integers(2, max_classes))
    elif loss == "bce":
        layers[-1] = draw(st.sampled_from([1, 2]))
    return layers, hidden, output, loss


def session_from(base: dict, overrides: dict, limits: Limits = Limits()) -> Session:
    """`base` with each override applied (one level deep for sections such as "optimizer")."""
    config = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    return Session(Config.from_dict(config), limits)


def assert_same(a, b):
    """Equal bit for bit, through lists/dicts/dataclasses of arrays: same types, shapes, dtypes."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_same(a[k], b[k])
    elif hasattr(a, "__dataclass_fields__"):
        assert type(a) is type(b)
        for k in a.__dataclass_fields__:
            assert_same(getattr(a, k), getattr(b, k))
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b)
    else:
        assert a == b
