import csv
import hashlib
import math
from pathlib import Path

import numpy as np
import pytest

from engine.datasets import (
    DATASETS,
    Dataset,
    DatasetError,
    DatasetInfo,
    _iris_raw,
    custom_dataset,
    make_dataset,
)

DATA_DIR = Path(__file__).resolve().parent.parent / "engine" / "data"
SYNTHETIC = ["circle", "xor", "gaussians", "spiral", "moons", "plane", "curve"]
CLASSIFICATION_2D = ["circle", "xor", "gaussians", "spiral", "moons"]
BUILT_IN = SYNTHETIC + ["iris", "digits"]


def all_rows(d: Dataset) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([d.X_train, d.X_test]), np.concatenate([d.y_train, d.y_test])


def sort_rows(a: np.ndarray) -> np.ndarray:
    return a[np.lexsort(a.T[::-1])]


# --- the registry ------------------------------------------------------------------------

def test_registry_lists_every_built_in_and_custom():
    assert list(DATASETS) == BUILT_IN + ["custom"]
    assert all(isinstance(info, DatasetInfo) and info.name == name
               for name, info in DATASETS.items())
    custom = DATASETS["custom"]
    assert (custom.n_features, custom.n_classes, custom.max_samples) == (None, None, 10000)
    assert DATASETS["iris"].source and "CC BY 4.0" in DATASETS["iris"].source
    assert DATASETS["digits"].source and "CC BY 4.0" in DATASETS["digits"].source
    assert "standardised" in DATASETS["iris"].description
    assert "divided by 16" in DATASETS["digits"].description
    assert [n for n in BUILT_IN if DATASETS[n].default_noise not in (None, 0.0)] == ["moons"]


@pytest.mark.parametrize("name", BUILT_IN)
def test_shapes_and_dtypes_match_the_registry(name):
    info = DATASETS[name]
    d = make_dataset(name)
    n = info.default_samples or info.max_samples
    assert (d.name, d.task, d.n_classes) == (name, info.task, info.n_classes)
    assert d.X_train.dtype == d.X_test.dtype == np.float64
    assert d.X_train.shape == (n - round(n * 0.2), info.n_features)
    assert d.X_test.shape == (round(n * 0.2), info.n_features)
    assert len(d.feature_names) == info.n_features == len(d.input_range)
    if info.task == "classification":
        assert d.y_train.dtype == d.y_test.dtype == np.int64
        assert d.y_train.shape == (len(d.X_train),) and d.y_test.shape == (len(d.X_test),)
        assert len(d.class_names) == info.n_classes
        assert set(np.unique(all_rows(d)[1])) == set(range(info.n_classes))
    else:
        assert d.y_train.dtype == np.float64 and d.y_train.shape == (len(d.X_train), 1)
        assert d.y_test.shape == (len(d.X_test), 1) and d.class_names is None


@pytest.mark.parametrize("name", BUILT_IN)
def test_same_seed_same_arrays_other_seed_other_arrays(name):
    samples = 40 if name in ("iris", "digits") else None
    a = make_dataset(name, samples=samples, seed=7)
    b = make_dataset(name, samples=samples, seed=7)
    c = make_dataset(name, samples=samples, seed=8)
    for field in ("X_train", "y_train", "X_test", "y_test"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.X_train, c.X_train)


# --- split ---------------------------------------------------------------------------------

@pytest.mark.parametrize("samples, test_fraction, n_test", [
    (200, 0.2, 40), (200, 0.0, 0), (5000, 0.9, 4500), (2, 0.9, 1), (2, 0.01, 1),
    (10, 0.04, 1),   # round(0.4) is 0, but a split keeps at least one test row
    (10, 0.9, 9), (3, 0.9, 2),
])
def test_split_sizes(samples, test_fraction, n_test):
    d = make_dataset("xor", samples=samples, test_fraction=test_fraction)
    assert (len(d.X_train), len(d.X_test)) == (samples - n_test, n_test)
    assert len(d.y_train) == len(d.X_train) and len(d.y_test) == len(d.X_test)


def test_empty_test_set_keeps_its_columns():
    d = make_dataset("plane", test_fraction=0.0)
    assert d.X_test.shape == (0, 2) and d.y_test.shape == (0, 1)


def test_split_is_a_shuffle_of_the_generated_rows():
    whole = make_dataset("spiral", samples=100, test_fraction=0.0, seed=3)
    split = make_dataset("spiral", samples=100, test_fraction=0.3, seed=3)
    X_whole, X_split = all_rows(whole)[0], all_rows(split)[0]
    assert np.array_equal(sort_rows(X_whole), sort_rows(X_split))


