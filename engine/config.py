"""One configuration for a training session, with the rules each field must follow.

`Config.from_dict` is the single gate: every value is checked here, and a broken rule
raises ConfigError naming the field (`network.layers[2] must be between 1 and 64`).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .errors import ConfigError

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")
OUTPUT_ACTIVATIONS = ACTIVATIONS + ("softmax",)
LOSSES = ("mse", "bce", "cross_entropy")
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
INITS = ("xavier_uniform", "xavier_normal", "he", "uniform", "explicit")
REGULARIZATIONS = ("none", "l1", "l2")


@dataclass(frozen=True)
class Limits:
    """Sizes a session may have. The server makes each configurable and advertises them."""

    max_layers: int = 10            # entries in network.layers, input and output included
    max_neurons: int = 64           # per layer after the input
    max_inputs: int = 1024          # the input layer (data columns)
    max_parameters: int = 200_000
    max_rows: int = 10_000          # data set rows
    max_batch_size: int = 10_000
    max_history: int = 1_000        # iterations kept for rewind
    max_history_bytes: int = 64 * 2**20


@dataclass
class DataConfig:
    name: str = "circle"
    samples: int | None = None      # None: the data set's default
    noise: float | None = None      # None: the data set's default
    test_fraction: float = 0.2
    seed: int = 0
    X: list | None = None           # custom data only
    y: list | None = None


@dataclass
class NetworkConfig:
    layers: list[int] = field(default_factory=lambda: [2, 4, 2, 1])
    activation: str = "tanh"
    output_activation: str = "tanh"
    init: str = "xavier_uniform"
    init_range: tuple[float, float] = (-0.5, 0.5)
    W: list | None = None           # init "explicit" only: W[l][i][j]
    b: list | None = None           # init "explicit" only: b[l][j]


@dataclass
class OptimizerConfig:
    name: str = "sgd"
    learning_rate: float = 0.03
    momentum: float = 0.9           # momentum only
    nesterov: bool = False          # momentum only
    alpha: float = 0.99             # rmsprop
    beta1: float = 0.9              # adam
    beta2: float = 0.999            # adam
    eps: float = 1e-8               # rmsprop, adam


@dataclass
class RegularizationConfig:
    kind: str = "none"
    rate: float = 0.0


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    loss: str = "mse"
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    batch_size: int = 10
    regularization: RegularizationConfig = field(default_factory=RegularizationConfig)
    seed: int = 0                   # initialisation and mini-batch shuffling
    freeze_biases: bool = False     # biases keep their initial values (gradients still shown)
    eval_every: int = 10            # iterations between full train/test evaluations in history

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["network"]["init_range"] = list(self.network.init_range)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], limits: Limits = Limits()) -> "Config":
        """Build and check a config; unknown fields and broken rules raise ConfigError."""
        _require_dict("config", d)
        _reject_unknown("", d, cls)
        config = cls(
            data=_sub(DataConfig, d, "data"),
            network=_sub(NetworkConfig, d, "network"),
            optimizer=_sub(OptimizerConfig, d, "optimizer"),
            regularization=_sub(RegularizationConfig, d, "regularization"),
            **{k: d[k] for k in ("loss", "batch_size", "seed", "eval_every", "freeze_biases") if k in d},
        )
        config.check(limits)
        return config

    def check(self, limits: Limits = Limits()) -> None:
        """Check every rule that does not depend on the data set's shape."""
        data, net, opt, reg = self.data, self.network, self.optimizer, self.regularization
        check_choice("loss", self.loss, LOSSES)
        check_int("batch_size", self.batch_size, 1, limits.max_batch_size)
        check_int("seed", self.seed, 0, 2**63 - 1)
        check_int("eval_every", self.eval_every, 1, 1_000_000)
        if not isinstance(self.freeze_biases, bool):
            raise ConfigError("freeze_biases", "must be true or false")

        if not isinstance(data.name, str):
            raise ConfigError("data.name", "must be a string")
        if data.samples is not None:
            check_int("data.samples", data.samples, 2, limits.max_rows)
        if data.noise is not None:
            check_float("data.noise", data.noise, 0.0, 1.0)
        check_float("data.test_fraction", data.test_fraction, 0.0, 0.9)
        check_int("data.seed", data.seed, 0, 2**63 - 1)

        if not isinstance(net.layers, list):
            raise ConfigError("network.layers", "must be a list of layer sizes")
        if not 2 <= len(net.layers) <= limits.max_layers:
            raise ConfigError(
                "network.layers", f"must list between 2 and {limits.max_layers} layer sizes"
            )
        check_int("network.layers[0]", net.layers[0], 1, limits.max_inputs)
        for l, n in enumerate(net.layers[1:], start=1):
            check_int(f"network.layers[{l}]", n, 1, limits.max_neurons)
        n_params = sum((a + 1) * b for a, b in zip(net.layers, net.layers[1:]))
        if n_params > limits.max_parameters:
            raise ConfigError(
                "network.layers",
                f"make {n_params} parameters; at most {limits.max_parameters} are allowed",
            )
        check_choice("network.activation", net.activation, ACTIVATIONS)
        check_choice("network.output_activation", net.output_activation, OUTPUT_ACTIVATIONS)
        check_choice("network.init", net.init, INITS)
        if not (isinstance(net.init_range, (list, tuple)) and len(net.init_range) == 2):
            raise ConfigError("network.init_range", "must be two numbers [low, high]")
        low, high = (check_float(f"network.init_range[{i}]", v, -100.0, 100.0)
                     for i, v in enumerate(net.init_range))
        if not low < high:
            raise ConfigError("network.init_range", "must have low < high")
        if net.init == "explicit" and (net.W is None or net.b is None):
            raise ConfigError("network.W", "and network.b must both be given when init is explicit")
        if net.init != "explicit" and (net.W is not None or net.b is not None):
            raise ConfigError("network.init", 'must be "explicit" when W and b are given')

        softmax = net.output_activation == "softmax"
        if softmax != (self.loss == "cross_entropy"):
            raise ConfigError(
                "loss", "cross_entropy goes with output_activation softmax, and softmax with cross_entropy"
            )
        if softmax and net.layers[-1] < 2:
            raise ConfigError("network.layers[-1]", "must be at least 2 for a softmax output")
        if self.loss == "bce" and net.output_activation != "sigmoid":
            raise ConfigError("loss", "bce needs output_activation sigmoid (outputs in (0, 1))")

        check_choice("optimizer.name", opt.name, OPTIMIZERS)
        check_float("optimizer.learning_rate", opt.learning_rate, 0.0, 100.0)
        check_float("optimizer.momentum", opt.momentum, 0.0, 1.0)
        if not isinstance(opt.nesterov, bool):
            raise ConfigError("optimizer.nesterov", "must be true or false")
        if opt.nesterov and opt.momentum <= 0:
            raise ConfigError("optimizer.nesterov", "needs momentum above 0")
        check_float("optimizer.alpha", opt.alpha, 0.0, 1.0)
        check_float("optimizer.beta1", opt.beta1, 0.0, 1.0, high_open=True)
        check_float("optimizer.beta2", opt.beta2, 0.0, 1.0, high_open=True)
        check_float("optimizer.eps", opt.eps, 0.0, 1.0, low_open=True)

        check_choice("regularization.kind", reg.kind, REGULARIZATIONS)
        check_float("regularization.rate", reg.rate, 0.0, 10.0)


