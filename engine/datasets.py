"""Data sets: TensorFlow Playground's 2-D generators, two regressions, Iris, 8×8 digits,
and the user's own rows. Everything is float64 and reproducible bit for bit from a seed."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .errors import ConfigError

_DATA_DIR = Path(__file__).parent / "data"
_MAX_SYNTHETIC_SAMPLES = 5000
_DEFAULT_SAMPLES = 200
_MAX_TEST_FRACTION = 0.9
_CUSTOM_MAX_ROWS = 10000
_CUSTOM_MAX_COLUMNS = 1024


class DatasetError(ConfigError):
    """Bad data configuration. `field` names the offending field (e.g. "data.samples",
    "data.X[3][1]"), `rule` says what it must be; str(err) == f"{field} {rule}"."""


@dataclass(frozen=True)
class DatasetInfo:
    """What /api/datasets advertises about one data set."""

    name: str
    task: str  # "classification" | "regression"; "any" for custom (the loss decides)
    n_features: int | None
    n_classes: int | None
    default_samples: int | None
    max_samples: int | None
    default_noise: float | None
    description: str
    source: str | None


# eq=False: comparing arrays field by field has no single truth value.
@dataclass(frozen=True, eq=False)
class Dataset:
    """A data set split into train and test rows.

    Classification y is (n,) int64 labels 0..k-1; regression y is (n, n_outputs) float64.
    `input_range` is each feature's (lo, hi) over all rows, padded by 5%.
    """

    name: str
    task: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int | None
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...] | None
    input_range: tuple[tuple[float, float], ...]


_IRIS_SOURCE = (
    "R. A. Fisher (1936), via the UCI Machine Learning Repository (Iris, "
    "doi:10.24432/C56C76); licence CC BY 4.0. Copied from scikit-learn 1.9.1's "
    "iris.csv; see engine/data/README.md."
)
_DIGITS_SOURCE = (
    "E. Alpaydin and C. Kaynak (1998), Optical Recognition of Handwritten Digits, UCI "
    "Machine Learning Repository (doi:10.24432/C50P49), its 1797-row test part; licence "
    "CC BY 4.0. Copied from scikit-learn 1.9.1's digits.csv.gz; see engine/data/README.md."
)


def _synthetic(name: str, task: str, n_features: int, n_classes: int | None,
               default_noise: float, description: str) -> DatasetInfo:
    return DatasetInfo(name, task, n_features, n_classes, _DEFAULT_SAMPLES,
                       _MAX_SYNTHETIC_SAMPLES, default_noise, description, None)


_NOISE_KEEPS_POINTS = (
    " Noise perturbs the point used for the label, not the point drawn, as Playground "
    "does, so noise mislabels points near the boundary."
)

DATASETS: dict[str, DatasetInfo] = {
    "circle": _synthetic(
        "circle", "classification", 2, 2, 0.0,
        "TensorFlow Playground's circle: class 1 is a disc of radius 2.5, class 0 a ring "
        "from 3.5 to 5." + _NOISE_KEEPS_POINTS + " Default noise 0, as Playground.",
    ),
    "xor": _synthetic(
        "xor", "classification", 2, 2, 0.0,
        "TensorFlow Playground's xor: points in [-5, 5]² pushed 0.3 away from the axes; "
        "class 1 where x1·x2 ≥ 0." + _NOISE_KEEPS_POINTS + " Default noise 0, as Playground.",
    ),
    "gaussians": _synthetic(
        "gaussians", "classification", 2, 2, 0.0,
        "TensorFlow Playground's two Gaussians: class 1 around (2, 2), class 0 around "
        "(-2, -2), variance 0.5 + 7·noise (Playground's 0.5 to 4 over noise 0 to 0.5). "
        "Default noise 0, as Playground.",
    ),
    "spiral": _synthetic(
        "spiral", "classification", 2, 2, 0.0,
        "TensorFlow Playground's two interleaved spirals of radius 5 (1.75 turns); noise "
        "moves each point by up to ±noise in x1 and x2. Default noise 0, as Playground.",
    ),
    "moons": _synthetic(
        "moons", "classification", 2, 2, 0.1,
        "Two interleaving half circles (as scikit-learn's make_moons), centred and scaled "
        "by 3 to span about [-4.5, 4.5] × [-2.25, 2.25]; class 0 the upper moon. Noise is "
        "Gaussian with standard deviation noise × the moon radius. Default noise 0.1, "
        "because noiseless moons are two thin arcs rather than the familiar picture.",
    ),
    "plane": _synthetic(
        "plane", "regression", 2, None, 0.0,
        "TensorFlow Playground's regress-plane: x in [-6, 6]², target (x1 + x2) / 10, "
        "about [-1.2, 1.2]. Noise adds up to ±6·noise to each coordinate before the "
        "target is computed, as Playground. Default noise 0.",
    ),
    "curve": _synthetic(
        "curve", "regression", 1, None, 0.0,
        "A 1-D curve: x uniform in [-3, 3], target sin(x) + noise × a standard Gaussian. "
        "Default noise 0.",
    ),
    "iris": DatasetInfo(
        "iris", "classification", 4, 3, None, 150, None,
        "Fisher's Iris: 150 flowers, 50 of each of 3 species, 4 measurements in cm. "
        "Features are standardised (z-score with the whole set's mean and standard "
        "deviation) so tanh and sigmoid networks learn well. All rows unless fewer "
        "samples are asked for (a seeded subsample).",
        _IRIS_SOURCE,
    ),
    "digits": DatasetInfo(
        "digits", "classification", 64, 10, None, 1797, None,
        "Handwritten digits as 8×8 images: 1797 rows of 64 pixels, 10 classes. Pixels are "
        "counts 0..16, divided by 16 to lie in [0, 1]. All rows unless fewer samples are "
        "asked for (a seeded subsample).",
        _DIGITS_SOURCE,
    ),
    "custom": DatasetInfo(
        "custom", "any", None, None, None, _CUSTOM_MAX_ROWS, None,
        f"Your own rows (CSV or JSON): X one row of numbers per sample (at most "
        f"{_CUSTOM_MAX_ROWS} rows and {_CUSTOM_MAX_COLUMNS} columns), y one entry per row: a "
        "number where there is one output, or a row. For cross-entropy, y holds integer "
        "class labels 0..k-1 or one-hot rows. Used as given: no scaling.",
        None,
    ),
}
_BUILT_IN = tuple(name for name in DATASETS if name != "custom")


# --- validation helpers -------------------------------------------------------------

def _is_int(value: object) -> bool:
    # bool is an int subclass in Python, but True as a sample count is a client bug.
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, bool))


def _check_test_fraction(test_fraction: object) -> float:
    if not _is_number(test_fraction):
        raise DatasetError("data.test_fraction", "must be a number")
    if not 0.0 <= test_fraction <= _MAX_TEST_FRACTION:  # NaN fails here too
        raise DatasetError("data.test_fraction", f"must be between 0 and {_MAX_TEST_FRACTION}")
    return float(test_fraction)


def _check_seed(seed: object) -> int:
    if not _is_int(seed) or seed < 0:
        raise DatasetError("data.seed", "must be a non-negative integer")
    return int(seed)


# --- generators: (rng, samples, noise) -> (X, y) ---------------------------------------

def _halves(n: int) -> tuple[int, int]:
    """Rows of class 1 and class 0; class 1 gets the odd row, so even n is balanced."""
    return n - n // 2, n // 2


def _first_half_is_class_1(n: int) -> np.ndarray:
    return (np.arange(n) < _halves(n)[0]).astype(np.int64)


def _circle(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    radius = 5.0
    n_in, n_out = _halves(n)
    r = np.concatenate([rng.uniform(0.0, radius * 0.5, n_in),
                        rng.uniform(radius * 0.7, radius, n_out)])
    angle = rng.uniform(0.0, 2 * np.pi, n)
    X = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
    # Drawn even at noise 0 so that, for one seed, the noise slider moves the same points.
    shifted = X + rng.uniform(-radius, radius, (n, 2)) * noise
    y = (np.hypot(shifted[:, 0], shifted[:, 1]) < radius * 0.5).astype(np.int64)
    return X, y


def _xor(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-5.0, 5.0, (n, 2))
    X += np.where(X > 0, 0.3, -0.3)  # Playground's padding keeps points off the axes
    shifted = X + rng.uniform(-5.0, 5.0, (n, 2)) * noise
    y = (shifted[:, 0] * shifted[:, 1] >= 0).astype(np.int64)
    return X, y


def _gaussians(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    y = _first_half_is_class_1(n)
    centres = np.where(y[:, None] == 1, 2.0, -2.0)
    std = np.sqrt(0.5 + 7.0 * noise)  # Playground maps noise 0..0.5 to variance 0.5..4
    return centres + std * rng.standard_normal((n, 2)), y


def _spiral(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    def arm(count: int, delta_t: float) -> np.ndarray:
        i = np.arange(count)
        r = i / count * 5.0
        t = 1.75 * i / count * 2 * np.pi + delta_t
        return np.column_stack([r * np.sin(t), r * np.cos(t)])

    n_1, n_0 = _halves(n)
    X = np.vstack([arm(n_1, 0.0), arm(n_0, np.pi)])
    return X + rng.uniform(-1.0, 1.0, (n, 2)) * noise, _first_half_is_class_1(n)


def _moons(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    n_lower, n_upper = _halves(n)
    t_up = np.linspace(0.0, np.pi, n_upper)
    t_low = np.linspace(0.0, np.pi, n_lower)
    X = np.vstack([np.column_stack([np.cos(t_up), np.sin(t_up)]),
                   np.column_stack([1.0 - np.cos(t_low), 0.5 - np.sin(t_low)])])
    X += noise * rng.standard_normal((n, 2))
    y = (np.arange(n) >= n_upper).astype(np.int64)
    # make_moons spans [-1, 2] × [-0.5, 1]; centre it and scale toward Playground's [-6, 6].
    return (X - np.array([0.5, 0.25])) * 3.0, y


def _plane(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-6.0, 6.0, (n, 2))
    shifted = X + rng.uniform(-6.0, 6.0, (n, 2)) * noise
    return X, (shifted.sum(axis=1) / 10.0)[:, None]


def _curve(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-3.0, 3.0, n)
    y = np.sin(x) + noise * rng.standard_normal(n)
    return x[:, None], y[:, None]


_GENERATORS: dict[str, Callable[[np.random.Generator, int, float],
                                tuple[np.ndarray, np.ndarray]]] = {
    "circle": _circle, "xor": _xor, "gaussians": _gaussians, "spiral": _spiral,
    "moons": _moons, "plane": _plane, "curve": _curve,
}
_CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "circle": ("outer ring", "inner disc"),
    "xor": ("opposite signs", "same signs"),
    "gaussians": ("around (-2, -2)", "around (2, 2)"),
    "spiral": ("arm 0", "arm 1"),
    "moons": ("upper moon", "lower moon"),
}


# --- shipped real data ---------------------------------------------------------------

def _read_only(*arrays: np.ndarray) -> None:
    # The loaders are cached; a caller writing into a cached array would corrupt every
    # later data set.
    for array in arrays:
        array.flags.writeable = False


@lru_cache(maxsize=None)
def _iris_raw() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Iris as in the file: X (150, 4) in cm, y (150,) labels, class names."""
    with open(_DATA_DIR / "iris.csv", newline="") as f:
        header, *rows = list(csv.reader(f))
    table = np.array(rows, dtype=np.float64)
    X, y = table[:, :4], table[:, 4].astype(np.int64)
    _read_only(X, y)
    return X, y, tuple(header[2:])