# --- the 2-D generators ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["circle", "gaussians", "spiral", "moons"])
@pytest.mark.parametrize("samples, counts", [(200, [100, 100]), (101, [50, 51])])
def test_balanced_generators(name, samples, counts):
    y = all_rows(make_dataset(name, samples=samples))[1]
    assert np.bincount(y).tolist() == counts


def test_xor_is_roughly_balanced():
    counts = np.bincount(all_rows(make_dataset("xor", samples=2000))[1])
    assert abs(counts[0] - counts[1]) < 200


def test_circle_labels_are_inside_or_outside_the_radius_without_noise():
    X, y = all_rows(make_dataset("circle", samples=1000, noise=0.0))
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.all(r[y == 1] < 2.5)
    assert np.all((r[y == 0] >= 3.5 - 1e-12) & (r[y == 0] <= 5 + 1e-12))


def test_circle_noise_relabels_the_same_points():
    quiet = make_dataset("circle", samples=500, noise=0.0, seed=1)
    noisy = make_dataset("circle", samples=500, noise=0.5, seed=1)
    assert np.array_equal(quiet.X_train, noisy.X_train)
    assert 0 < np.sum(quiet.y_train != noisy.y_train) < len(quiet.y_train) / 2


def test_xor_points_are_padded_off_the_axes_and_labelled_by_quadrant():
    X, y = all_rows(make_dataset("xor", samples=1000))
    assert np.all((np.abs(X) >= 0.3) & (np.abs(X) <= 5.3))
    assert np.array_equal(y, (X[:, 0] * X[:, 1] >= 0).astype(np.int64))


def test_gaussians_are_centred_at_plus_and_minus_two():
    X, y = all_rows(make_dataset("gaussians", samples=5000))
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [2, 2], atol=0.06)
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [-2, -2], atol=0.06)
    np.testing.assert_allclose(X[y == 1].var(axis=0), [0.5, 0.5], rtol=0.1)
    wide = all_rows(make_dataset("gaussians", samples=5000, noise=0.5))
    np.testing.assert_allclose(wide[0][wide[1] == 1].var(axis=0), [4, 4], rtol=0.1)


def test_spiral_without_noise_is_exactly_playgrounds_spiral():
    n = 10  # 5 per arm
    X, y = all_rows(make_dataset("spiral", samples=n, noise=0.0, test_fraction=0.0))
    expected = []
    for label, delta in ((1, 0.0), (0, math.pi)):
        for i in range(5):
            r, t = i / 5 * 5, 1.75 * i / 5 * 2 * math.pi + delta
            expected.append((r * math.sin(t), r * math.cos(t), label))
    got = sort_rows(np.column_stack([X, y]))
    np.testing.assert_allclose(got, sort_rows(np.array(expected)), atol=1e-12)


def test_moons_without_noise_lie_on_two_unit_half_circles_scaled_by_3():
    X, y = all_rows(make_dataset("moons", samples=200, noise=0.0))
    P = X / 3 + [0.5, 0.25]  # back to scikit-learn's make_moons frame
    up, low = P[y == 0], P[y == 1]
    np.testing.assert_allclose(np.hypot(up[:, 0], up[:, 1]), 1.0)
    assert np.all(up[:, 1] >= -1e-12)
    np.testing.assert_allclose(np.hypot(low[:, 0] - 1, low[:, 1] - 0.5), 1.0)
    assert np.all(low[:, 1] <= 0.5 + 1e-12)
    assert np.abs(X).max() <= 4.5 + 1e-9


def test_plane_target_is_the_scaled_sum_without_noise():
    X, y = all_rows(make_dataset("plane", samples=500, noise=0.0))
    assert np.abs(X).max() <= 6
    np.testing.assert_array_equal(y[:, 0], X.sum(axis=1) / 10)
    noisy_X, noisy_y = all_rows(make_dataset("plane", samples=500, noise=0.5))
    assert np.abs(noisy_y[:, 0] - noisy_X.sum(axis=1) / 10).max() <= 0.6
    assert np.abs(noisy_y[:, 0] - noisy_X.sum(axis=1) / 10).max() > 0.1


def test_curve_is_sine_plus_gaussian_noise():
    X, y = all_rows(make_dataset("curve", samples=2000, noise=0.0))
    assert X.shape == (2000, 1) and np.abs(X).max() <= 3
    np.testing.assert_array_equal(y, np.sin(X))
    X, y = all_rows(make_dataset("curve", samples=2000, noise=0.5))
    assert abs(np.std(y - np.sin(X)) - 0.5) < 0.03


