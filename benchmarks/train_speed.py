"""Engine speed: µs per training iteration, Taffy's `train` beside a plain NumPy loop doing
the same maths and, when torch is installed, PyTorch eager — all in one run, same data,
same initial weights, same mini-batch order.

    python benchmarks/train_speed.py [--repeats 7]

Prints a table with medians, and the ratios engine/plain and engine/torch as the median of
each repeat's ratio (the three run back to back in every repeat); checks that the
plain loop ends on the same weights as the engine (max |Δw|), so the comparison is fair.
The last column is what NumPy's tanh, exp and log alone take in one iteration of that
network (timed on arrays of its shapes): work that no cut in overhead removes.
"""
from __future__ import annotations

import argparse
import statistics
import time
import timeit

import numpy as np

from engine import Config, Limits, Session

try:
    import torch
except ImportError:
    torch = None

BIG = Limits(max_neurons=1024, max_parameters=10**7, max_rows=10**5)


def case_small() -> tuple[str, dict, int]:
    return "2-8-8-1 tanh/sigmoid mse sgd, batch 10", {
        "data": {"name": "circle", "samples": 200, "test_fraction": 0.0},
        "network": {"layers": [2, 8, 8, 1], "activation": "tanh", "output_activation": "sigmoid"},
        "loss": "mse", "optimizer": {"name": "sgd", "learning_rate": 0.1}, "batch_size": 10,
        "eval_every": 10**6}, 4000


def case_iris() -> tuple[str, dict, int]:
    return "4-16-3 tanh/softmax ce sgd, batch 150", {
        "data": {"name": "iris", "test_fraction": 0.0},
        "network": {"layers": [4, 16, 3], "activation": "tanh", "output_activation": "softmax"},
        "loss": "cross_entropy", "optimizer": {"name": "sgd", "learning_rate": 0.1}, "batch_size": 150,
        "eval_every": 10**6}, 3000


def case_iris_batch_10() -> tuple[str, dict, int]:
    name, config, _ = case_iris()
    return name.replace("batch 150", "batch 10"), {**config, "batch_size": 10}, 4000


def case_mnist_sized() -> tuple[str, dict, int]:
    rng = np.random.default_rng(0)
    X = rng.random((1280, 784)).round(3).tolist()
    y = rng.integers(0, 10, 1280).tolist()
    return "784-128-10 relu/softmax ce sgd, batch 128", {
        "data": {"name": "custom", "X": X, "y": y, "test_fraction": 0.0},
        "network": {"layers": [784, 128, 10], "activation": "relu", "output_activation": "softmax", "init": "he"},
        "loss": "cross_entropy", "optimizer": {"name": "sgd", "learning_rate": 0.01}, "batch_size": 128,
        "eval_every": 10**6}, 100


ACT = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0), "sigmoid": lambda z: 1 / (1 + np.exp(-z))}
DACT = {"tanh": lambda z, a: 1 - a * a, "relu": lambda z, a: (z > 0).astype(float),
        "sigmoid": lambda z, a: a * (1 - a)}


def plain_numpy(session: Session, iterations: int) -> tuple[float, list[np.ndarray]]:
    """The same maths written the plain way: @, np.sum, new arrays every step; like the
    engine it keeps each iteration's batch loss."""
    cfg = session.config
    Ws = [w.copy() for w in session.network.W]
    bs = [b.copy() for b in session.network.b]
    X, Y = session.dataset.X_train, session.targets_train
    hidden, output = cfg.network.activation, cfg.network.output_activation
    lr, B, L = cfg.optimizer.learning_rate, cfg.batch_size, len(Ws)
    orders = [session._epochs[0][0]]
    rng = np.random.default_rng(cfg.seed)
    rng.bit_generator.state = session._epochs[0][1]
    n_batches = session.batches_per_epoch
    losses = []
    start = time.perf_counter()
    for it in range(iterations):
        e, pos = divmod(it, n_batches)
        if e == len(orders):
            orders.append(rng.permutation(len(X)))
        idx = orders[e][pos * B:(pos + 1) * B]
        a, zs, acts = X[idx], [], [X[idx]]
        y = Y[idx]
        for l in range(L):
            z = a @ Ws[l] + bs[l]
            if l == L - 1 and output == "softmax":
                ez = np.exp(z - z.max(axis=1, keepdims=True))
                a = ez / ez.sum(axis=1, keepdims=True)
            else:
                a = ACT[hidden if l < L - 1 else output](z)
            zs.append(z)
            acts.append(a)
        if output == "softmax":
            losses.append(-np.mean(np.log(np.sum(y * a, axis=1))))   # step 2, loss: one-hot targets
            delta = (a - y) / len(y)
        else:
            losses.append(np.mean((a - y) ** 2))
            delta = 2 * (a - y) / y.size * DACT[output](zs[-1], a)
        for l in reversed(range(L)):
            gW, gb = acts[l].T @ delta, delta.sum(axis=0)
            if l > 0:
                delta = (delta @ Ws[l].T) * DACT[hidden](zs[l - 1], acts[l])
            Ws[l] -= lr * gW
            bs[l] -= lr * gb
    return time.perf_counter() - start, Ws