@lru_cache(maxsize=None)
def _iris() -> tuple[np.ndarray, np.ndarray]:
    X, y, _ = _iris_raw()
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    _read_only(X)
    return X, y


@lru_cache(maxsize=None)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(_DATA_DIR / "digits.csv", delimiter=",", dtype=np.int64)
    X, y = table[:, :64] / 16.0, table[:, 64].copy()
    _read_only(X, y)
    return X, y


_FEATURE_NAMES: dict[str, tuple[str, ...]] = {
    "iris": ("sepal length", "sepal width", "petal length", "petal width"),
    "digits": tuple(f"r{row}c{col}" for row in range(8) for col in range(8)),
}


# --- assembling a Dataset ----------------------------------------------------------------

def _input_range(X: np.ndarray) -> tuple[tuple[float, float], ...]:
    lo, hi = X.min(axis=0), X.max(axis=0)
    # A constant feature still needs a drawable span.
    pad = np.where(hi > lo, 0.05 * (hi - lo), 0.5)
    return tuple((float(a), float(b)) for a, b in zip(lo - pad, hi + pad))


def _split(name: str, task: str, X: np.ndarray, y: np.ndarray, n_classes: int | None,
           feature_names: tuple[str, ...], class_names: tuple[str, ...] | None,
           test_fraction: float, rng: np.random.Generator | None) -> Dataset:
    """Shuffle with `rng` (None keeps the order) and put the first rows in test."""
    n = len(X)
    n_test = round(n * test_fraction)
    if n < 2:
        n_test = 0  # the train set is never empty
    elif test_fraction > 0:
        n_test = min(max(n_test, 1), n - 1)
    order = rng.permutation(n) if rng is not None else np.arange(n)
    test, train = order[:n_test], order[n_test:]
    return Dataset(name, task, X[train], y[train], X[test], y[test], n_classes,
                   feature_names, class_names, _input_range(X))