def test_input_range_pads_each_feature_by_5_percent():
    d = make_dataset("plane", samples=300)
    X = all_rows(d)[0]
    for (lo, hi), column in zip(d.input_range, X.T):
        span = column.max() - column.min()
        assert (lo, hi) == (column.min() - 0.05 * span, column.max() + 0.05 * span)
    assert custom_dataset([[0, 3], [10, 3]], [1, 2]).input_range == ((-0.5, 10.5), (2.5, 3.5))


# --- shipped real data -------------------------------------------------------------------

def test_shipped_files_are_the_documented_copies():
    readme = (DATA_DIR / "README.md").read_text()
    for name in ("iris.csv", "digits.csv"):
        digest = hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest()
        assert digest in readme


def test_iris_is_the_whole_standardised_set():
    raw_X, raw_y, class_names = _iris_raw()
    assert raw_X.shape == (150, 4) and raw_X[0].tolist() == [5.1, 3.5, 1.4, 0.2]
    with open(DATA_DIR / "iris.csv", newline="") as f:
        first_row = list(csv.reader(f))[1]
    assert [float(v) for v in first_row[:4]] == [5.1, 3.5, 1.4, 0.2]

    d = make_dataset("iris", test_fraction=0.0)
    X, y = all_rows(d)
    assert X.shape == (150, 4) and np.bincount(y).tolist() == [50, 50, 50]
    assert d.class_names == class_names == ("setosa", "versicolor", "virginica")
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1)
    mean, std = raw_X.mean(axis=0), raw_X.std(axis=0)
    np.testing.assert_allclose(mean, [5.843333333, 3.057333333, 3.758, 1.199333333])
    np.testing.assert_allclose(sort_rows(X * std + mean), sort_rows(raw_X), atol=1e-12)
    assert d.feature_names == ("sepal length", "sepal width", "petal length", "petal width")


def test_iris_samples_takes_a_seeded_subsample_with_the_same_scaling():
    full = all_rows(make_dataset("iris", test_fraction=0.0))[0]
    d = make_dataset("iris", samples=30, seed=4)
    assert (len(d.X_train), len(d.X_test)) == (24, 6)
    rows = all_rows(d)[0]
    assert all(any(np.array_equal(r, f) for f in full) for r in rows)
    assert len({tuple(r) for r in rows}) == 30


def test_digits_are_1797_images_scaled_to_unit_range():
    d = make_dataset("digits", test_fraction=0.0)
    X, y = all_rows(d)
    assert X.shape == (1797, 64) and X.min() == 0.0 and X.max() == 1.0
    assert np.array_equal(X * 16, np.round(X * 16))
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert d.class_names == tuple("0123456789") and d.feature_names[9] == "r1c1"


# --- custom data ----------------------------------------------------------------------------

XOR4 = [[0, 0], [0, 1], [1, 0], [1, 1]]


def test_custom_one_hot_and_integer_labels_give_the_same_labels():
    labels = [0, 2, 1, 2, 0, 1]
    X = [[float(i), 1.0] for i in range(6)]
    one_hot = np.eye(3)[labels].tolist()
    a = custom_dataset(X, labels, classification=True)
    b = custom_dataset(X, one_hot, classification=True)
    c = custom_dataset(np.array(X), np.array(labels), classification=True)
    for d in (a, b, c):
        assert d.y_train.dtype == np.int64 and d.y_train.tolist() == labels
        assert d.n_classes == 3 and d.class_names == ("0", "1", "2")
    assert a.task == "classification" and a.feature_names == ("x1", "x2")


def test_custom_labels_may_be_integral_floats():
    d = custom_dataset(XOR4, [0.0, 1.0, 1.0, 0.0], classification=True)
    assert d.y_train.tolist() == [0, 1, 1, 0]


def test_custom_regression_keeps_row_order_without_a_split():
    d = custom_dataset(XOR4, [0, 1, 1, 0])
    assert d.task == "regression" and d.n_classes is None and d.class_names is None
    assert d.X_train.dtype == np.float64 and d.X_train.tolist() == XOR4
    assert d.y_train.shape == (4, 1) and d.y_train[:, 0].tolist() == [0, 1, 1, 0]
    assert d.X_test.shape == (0, 2) and d.y_test.shape == (0, 1)
    rows = custom_dataset(XOR4, [[0, 1], [1, 0], [1, 0], [0, 1]])
    assert rows.y_train.shape == (4, 2) and rows.y_train.dtype == np.float64


