"""The shapes of every request and response, as pydantic models (docs/api.md in code).

Request models are strict: `false` is not a number, `1.5` is not a whole number, NaN and
inf are refused, unknown fields are errors. The engine then checks each value's range
against the server's limits. Response models describe what routes send, for /docs and
for schema tests; routes serialise engine results with orjson, not through these models.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

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
    X: list[list[float]] | None = Field(default=None, description="custom only: one row of numbers per sample")
    y: list[Number | list[Number]] | None = Field(
        default=None,
        description="custom only: a number per sample, or a row; class labels or one-hot rows for cross_entropy")


class NetworkIn(Strict):
    layers: list[int] = Opt(description="every layer's size, input and output included")
    activation: Literal[ACTIVATIONS] = Opt()
    output_activation: Literal[OUTPUT_ACTIVATIONS] = Opt()
    init: Literal[INITS] = Opt()
    init_range: list[float] = Opt(min_length=2, max_length=2, description="[low, high] for init uniform")
    W: list[list[list[float]]] | None = Field(default=None, description="init explicit: W[l][i][j]")
    b: list[list[float]] | None = Field(default=None, description="init explicit: b[l][j]")


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

class WatchIn(Strict):
    layer: int = Field(ge=0)
    i: int = Field(ge=0)
    j: int | None = Field(default=None, ge=0, description="null (or left out): the bias b[layer][i]")
    value: float = Field(description="stop when the parameter crosses this value")


class BreakpointsIn(Strict):
    """Stop conditions for train and play, all optional (a NaN or inf always stops)."""
    loss_rising: int | None = Field(default=None, ge=1, description="the batch loss rose this many iterations in a row")
    grad_norm_above: float | None = Field(default=None, ge=0, description="any layer's gradient norm above this (exploding)")
    grad_norm_below: float | None = Field(default=None, ge=0, description="any layer's gradient norm below this (vanishing)")
    grad_norm_iterations: int | None = Field(default=None, ge=1,
                                             description="... for this many iterations in a row (default 1)")
    watch: WatchIn | None = Field(default=None, description="W[layer][i][j] (or b[layer][i]) crossed `value`")
    loss_below: float | None = Field(default=None, ge=0, description="the batch loss fell below this")
    at_iteration: int | None = Field(default=None, ge=1, description="this many iterations done")
    at_epoch: int | None = Field(default=None, ge=1, description="this many epochs done")

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"grad_norm_below": 1e-4, "grad_norm_iterations": 5},
        {"loss_rising": 3, "watch": {"layer": 0, "i": 1, "j": 0, "value": 0.0}}]})

    def conditions(self) -> dict[str, Any]:
        """As the engine takes them: the conditions given (a watch's null j means a bias)."""
        return self.model_dump(exclude_none=True)


class TrainIn(Strict):
    iterations: int = Opt(ge=1, description="whole iterations to run (an iteration in progress counts as one)")
    epochs: int = Opt(ge=1, description="epoch boundaries to cross")
    breakpoints: BreakpointsIn | None = Field(
        default=None, description="conditions to set first, as PUT /breakpoints does (null clears them); "
                                  "left out, those set stay")

    model_config = ConfigDict(json_schema_extra={"examples": [{"iterations": 100}, {"epochs": 5},
                                                              {"iterations": 500, "breakpoints": {"loss_below": 0.05}}]})


class LayersIn(Strict):
    layers: int = Field(ge=1, description="advance this many weight layers only (at most the network's)")

    model_config = ConfigDict(json_schema_extra={"examples": [{"layers": 1}]})


class RewindIn(Strict):
    iterations: int = Field(ge=0, description="how many iterations back; 0 drops the iteration in progress")

    model_config = ConfigDict(json_schema_extra={"examples": [{"iterations": 1}]})


class NetworkSetIn(Strict):
    W: list[list[list[float]]] = Field(description="W[l][i][j], every layer in full")
    b: list[list[float]] = Field(description="b[l][j], every layer in full")

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"W": [[[0.5], [-0.5]]], "b": [[0.1]]}]})


class EditIn(Strict):
    layer: int = Field(ge=0)
    i: int = Field(ge=0)
    j: int | None = Field(default=None, ge=0, description="null (or left out): the bias b[layer][i]")
    value: float


class EditsIn(Strict):
    edits: list[EditIn] = Field(min_length=1, description="W[layer][i][j] (or b[layer][i]) = value, in order")

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"edits": [{"layer": 0, "i": 1, "j": 0, "value": 0.5}, {"layer": 1, "i": 0, "j": None, "value": -0.1}]}]})


IN_PLACE = "optimizer (its parameters, not its name), regularization, freeze_biases, eval_every"


def _needs_new_session(value: Any) -> Any:
    raise ValueError(f"needs a new session; in place: {IN_PLACE}")


# A config field that cannot change in place: declared so that sending it is refused naming
# the field and saying why, not as an unknown field.
NotInPlace = Annotated[Any, AfterValidator(_needs_new_session),
                       WithJsonSchema({"not": {}, "description": "cannot change in place: create a new session"})]


class ConfigChangeIn(Strict):
    """Training settings to change in place; rewinding to before the change brings the old ones back."""
    optimizer: OptimizerIn = Opt(description="its parameters (the name, if given, must stay the same)")
    regularization: RegularizationIn = Opt()
    freeze_biases: bool = Opt()
    eval_every: int = Opt()
    preset: NotInPlace = Opt()
    data: NotInPlace = Opt()
    network: NotInPlace = Opt()
    loss: NotInPlace = Opt()
    batch_size: NotInPlace = Opt()
    seed: NotInPlace = Opt()

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"optimizer": {"learning_rate": 0.01}}, {"regularization": {"kind": "l2", "rate": 0.001}, "freeze_biases": True}]})


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
    layers: int | None = Field(default=None, ge=1, description="forward and backward: this many weight layers only")


