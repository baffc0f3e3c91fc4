"""The shapes of every request and response, as pydantic models (docs/api.md in code).

Request models are strict: `false` is not a number, `1.5` is not a whole number, NaN and
inf are refused, unknown fields are errors. The engine then checks each value's range
against the server's limits. Response models describe what routes send, for /docs and
for schema tests; routes serialise engine results with orjson, not through these models.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from engine import DATASETS, PHASES, PRESETS
from engine.config import ACTIVATIONS, INITS, LOSSES, OPTIMIZERS, OUTPUT_ACTIVATIONS, REGULARIZATIONS

# JSON has no NaN or inf: a diverged session's non-finite numbers are sent as these strings.
NonFinite = Literal["NaN", "Infinity", "-Infinity"]
Num = Union[float, NonFinite]
Vector = list[Num]
Matrix = list[list[Num]]
Phase = Literal[PHASES]
Number = Union[int, float]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def Opt(**constraints: Any) -> Any:
    """A field that may be left out (the preset fills it) but not sent as null."""
    return Field(default=None, json_schema_extra=_no_default, **constraints)


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)


# ---- the config ----------------------------------------------------------------------

class DataIn(Strict):
    name: Literal[tuple(DATASETS)] = Opt(description="a built-in data set, or custom with X and y")
    samples: int | None = Opt(description="rows to generate; null for the data set's default")
    noise: float | None = Opt(description="0 to 1; null for the data set's default")
    test_fraction: float = Opt(description="share of rows held out for testing, 0 to 0.9")
    seed: int = Opt(description="seed of generation and of the train/test split")
    X: list[list[float]] = Opt(description="custom only: one row of numbers per sample")
    y: list[Number | list[Number]] = Opt(
        description="custom only: a number per sample, or a row; class labels or one-hot rows for cross_entropy")


class NetworkIn(Strict):
    layers: list[int] = Opt(description="every layer's size, input and output included")
    activation: Literal[ACTIVATIONS] = Opt()
    output_activation: Literal[OUTPUT_ACTIVATIONS] = Opt()
    init: Literal[INITS] = Opt()
    init_range: list[float] = Opt(min_length=2, max_length=2, description="[low, high] for init uniform")
    W: list[list[list[float]]] = Opt(description="init explicit: W[l][i][j]")
    b: list[list[float]] = Opt(description="init explicit: b[l][j]")


class OptimizerIn(Strict):
    name: Literal[OPTIMIZERS] = Opt()
    learning_rate: float = Opt()
    momentum: float = Opt(description="momentum only; default 0.9")
    nesterov: bool = Opt(description="momentum only")
    alpha: float = Opt(description="rmsprop; default 0.99")
    beta1: float = Opt(description="adam; default 0.9")
    beta2: float = Opt(description="adam; default 0.999")
    eps: float = Opt(description="rmsprop and adam; default 1e-8")


class RegularizationIn(Strict):
    kind: Literal[REGULARIZATIONS] = Opt()
    rate: float = Opt()


class ConfigIn(Strict):
    data: DataIn = Opt()
    network: NetworkIn = Opt()
    loss: Literal[LOSSES] = Opt()
    optimizer: OptimizerIn = Opt()
    batch_size: int = Opt()
    regularization: RegularizationIn = Opt()
    seed: int = Opt(description="seed of initialisation and of mini-batch shuffling")
    freeze_biases: bool = Opt(description="biases keep their initial values (their gradients are still shown)")
    eval_every: int = Opt(description="iterations between full train/test evaluations in the history")


class CreateIn(ConfigIn):
    """A preset (the default one if left out), and any fields that override it."""
    preset: Literal[tuple(PRESETS)] = Opt()

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"preset": "circle"},
        {"preset": "xor", "optimizer": {"name": "momentum", "learning_rate": 0.05}, "seed": 3},
        {"data": {"name": "custom", "X": [[0, 0], [0, 1], [1, 0], [1, 1]], "y": [0, 1, 1, 0],
                  "test_fraction": 0},
         "network": {"layers": [2, 2, 1], "activation": "sigmoid", "output_activation": "sigmoid"},
         "loss": "bce", "batch_size": 4},
    ]})


# ---- other request bodies --------------------------------------------------------------

class TrainIn(Strict):
    iterations: int = Opt(ge=1, description="whole iterations to run (an iteration in progress counts as one)")
    epochs: int = Opt(ge=1, description="epoch boundaries to cross")

    model_config = ConfigDict(json_schema_extra={"examples": [{"iterations": 100}, {"epochs": 5}]})


class RewindIn(Strict):
    iterations: int = Field(ge=0, description="how many iterations back; 0 drops the iteration in progress")

    model_config = ConfigDict(json_schema_extra={"examples": [{"iterations": 1}]})


class NetworkSetIn(Strict):
    W: list[list[list[float]]] = Field(description="W[l][i][j], every layer in full")
    b: list[list[float]] = Field(description="b[l][j], every layer in full")

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"W": [[[0.5], [-0.5]]], "b": [[0.1]]}]})


class PredictIn(Strict):
    X: list[list[float]] = Field(description="input rows")

    model_config = ConfigDict(json_schema_extra={"examples": [{"X": [[0.5, -1.0], [2.0, 0.0]]}]})


class ImportIn(BaseModel):
    """A document from GET /api/sessions/{id}/export. Its parts are the engine's to check."""
    model_config = ConfigDict(strict=True, extra="allow")
    format: Literal["taffy-session"]
    version: int


# ---- websocket commands ------------------------------------------------------------------

class AuthCommand(Strict):
    type: Literal["auth"]
    token: str