def make_dataset(name: str, samples: int | None = None, noise: float | None = None,
                 test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """Build a built-in data set; `samples`/`noise` None mean the set's defaults."""
    if not isinstance(name, str) or name not in _BUILT_IN:
        raise DatasetError("data.name", f"must be one of {', '.join(_BUILT_IN)}")
    info = DATASETS[name]
    if samples is not None:
        if not _is_int(samples):
            raise DatasetError("data.samples", "must be an integer")
        if not 2 <= samples <= info.max_samples:
            raise DatasetError("data.samples", f"must be between 2 and {info.max_samples}")
    if noise is not None:
        if info.default_noise is None:
            raise DatasetError("data.noise", f"does not apply to {name}; leave it out")
        if not _is_number(noise):
            raise DatasetError("data.noise", "must be a number")
        if not 0.0 <= noise <= 1.0:  # NaN fails here too
            raise DatasetError("data.noise", "must be between 0 and 1")
    test_fraction = _check_test_fraction(test_fraction)
    rng = np.random.default_rng(_check_seed(seed))

    if name in _GENERATORS:
        X, y = _GENERATORS[name](
            rng, int(samples if samples is not None else info.default_samples),
            float(noise if noise is not None else info.default_noise))
        feature_names = tuple(f"x{j + 1}" for j in range(info.n_features))
        class_names = _CLASS_NAMES.get(name)
    else:
        X, y = _iris() if name == "iris" else _digits()
        if samples is not None:
            rows = rng.choice(len(X), size=int(samples), replace=False)
            X, y = X[rows], y[rows]
        feature_names = _FEATURE_NAMES[name]
        class_names = _iris_raw()[2] if name == "iris" else tuple(str(d) for d in range(10))
    return _split(name, info.task, X, y, info.n_classes, feature_names, class_names,
                  test_fraction, rng)


# --- custom data -------------------------------------------------------------------------

def _as_list(value: object, field: str, what: str) -> list:
    if isinstance(value, np.ndarray):
        return value.tolist()  # numpy scalars become Python ones; bools stay bools
    if not isinstance(value, (list, tuple)):
        raise DatasetError(field, f"must be {what}")
    return list(value)


def _is_finite_number(value: object) -> bool:
    if not _is_number(value):
        return False
    try:
        return bool(np.isfinite(float(value)))
    except OverflowError:  # an int beyond float64
        return False


def _numbers(values: list, field: str) -> np.ndarray:
    """A list of finite numbers as float64; otherwise the first bad one is named."""
    # The type check (at C speed) keeps out str, bool and None, which np.array would
    # parse or coerce; lists of plain ints and floats, the common case, take this path.
    if {type(v) for v in values} <= {int, float}:
        try:
            array = np.array(values, dtype=np.float64)
        except OverflowError:
            array = None
        if array is not None and np.isfinite(array).all():
            return array
    for j, value in enumerate(values):
        if not _is_finite_number(value):
            raise DatasetError(f"{field}[{j}]", "must be a finite number")
    return np.array([float(v) for v in values])  # numpy scalars among the values


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _matrix(rows: object, field: str, max_rows: int, max_columns: int) -> np.ndarray:
    """Rows of finite numbers, all the same length, as a float64 (n, k) array."""
    if isinstance(rows, np.ndarray) and rows.ndim == 2 and rows.dtype.kind in "iuf":
        # Fast path for numeric arrays; one out of bounds takes the list path for its message.
        array = rows.astype(np.float64)
        if not 1 <= len(array) <= max_rows or not 1 <= array.shape[1] <= max_columns:
            return _matrix(rows.tolist(), field, max_rows, max_columns)
        bad = np.argwhere(~np.isfinite(array))
        if bad.size:
            raise DatasetError(f"{field}[{bad[0][0]}][{bad[0][1]}]", "must be a finite number")
        return array
    rows = _as_list(rows, field, "a list of rows")
    if not rows:
        raise DatasetError(field, "must have at least 1 row")
    if len(rows) > max_rows:
        raise DatasetError(
            field, f"has {_count(len(rows), 'row')}; at most {max_rows} are allowed")
    width = None
    out = []
    for i, row in enumerate(rows):
        row = _as_list(row, f"{field}[{i}]", "a list of numbers")
        if width is None:
            width = len(row)
            if width == 0:
                raise DatasetError(f"{field}[0]", "must have at least 1 column")
            if width > max_columns:
                raise DatasetError(f"{field}[0]", f"has {_count(width, 'column')}; at most "
                                   f"{max_columns} are allowed")
        elif len(row) != width:
            raise DatasetError(
                f"{field}[{i}]", f"has {_count(len(row), 'column')}; every row must have {width}")
        out.append(_numbers(row, f"{field}[{i}]"))
    return np.array(out)


def _labels(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer class labels 0..k-1 (given as numbers) with every class present."""
    bad = np.flatnonzero((values < 0) | (values != np.floor(values)))
    if bad.size:
        raise DatasetError(f"data.y[{bad[0]}]", "must be an integer class label 0, 1, 2, …")
    present = np.unique(values)
    missing = np.flatnonzero(present != np.arange(present.size))
    if missing.size:
        # Catches 1-based labels, which would leave class 0 empty.
        raise DatasetError("data.y", f"has no row of class {missing[0]}; class labels must "
                           "run 0..k-1 with every class used")
    if present.size < 2:
        raise DatasetError("data.y", "must hold at least 2 classes")
    return values.astype(np.int64), present.size


def _one_hot(matrix: np.ndarray) -> tuple[np.ndarray, int]:
    if matrix.shape[1] < 2:
        raise DatasetError("data.y[0]", "must be a one-hot row with at least 2 columns")
    ok = ((matrix == 0) | (matrix == 1)).all(axis=1) & (matrix.sum(axis=1) == 1)
    bad = np.flatnonzero(~ok)
    if bad.size:
        raise DatasetError(f"data.y[{bad[0]}]", "must be one-hot: one 1 and the rest 0")
    return matrix.argmax(axis=1).astype(np.int64), matrix.shape[1]


def custom_dataset(X: Sequence[Sequence[float]] | np.ndarray,
                   y: Sequence[float] | Sequence[Sequence[float]] | np.ndarray,
                   test_fraction: float = 0.0, seed: int = 0, classification: bool = False,
                   max_rows: int = _CUSTOM_MAX_ROWS,
                   max_columns: int = _CUSTOM_MAX_COLUMNS) -> Dataset:
    """Validate the user's rows and split them.

    With `classification`, y holds integer labels 0..k-1 or one-hot rows; otherwise y
    becomes (n, n_outputs) float64. Rows keep their order when test_fraction is 0, so a
    hand-worked example's first row stays first; a split shuffles with `seed`.
    """
    test_fraction = _check_test_fraction(test_fraction)
    seed = _check_seed(seed)
    X = _matrix(X, "data.X", max_rows, max_columns)
    y_list = _as_list(y, "data.y", "a list with one entry per row of data.X")
    if len(y_list) != len(X):
        raise DatasetError("data.y", f"has {_count(len(y_list), 'row')}; it must have one "
                           f"per row of data.X ({len(X)})")
    # y[0] decides the form: numbers (labels or one output) or rows (one-hot or outputs).
    if _is_number(y_list[0]):
        targets = _numbers(y_list, "data.y")
        y, n_classes = _labels(targets) if classification else (targets[:, None], None)
    elif isinstance(y_list[0], (list, tuple, np.ndarray)):
        targets = _matrix(y_list, "data.y", max_rows, max_columns)
        y, n_classes = _one_hot(targets) if classification else (targets, None)
    else:
        raise DatasetError("data.y[0]", "must be a number or a list of numbers")
    rng = np.random.default_rng(seed) if test_fraction > 0 else None
    return _split("custom", "classification" if classification else "regression", X, y,
                  n_classes, tuple(f"x{j + 1}" for j in range(X.shape[1])),
                  tuple(str(k) for k in range(n_classes)) if classification else None,
                  test_fraction, rng)