class PlayCommand(Strict):
    type: Literal["play"]
    iterations_per_second: float | None = Field(default=None, gt=0)
    breakpoints: BreakpointsIn | None = Field(default=None, description="set first (null clears); left out: unchanged")


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
    layer: int | None = Field(description="where a forward or backward stepped layer by layer stands; else null")
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
    a: list[Matrix | None] = Field(description="null for layers not reached yet")
    layer: int = Field(description="the highest layer whose a is known (L after the whole phase)")


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
    grad_W: list[Matrix | None] = Field(description="null for layers not reached yet")
    grad_b: list[Vector | None]
    grad_W_reg: list[Matrix | None] | None
    layer: int = Field(description="the lowest weight layer whose gradient is known (0 after the whole phase)")


OptimizerState = dict[str, int | list[Matrix] | list[Vector]]


class UpdateData(BaseModel):
    iteration: int
    W: list[Matrix]
    b: list[Vector]
    step_W: list[Matrix]
    step_b: list[Vector]
    optimizer_state: OptimizerState


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


BREAKPOINT_KINDS = ("nan", "loss_rising", "grad_norm_above", "grad_norm_below", "watch", "loss_below",
                    "at_iteration", "at_epoch")


class BreakpointOut(BaseModel):
    """What stopped training, and the numbers behind it (those that apply to its kind)."""
    kind: Literal[BREAKPOINT_KINDS] = Field(description="nan: a NaN or inf (the session diverged)")
    iteration: int
    epoch: int
    detail: str
    phase: Phase | None = Field(default=None, description="nan: the phase where it appeared")
    layer: int | None = None
    value: Num | None = None
    bound: Num | None = None
    iterations: int | None = Field(default=None, description="in a row")
    i: int | None = None
    j: int | None = None


class TrainOut(BaseModel):
    iterations_run: int
    stopped_by: Literal["diverged", "breakpoint"] | None = Field(description="null when every iteration ran")
    breakpoint: BreakpointOut | None
    session: Summary


class Watch(BaseModel):
    layer: int
    i: int
    j: int | None
    value: float


class Breakpoints(BaseModel):
    loss_rising: int | None
    grad_norm_above: float | None
    grad_norm_below: float | None
    grad_norm_iterations: int
    watch: Watch | None
    loss_below: float | None
    at_iteration: int | None
    at_epoch: int | None


class BreakpointsOut(BaseModel):
    breakpoints: Breakpoints | None


class NetworkOut(BaseModel):
    layers: list[int]
    W: list[Matrix]
    b: list[Vector]
    grad_W: list[Matrix] | None
    grad_b: list[Vector] | None
    optimizer_state: OptimizerState = Field(description="as in update; Adam adds the bias-corrected "
                                                        "exp_avg_hat_W/_b and exp_avg_sq_hat_W/_b")


class Evaluation(BaseModel):
    iteration: int
    epoch: int
    train_loss: Num
    test_loss: Num | None
    train_accuracy: Num | None
    test_accuracy: Num | None


DiagnosticsTable = list[list[Num | None]]   # [layer][column], null where a column does not apply


class HistoryOut(BaseModel):
    iterations: list[int]
    batch_loss: Vector
    grad_norm: Matrix
    evaluations: list[Evaluation]
    diagnostics_iterations: list[int] = Field(description="every eval_every iterations")
    diagnostics: list[DiagnosticsTable] = Field(description="[row][layer][column], columns as in /diagnostics")


class Hint(BaseModel):
    kind: Literal["dead_relu", "saturated", "update_too_large", "update_too_small", "vanishing", "exploding"]
    layer: int | None
    message: str
    numbers: dict[str, Num | int]


class DiagnosticsOut(BaseModel):
    iteration: int | None = Field(description="the last completed iteration; null before one")
    columns: list[str]
    layers: DiagnosticsTable
    hints: list[Hint]


class Gradient(BaseModel):
    grad_W: list[Matrix]
    grad_b: list[Vector]


class FullGradientOut(BaseModel):
    batch: list[int]
    full: Gradient
    mini_batch: Gradient
    cosine: list[Num | None]
    norm_ratio: list[Num | None]


class PastNetwork(BaseModel):
    layers: list[int]
    W: list[Matrix]
    b: list[Vector]


class PastOut(BaseModel):
    iteration: int
    network: PastNetwork = Field(description="at the iteration's start")
    metrics: Metrics = Field(description="at the iteration's start")
    config: ConfigIn = Field(description="the settings in effect during it")
    trace: TraceOut = Field(description="that iteration, run from its start")


class ChainTerm(BaseModel):
    k: int
    w_jk: Num
    delta_k: Num
    product: Num


class ChainSample(BaseModel):
    sample: int = Field(description="the training row")
    z_j: Num
    delta_j: Num
    f_prime_z_j: Num | None = Field(default=None, description="left out for softmax (cross-entropy gives ∂L/∂z)")
    a_i: Num | None = Field(default=None, description="a weight's input; left out for a bias")
    product: Num
    d_loss_d_output_j: Num | None = Field(default=None, description="an output neuron's ∂L/∂ŷ_j")
    upstream: Num | None = Field(default=None, description="a hidden neuron's Σ_k w_jk δ_k")
    terms: list[ChainTerm] | None = None


class ChainRuleOut(BaseModel):
    iteration: int
    layer: int
    i: int | None = Field(description="null for the bias b[layer][j]")
    j: int
    value: Num = Field(description="the weight the iteration used")
    activation: str
    samples: list[ChainSample]
    sum: Num
    grad: Num
    grad_reg: Num
    total: Num


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
