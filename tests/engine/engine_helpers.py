"""What several engine test modules share: a session from a base config with overrides,
and bit-for-bit equality through nested results."""
from __future__ import annotations

import math

import numpy as np

from engine import Config, Limits, Session


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