def pytorch_eager(session: Session, iterations: int) -> float:
    cfg = session.config
    Ws = [torch.tensor(w, requires_grad=True) for w in session.network.W]
    bs = [torch.tensor(b, requires_grad=True) for b in session.network.b]
    X, Y = torch.tensor(session.dataset.X_train), torch.tensor(session.targets_train)
    act = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}
    hidden, output = cfg.network.activation, cfg.network.output_activation
    opt = torch.optim.SGD(Ws + bs, lr=cfg.optimizer.learning_rate)
    B, L, n = cfg.batch_size, len(Ws), len(X)
    n_batches = session.batches_per_epoch
    order = torch.randperm(n)
    start = time.perf_counter()
    for it in range(iterations):
        pos = it % n_batches
        idx = order[pos * B:(pos + 1) * B]
        a, y = X[idx], Y[idx]
        for l in range(L):
            z = a @ Ws[l] + bs[l]
            a = z if (l == L - 1 and output == "softmax") else act[hidden if l < L - 1 else output](z)
        if output == "softmax":
            loss = torch.nn.functional.cross_entropy(a, y.argmax(dim=1))
        else:
            loss = torch.nn.functional.mse_loss(a, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def transcendental_us(session: Session) -> float:
    """µs that NumPy's tanh, exp and log take on one iteration's arrays: the hidden layers'
    activations, a sigmoid's or softmax's exp at the output, cross-entropy's log."""
    cfg, B, layers = session.config, session.config.batch_size, session.network.layers
    calls = [(np.tanh if cfg.network.activation == "tanh" else np.exp, (B, n))
             for n in layers[1:-1] if cfg.network.activation in ("tanh", "sigmoid")]
    if cfg.network.output_activation in ("sigmoid", "softmax"):
        calls.append((np.exp, (B, layers[-1])))
    if cfg.loss == "cross_entropy":
        calls.append((np.log, (B,)))
    total = 0.0
    for fn, shape in calls:
        x = np.random.default_rng(0).uniform(0.1, 2.0, shape)
        out = np.empty(shape)
        total += min(timeit.repeat(lambda fn=fn, x=x, out=out: fn(x, out), number=2000, repeat=5)) / 2000
    return total * 1e6


def time_engine(config: dict, iterations: int) -> float:
    session = Session(Config.from_dict(config, BIG), BIG)
    start = time.perf_counter()
    session.train(iterations=iterations)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    if torch is not None:
        torch.set_default_dtype(torch.float64)
        torch.set_num_threads(2)
    print(f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch else ", torch not installed"))
    header = (f"{'network':<42} {'engine µs':>10} {'plain µs':>10} {'torch µs':>10} {'eng/plain':>10} "
              f"{'eng/torch':>10} {'max |Δw|':>10} {'tanh/exp/log µs':>16}")
    print(header)
    print("-" * len(header))
    for name, config, iterations in (case_small(), case_iris(), case_iris_batch_10(), case_mnist_sized()):
        engine_t, plain_t, torch_t = [], [], []
        for _ in range(args.repeats):   # interleaved, so machine noise hits all three alike
            engine_t.append(time_engine(config, iterations) / iterations * 1e6)
            fresh = Session(Config.from_dict(config, BIG), BIG)
            elapsed, Ws = plain_numpy(fresh, iterations)
            plain_t.append(elapsed / iterations * 1e6)
            if torch is not None:
                torch_t.append(pytorch_eager(Session(Config.from_dict(config, BIG), BIG), iterations) / iterations * 1e6)
        check = Session(Config.from_dict(config, BIG), BIG)
        _, Ws = plain_numpy(Session(Config.from_dict(config, BIG), BIG), iterations)
        check.train(iterations=iterations)
        drift = max(float(np.max(np.abs(w - v))) for w, v in zip(check.network.W, Ws))
        e, p = statistics.median(engine_t), statistics.median(plain_t)
        t_ = statistics.median(torch_t) if torch_t else float("nan")
        # ratios within each repeat, then their median: the machine's speed drifts between repeats
        vs_plain = statistics.median(a / b for a, b in zip(engine_t, plain_t))
        vs_torch = statistics.median(a / b for a, b in zip(engine_t, torch_t)) if torch_t else float("nan")
        floor = transcendental_us(check)
        print(f"{name:<42} {e:>10.1f} {p:>10.1f} {t_:>10.1f} {vs_plain:>10.2f} {vs_torch:>10.2f} {drift:>10.1e} {floor:>16.1f}")


if __name__ == "__main__":
    main()