def test_custom_split_shuffles_with_the_seed():
    X = [[float(i)] for i in range(20)]
    a = custom_dataset(X, list(range(20)), test_fraction=0.25, seed=5)
    b = custom_dataset(X, list(range(20)), test_fraction=0.25, seed=5)
    assert (len(a.X_train), len(a.X_test)) == (15, 5)
    assert np.array_equal(a.X_test, b.X_test) and np.array_equal(a.X_train[:, 0], a.y_train[:, 0])
    assert sorted(all_rows(a)[0][:, 0].tolist()) == list(range(20))
    assert custom_dataset([[1.0]], [2.0], test_fraction=0.5).X_test.shape == (0, 1)


def test_custom_accepts_numpy_scalars_in_lists():
    d = custom_dataset([[np.float32(1.5), np.int64(2)]], [np.float64(3)])
    assert d.X_train.tolist() == [[1.5, 2.0]] and d.y_train.tolist() == [[3.0]]


def test_dataset_error_names_field_and_rule():
    err = DatasetError("data.samples", "must be between 2 and 5000")
    assert isinstance(err, ValueError)
    assert (err.field, err.rule) == ("data.samples", "must be between 2 and 5000")
    assert str(err) == "data.samples must be between 2 and 5000"


# --- validation ---------------------------------------------------------------------------

NAMES = "circle, xor, gaussians, spiral, moons, plane, curve, iris, digits"


@pytest.mark.parametrize("kwargs, message", [
    ({"name": "nope"}, f"data.name must be one of {NAMES}"),
    ({"name": "custom"}, f"data.name must be one of {NAMES}"),
    ({"name": 3}, f"data.name must be one of {NAMES}"),
    ({"name": "circle", "samples": 1}, "data.samples must be between 2 and 5000"),
    ({"name": "circle", "samples": 5001}, "data.samples must be between 2 and 5000"),
    ({"name": "iris", "samples": 151}, "data.samples must be between 2 and 150"),
    ({"name": "digits", "samples": 1798}, "data.samples must be between 2 and 1797"),
    ({"name": "circle", "samples": True}, "data.samples must be an integer"),
    ({"name": "circle", "samples": 200.0}, "data.samples must be an integer"),
    ({"name": "circle", "samples": "200"}, "data.samples must be an integer"),
    ({"name": "circle", "noise": -0.1}, "data.noise must be between 0 and 1"),
    ({"name": "circle", "noise": 1.01}, "data.noise must be between 0 and 1"),
    ({"name": "circle", "noise": float("nan")}, "data.noise must be between 0 and 1"),
    ({"name": "circle", "noise": float("inf")}, "data.noise must be between 0 and 1"),
    ({"name": "circle", "noise": True}, "data.noise must be a number"),
    ({"name": "circle", "noise": "0.1"}, "data.noise must be a number"),
    ({"name": "iris", "noise": 0.0}, "data.noise does not apply to iris"),
    ({"name": "circle", "test_fraction": -0.1}, "data.test_fraction must be between 0 and 0.9"),
    ({"name": "circle", "test_fraction": 0.95}, "data.test_fraction must be between 0 and 0.9"),
    ({"name": "circle", "test_fraction": float("nan")}, "data.test_fraction must be between"),
    ({"name": "circle", "test_fraction": True}, "data.test_fraction must be a number"),
    ({"name": "circle", "test_fraction": None}, "data.test_fraction must be a number"),
    ({"name": "circle", "seed": -1}, "data.seed must be a non-negative integer"),
    ({"name": "circle", "seed": 1.0}, "data.seed must be a non-negative integer"),
    ({"name": "circle", "seed": True}, "data.seed must be a non-negative integer"),
    ({"name": "circle", "seed": None}, "data.seed must be a non-negative integer"),
])
def test_make_dataset_validation(kwargs, message):
    with pytest.raises(DatasetError) as info:
        make_dataset(**kwargs)
    assert str(info.value).startswith(message)
    assert info.value.field == message.split()[0]


def test_make_dataset_accepts_numpy_integers_and_the_bounds():
    d = make_dataset("circle", samples=np.int64(2), noise=1, test_fraction=0.9, seed=np.int32(0))
    assert (len(d.X_train), len(d.X_test)) == (1, 1)
    assert len(all_rows(make_dataset("circle", samples=5000, test_fraction=0))[0]) == 5000


ragged_nan = np.ones((4, 3))
ragged_nan[2, 1] = np.nan