class StepCommand(Strict):
    type: Literal["step"]
    phase: Literal[PHASES + ("iteration", "epoch")]


class PlayCommand(Strict):
    type: Literal["play"]
    iterations_per_second: float | None = Field(default=None, gt=0)


class PauseCommand(Strict):
    type: Literal["pause"]


class RewindCommand(Strict):
    type: Literal["rewind"]
    iterations: int = Field(ge=0)


Command = Annotated[Union[AuthCommand, StepCommand, PlayCommand, PauseCommand, RewindCommand],
                    Field(discriminator="type")]


# ---- responses ---------------------------------------------------------------------------

class FieldError(BaseModel):
    field: str
    rule: str


class Divergence(BaseModel):
    iteration: int
    phase: Phase
    layer: int | None
    detail: str


class ErrorBody(BaseModel):
    detail: str
    errors: list[FieldError]
    expected: Phase | None = Field(default=None, description="409 out of order: the phase to call instead")
    max_rewind: int | None = Field(default=None, description="409 rewinding too far: how far back it can go")
    divergence: Divergence | None = Field(default=None, description="409 on a diverged session: where it diverged")


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class Metrics(BaseModel):
    train_loss: Num
    test_loss: Num | None
    train_accuracy: Num | None = Field(description="null for regression")
    test_accuracy: Num | None


class Summary(BaseModel):
    id: str
    config: ConfigIn = Field(description="the full config; custom data rows are left out (see /data)")
    phase: Phase | None = Field(description="the last phase run in the iteration in progress")
    next_phase: Phase
    iteration: int = Field(description="completed iterations (updates applied)")
    epoch: int
    batch_in_epoch: int
    batches_per_epoch: int
    status: Literal["ok", "diverged"]
    divergence: Divergence | None
    playing: bool
    metrics: Metrics
    max_rewind: int
    task: Literal["classification", "regression"]


class Created(Summary):
    token: str = Field(description="send as `Authorization: Bearer <token>` to change the session")


class PhaseState(BaseModel):
    phase: Phase | None
    next_phase: Phase


class ForwardData(BaseModel):
    iteration: int
    batch: list[int]
    z: list[Matrix | None]
    a: list[Matrix]


class LossData(BaseModel):
    iteration: int
    loss: Num
    sample_losses: Vector
    regularization_loss: Num
    d_loss_d_output: Matrix
    targets: Matrix


class BackwardData(BaseModel):
    iteration: int
    delta: list[Matrix | None]
    grad_W: list[Matrix]
    grad_b: list[Vector]
    grad_W_reg: list[Matrix] | None


class UpdateData(BaseModel):
    iteration: int
    W: list[Matrix]
    b: list[Vector]
    step_W: list[Matrix]
    step_b: list[Vector]
    optimizer_state: dict[str, int | list[Matrix] | list[Vector]]


class ForwardOut(ForwardData, PhaseState):
    pass


class LossOut(LossData, PhaseState):
    pass


class BackwardOut(BackwardData, PhaseState):
    pass


class UpdateOut(UpdateData, PhaseState):
    pass


class TraceOut(BaseModel):
    iteration: int
    forward: ForwardData | None
    loss: LossData | None
    backward: BackwardData | None
    update: UpdateData | None


class TrainOut(BaseModel):
    iterations_run: int
    session: Summary


class NetworkOut(BaseModel):
    layers: list[int]
    W: list[Matrix]
    b: list[Vector]
    grad_W: list[Matrix] | None
    grad_b: list[Vector] | None


class Evaluation(BaseModel):
    iteration: int
    epoch: int
    train_loss: Num
    test_loss: Num | None
    train_accuracy: Num | None
    test_accuracy: Num | None


class HistoryOut(BaseModel):
    iterations: list[int]
    batch_loss: Vector
    grad_norm: Matrix
    evaluations: list[Evaluation]


class PredictOut(BaseModel):
    outputs: Matrix
    z: list[Matrix | None]
    a: list[Matrix]


class BoundaryOut(BaseModel):
    resolution: int
    x_range: list[float]
    y_range: list[float] | None
    outputs: Matrix = Field(description="[output][iy * r + ix]")
    neurons: list[Matrix | None] = Field(description="[layer][neuron][iy * r + ix]; neurons[0] null")


class GradEntry(BaseModel):
    analytic: Num
    numerical: Num
    relative_error: Num


class GradCheckOut(BaseModel):
    iteration: int
    batch: list[int]
    epsilon: float
    max_relative_error: Num
    W: list[list[list[GradEntry]]]
    b: list[list[GradEntry]]


class DataOut(BaseModel):
    task: Literal["classification", "regression"]
    feature_names: list[str]
    class_names: list[str] | None
    input_range: list[list[float]]
    X_train: list[list[float]]
    y_train: list[int] | list[list[float]]
    X_test: list[list[float]]
    y_test: list[int] | list[list[float]]
    targets_train: list[list[float]]


class Preset(BaseModel):
    name: str
    title: str
    description: str
    config: ConfigIn


class Options(BaseModel):
    activations: list[str]
    output_activations: list[str]
    losses: list[str]
    optimizers: list[str]
    inits: list[str]
    regularization: list[str]
    datasets: list[str]


class PresetsOut(BaseModel):
    default: str
    presets: list[Preset]
    options: Options
    limits: dict[str, int | float]


class DatasetOut(BaseModel):
    name: str
    task: Literal["classification", "regression", "any"]
    n_features: int | None
    n_classes: int | None
    default_samples: int | None
    max_samples: int | None
    default_noise: float | None
    description: str
    source: str | None


class DatasetsOut(BaseModel):
    datasets: list[DatasetOut]