def check_int(name: str, value: Any, low: int, high: int) -> int:
    """An int (not a bool, not a float) in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(name, f"must be a whole number between {low} and {high}")
    if not low <= value <= high:
        raise ConfigError(name, f"must be between {low} and {high}")
    return value


def check_float(name: str, value: Any, low: float, high: float,
                low_open: bool = False, high_open: bool = False) -> float:
    """A finite real number (ints accepted, bools not) in the given interval."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(name, "must be a number")
    try:
        finite = math.isfinite(value)
    except OverflowError:   # an int beyond float64, as JSON allows
        finite = False
    if not finite:
        raise ConfigError(name, "must be a finite number")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ConfigError(name, f"must be in {interval}")
    return float(value)


def check_choice(name: str, value: Any, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ConfigError(name, f"must be one of {', '.join(options)}")
    return value


def _require_dict(name: str, value: Any) -> None:
    if not isinstance(value, dict):
        raise ConfigError(name, "must be an object")


def _reject_unknown(prefix: str, d: dict, cls: type) -> None:
    known = {f.name for f in fields(cls)}
    for key in d:
        if key not in known:
            raise ConfigError(f"{prefix}{key}", f"is not a known field; known: {', '.join(sorted(known))}")


def _sub(cls: type, d: dict, key: str):
    part = d.get(key, {})
    _require_dict(key, part)
    _reject_unknown(f"{key}.", part, cls)
    obj = cls(**part)
    if cls is NetworkConfig:
        obj.init_range = tuple(obj.init_range) if isinstance(obj.init_range, list) else obj.init_range
        if isinstance(obj.layers, tuple):
            obj.layers = list(obj.layers)
    return obj