@pytest.mark.parametrize("X, y, kwargs, message", [
    ("abc", [1], {}, "data.X must be a list of rows"),
    (None, [1], {}, "data.X must be a list of rows"),
    ([], [], {}, "data.X must have at least 1 row"),
    (np.zeros((0, 3)), [], {}, "data.X must have at least 1 row"),
    ([[1, 2], [3]], [1, 2], {}, "data.X[1] has 1 column; every row must have 2"),
    ([[1, 2, 3], [4, 5, 6], [7, 8, 9], [1, 2]], [1, 2, 3, 4], {},
     "data.X[3] has 2 columns; every row must have 3"),
    ([[1, 2], [3, "4"]], [1, 2], {}, "data.X[1][1] must be a finite number"),
    ([[1, 2], [3, None]], [1, 2], {}, "data.X[1][1] must be a finite number"),
    ([[1, float("nan")]], [1], {}, "data.X[0][1] must be a finite number"),
    ([[1, float("-inf")]], [1], {}, "data.X[0][1] must be a finite number"),
    ([[1, 10 ** 400]], [1], {}, "data.X[0][1] must be a finite number"),
    ([[True, 1]], [1], {}, "data.X[0][0] must be a finite number"),
    (np.array([[True, False]]), [1], {}, "data.X[0][0] must be a finite number"),
    (ragged_nan, [1, 2, 3, 4], {}, "data.X[2][1] must be a finite number"),
    ([[]], [1], {}, "data.X[0] must have at least 1 column"),
    ([1, 2], [1, 2], {}, "data.X[0] must be a list of numbers"),
    ([[1]] * 11, [1] * 11, {"max_rows": 10}, "data.X has 11 rows; at most 10 are allowed"),
    (np.ones((11, 1)), [1] * 11, {"max_rows": 10}, "data.X has 11 rows; at most 10"),
    ([[1] * 5], [1], {"max_columns": 4}, "data.X[0] has 5 columns; at most 4 are allowed"),
    ([[1], [2]], [1], {}, "data.y has 1 row; it must have one per row of data.X (2)"),
    ([[1], [2]], "ab", {}, "data.y must be a list"),
    ([[1], [2]], [1, "2"], {}, "data.y[1] must be a finite number"),
    ([[1], [2]], [1, float("nan")], {}, "data.y[1] must be a finite number"),
    ([[1], [2]], [1, [2]], {}, "data.y[1] must be a finite number"),
    ([[1], [2]], [None, 1], {}, "data.y[0] must be a number or a list of numbers"),
    ([[1], [2]], [True, False], {"classification": True}, "data.y[0] must be a number"),
    ([[1], [2]], [[1, 2], [3]], {}, "data.y[1] has 1 column; every row must have 2"),
    ([[1], [2]], [[1], [float("inf")]], {}, "data.y[1][0] must be a finite number"),
    ([[1], [2], [3]], [0, 1, 1.5], {"classification": True},
     "data.y[2] must be an integer class label"),
    ([[1], [2]], [0, -1], {"classification": True}, "data.y[1] must be an integer class label"),
    ([[1], [2]], [1, 2], {"classification": True}, "data.y has no row of class 0"),
    ([[1], [2], [3]], [0, 2, 2], {"classification": True}, "data.y has no row of class 1"),
    ([[1], [2]], [0, 0], {"classification": True}, "data.y must hold at least 2 classes"),
    ([[1], [2]], [[1, 0], [1, 1]], {"classification": True}, "data.y[1] must be one-hot"),
    ([[1], [2]], [[1, 0], [0.5, 0.5]], {"classification": True}, "data.y[1] must be one-hot"),
    ([[1], [2]], [[1], [1]], {"classification": True},
     "data.y[0] must be a one-hot row with at least 2 columns"),
    ([[1], [2]], [[1, 0], [0, 1, 0]], {"classification": True}, "data.y[1] has 3 columns"),
    ([[1], [2]], [1, 2], {"test_fraction": 1.0}, "data.test_fraction must be between 0 and 0.9"),
    ([[1], [2]], [1, 2], {"test_fraction": False}, "data.test_fraction must be a number"),
    ([[1], [2]], [1, 2], {"seed": -1}, "data.seed must be a non-negative integer"),
    ([[1], [2]], [1, 2], {"seed": False}, "data.seed must be a non-negative integer"),
])
def test_custom_dataset_validation(X, y, kwargs, message):
    with pytest.raises(DatasetError) as info:
        custom_dataset(X, y, **kwargs)
    assert str(info.value).startswith(message)
    assert info.value.field == message.split()[0]
