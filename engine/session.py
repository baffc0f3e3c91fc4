"""A training session: a state machine over the four phases of one iteration.

    forward → loss → backward → update, then again (step 5, iterate: mini-batches walk a
    seeded shuffle of the training set; an epoch is one pass).

Each phase is its own call and returns exactly what it computed. `train` runs the same
phase code at full speed without building traces. The state at the start of every kept
iteration is saved, so `rewind` restores it exactly and re-stepping is bit-identical.
"""
from __future__ import annotations

import math

import numpy as np

from . import trace as t
from .breakpoints import BreakpointChecker, Breakpoints
from .calls import run
from .chain_rule import chain_rule
from .config import Config, Limits, check_float, check_int
from .datasets import Dataset, custom_dataset, make_dataset
from .diagnostics import COLUMNS as DIAGNOSTIC_COLUMNS
from .diagnostics import hints, layer_diagnostics
from .errors import ConfigError, DivergedError, PhaseOrderError, RewindError
from .gradcheck import analytic_gradient, gradient_check
from .history import Log, SnapshotRing
from .losses import LOSSES
from .network import Buffers, Network, Passes, only_numbers
from .optimizers import Adam, make_optimizer
from .regularization import Regularizer
from .sums import all_finite, ones

PHASES = ("forward", "loss", "backward", "update")
NEXT_PHASE = {None: "forward", "forward": "loss", "loss": "backward", "backward": "update"}
MAX_LOG_ROWS = 100_000
# The state is snapshotted every k-th iteration, and rewinding replays the few iterations in
# between (exact: training is deterministic). k is at least MIN_SNAPSHOT_EVERY, where saving
# and checking a small network's state would cost a tenth of its iteration, and k ≈ size /
# SNAPSHOT_EVERY_BYTES for big ones, where copying ~1 MB would cost more than the iteration.
MIN_SNAPSHOT_EVERY = 8
SNAPSHOT_EVERY_BYTES = 64 * 2**10


def load_dataset(config: Config, limits: Limits = Limits()) -> Dataset:
    """The data set a config names, built from its seed (custom rows are checked here)."""
    d = config.data
    if d.name == "custom":
        if d.X is None or d.y is None:
            raise ConfigError("data.X", "and data.y must both be given for custom data")
        return custom_dataset(d.X, d.y, test_fraction=d.test_fraction, seed=d.seed,
                              classification=config.loss in ("bce", "cross_entropy"),
                              max_rows=limits.max_rows, max_columns=limits.max_inputs)
    if d.X is not None or d.y is not None:
        raise ConfigError("data.X", 'is only for data.name "custom"')
    return make_dataset(d.name, samples=d.samples, noise=d.noise,
                        test_fraction=d.test_fraction, seed=d.seed)


class Session:
    def __init__(self, config: Config, limits: Limits = Limits(), dataset: Dataset | None = None):
        config.check(limits)
        self.config, self.limits = config, limits
        self.dataset = dataset if dataset is not None else load_dataset(config, limits)
        self.network = net = Network(config.network)
        self._check_data_fits()
        self.targets_train = self._encode_targets(self.dataset.y_train)   # (n_train, K)
        self.targets_test = self._encode_targets(self.dataset.y_test)     # (n_test, K)
        X = self.dataset.X_train
        self._X_train_ones = np.column_stack([X, np.ones(len(X))])   # rows [x, 1]: the 1 is what b multiplies
        self._targets_train_T = np.ascontiguousarray(self.targets_train.T)   # (K, n_train), as Buffers hold them

        self.rng = np.random.default_rng(config.seed)
        net.initialise(config.network, self.rng)
        self.loss_fn = LOSSES[config.loss]
        # flat gradients, laid out like net.params; grad_W[l] etc. are views
        self.grads = np.zeros(net.n_params)          # of the data loss
        self.reg_grads = np.zeros(net.n_params)      # of the regularization loss
        self.optimizer = make_optimizer(config.optimizer, net.n_params)
        self._apply_training_settings(config)
        self._config_changes: list[tuple[int, Config]] = []   # (iteration, the config before it)
        self.step = np.zeros(net.n_params)           # what the last update added
        self.grad_W, self.grad_b = net.views(self.grads)
        self._grad_Wb = net.stacked_views(self.grads)
        self._layer_slices = net.layer_slices()
        self._layer_grads = [self.grads[s] for s in self._layer_slices]   # W[l] and b[l] side by side

        n_train, B = len(self.dataset.X_train), config.batch_size
        self.batches_per_epoch = math.ceil(n_train / B)
        self._buffers = {n: Buffers(net.layers, n) for n in {B, n_train - B * (self.batches_per_epoch - 1)}}
        self._passes = {n: Passes(net, buf, self.loss_fn, self._grad_Wb) for n, buf in self._buffers.items()}

        self.iteration = 0          # completed iterations (updates applied)
        self.epoch = 0              # completed epochs
        self.batch_pos = 0          # batches done in this epoch
        self.phase: str | None = None
        self.forward_done = 0       # weight layers the forward pass has gone through, from the input
        self.backward_done = 0      # weight layers the backward pass has gone through, from the output
        self.status = "ok"
        self.divergence: dict | None = None
        self.has_gradients = False
        self._batch_loss = self._reg_loss = 0.0
        self._buf: Buffers = self._buffers[min(B, n_train)]   # buffers of the trace iteration
        self._pass: Passes = self._passes[min(B, n_train)]    # and the passes over them
        self._trace_iteration = 0
        self._trace_phases = 0      # phases of the trace iteration whose numbers are in the buffers
        self._metrics_cache: tuple[int, t.Metrics] | None = None
        self._before_update: tuple[int, np.ndarray] | None = None   # (iteration, params) of a stepped update
        self._version = 0           # bumped whenever the parameters change

        self._epochs: dict[int, tuple[np.ndarray, dict]] = {}   # epoch → (shuffle order, RNG state)
        self._start_epoch()
        snapshot_bytes = 8 * (net.n_params + self.optimizer.flat_state.size) + 32
        self.snapshot_every = max(MIN_SNAPSHOT_EVERY, math.ceil(snapshot_bytes / SNAPSHOT_EVERY_BYTES))
        capacity = 1 + min(math.ceil(limits.max_history / self.snapshot_every),
                           limits.max_history_bytes // snapshot_bytes)
        self._ring = SnapshotRing(net.n_params, self.optimizer.flat_state.size, capacity)
        self._save_snapshot()
        self._log = Log(2 + net.n_layers, MAX_LOG_ROWS)       # iteration, batch loss, grad norms²
        self._evals = Log(6, MAX_LOG_ROWS)                     # iteration, epoch, 4 metrics
        self._diagnostics = Log(1 + net.n_layers * len(DIAGNOSTIC_COLUMNS), MAX_LOG_ROWS)
        self.breakpoints: Breakpoints | None = None
        self._checker: BreakpointChecker | None = None

    # ---- state -------------------------------------------------------------------

    @property
    def next_phase(self) -> str:
        if self.layer is not None:   # a phase stepped layer by layer is not finished yet
            return self.phase
        return NEXT_PHASE.get(self.phase, "forward")

    @property
    def layer(self) -> int | None:
        """During a forward or backward stepped layer by layer: the last layer whose z and a
        (forward) or delta (backward) are known; None otherwise."""
        L = self.network.n_layers
        if self.phase == "forward" and self.forward_done < L:
            return self.forward_done
        if self.phase == "backward" and self.backward_done < L:
            return L - self.backward_done
        return None

    @property
    def task(self) -> str:
        return self.dataset.task

    @property
    def max_rewind(self) -> int:
        """How many iterations back `rewind` can go: `max_history`, or less while the
        session is younger or the snapshots' byte budget runs out first."""
        return min(self.limits.max_history, self.iteration - self._ring.oldest)

    # ---- the four phases, one call each --------------------------------------------

    def forward(self, layers: int | None = None) -> t.ForwardResult:
        """Step 1, forward: take the next mini-batch; z and a for every layer (or for the
        next `layers` layers: the same numbers, a few layers at a time)."""
        self._begin("forward")
        self._check_layers(layers)
        with np.errstate(all="ignore"):
            self._run_forward(layers)
        self._after_phase("forward")
        return self._forward_result()

    def loss(self) -> t.LossResult:
        """Step 2, loss: batch loss, per-sample losses, regularization loss and ∂loss/∂ŷ."""
        self._begin("loss")
        with np.errstate(all="ignore"):
            self._run_loss()
        self._after_phase("loss")
        return self._loss_result()

    def backward(self, layers: int | None = None) -> t.BackwardResult:
        """Step 3, backward: delta per layer, from the output back; ∂loss/∂W and ∂loss/∂b
        (or only the next `layers` weight layers down: the same numbers, a few at a time)."""
        self._begin("backward")
        self._check_layers(layers)
        with np.errstate(all="ignore"):
            self._run_backward(layers)
        self._after_phase("backward")
        return self._backward_result()

    def update(self) -> t.UpdateResult:
        """Step 4, update: the optimizer adds its step to every weight and bias."""
        self._begin("update")
        self._before_update = (self.iteration, self.network.params.copy())
        with np.errstate(all="ignore"):
            self._run_update()
        self._after_phase("update")
        result = self._update_result()
        if self.status == "ok":
            with np.errstate(all="ignore"):   # logging huge (still finite) gradients may overflow
                self._finish_iteration()
        return result

    def run_phase(self, phase: str, layers: int | None = None):
        """Run one phase by name; `layers` steps forward or backward layer by layer."""
        if phase not in PHASES:
            raise ConfigError("phase", f"must be one of {', '.join(PHASES)}")
        if layers is not None:
            if phase not in ("forward", "backward"):
                raise ConfigError("layers", "applies to forward and backward only")
            return getattr(self, phase)(layers)
        return getattr(self, phase)()

    def _check_layers(self, layers: int | None) -> None:
        if layers is not None:
            check_int("layers", layers, 1, self.network.n_layers)

    # ---- step 5, iterate: whole iterations at full speed -----------------------------

    def train(self, iterations: int | None = None, epochs: int | None = None) -> t.TrainResult:
        """Iterate: finish the iteration in progress, then run whole ones until `iterations`
        updates have been applied or `epochs` epoch boundaries crossed, or a NaN/inf appears."""
        if (iterations is None) == (epochs is None):
            raise ConfigError("iterations", "or epochs: give exactly one")
        if iterations is not None:
            check_int("iterations", iterations, 1, 10**9)
        else:
            check_int("epochs", epochs, 1, 10**7)
        self._refuse_if_diverged()
        target_epoch = self.epoch + epochs if epochs is not None else None
        first, done, checker, fired = self.iteration, 0, self._checker, None
        with np.errstate(all="ignore"):
            while (done < iterations) if iterations is not None else (self.epoch < target_epoch):
                if not self._train_one():
                    break
                done += 1
                if checker is not None:
                    row = self._log.view()[-1]
                    fired = checker.check(self, float(row[1]), np.sqrt(row[2:]))
                    if fired is not None:
                        break
            # the parameters are checked at every snapshot; check the ones since the last
            if self.status == "ok" and not all_finite(self.network.params):
                self._locate_divergence()
        done = self.iteration - first   # a divergence found by replay may have undone a few
        if self.status == "diverged":
            return t.TrainResult(done, "diverged", {"kind": "nan", **self.divergence})
        return t.TrainResult(done, None) if fired is None else t.TrainResult(done, "breakpoint", fired)

    def set_breakpoints(self, conditions: dict | None) -> None:
        """Conditions that stop `train` (and so play); None clears them. NaN/inf always stops."""
        if conditions is None:
            self.breakpoints = self._checker = None
            return
        self.breakpoints = Breakpoints.from_dict(conditions, self.network.layers)
        self._checker = BreakpointChecker(self.breakpoints, self)

    def _train_one(self) -> bool:
        """Run the rest of one iteration without traces; False if it diverged.

        Only cheap checks run here: the loss every iteration, the parameters at every
        snapshot (a NaN or inf in z, a, delta or a gradient always reaches them). When one
        fails, `_locate_divergence` replays from the snapshot to find where it began."""
        if self.phase is None:   # a whole iteration: steps 1–3 as one list of calls
            self._load_batch()
            run(self._pass.iteration)
            self.forward_done = self.backward_done = self.network.n_layers
            self.phase = "backward"
            self._total_loss()
            if not math.isfinite(self._batch_loss + self._reg_loss):
                return self._locate_divergence()
            self._total_gradient()
        else:                    # the rest of one stepped part of the way
            start = PHASES.index(self.next_phase)
            if start == 0:
                self._run_forward()   # from wherever a layer-by-layer forward stopped
            if start <= 1:
                self._run_loss()
                if not math.isfinite(self._batch_loss + self._reg_loss):
                    return self._locate_divergence()
            if start <= 2:
                self._run_backward()
        self._run_update()
        self._trace_phases = 4
        return self._finish_iteration()

    # ---- the computations behind each phase (shared by stepping and training) ------

    def current_batch(self) -> np.ndarray:
        """Training-set indices of the iteration in progress, or of the next one."""
        if self.phase is not None:
            return self._buf.batch.copy()
        pos, B = self.batch_pos, self.config.batch_size
        return self._epochs[self.epoch][0][pos * B:(pos + 1) * B]

    def _load_batch(self) -> None:
        """A new iteration: its batch, into the buffers (and passes) of its size."""
        pos, B = self.batch_pos, self.config.batch_size
        batch = self._epochs[self.epoch][0][pos * B:(pos + 1) * B]
        self._buf, self._pass = self._buffers[len(batch)], self._passes[len(batch)]
        self._buf.batch = batch   # a view of the epoch's order, which never changes
        self._X_train_ones.take(batch, 0, self._buf.x_ones)
        self._targets_train_T.take(batch, 1, self._buf.targets_T)
        self._trace_iteration = self.iteration

    def _run_forward(self, layers: int | None = None) -> None:
        if self.phase != "forward":
            self._load_batch()
            self.forward_done = self.backward_done = 0
            self.phase = "forward"
        start, L = self.forward_done, self.network.n_layers
        self.forward_done = L if layers is None else min(L, start + layers)
        for l in range(start, self.forward_done):
            run(self._pass.forward_layers[l])

    def _run_loss(self) -> None:
        run(self._pass.loss)
        self._total_loss()
        self.phase = "loss"

    def _total_loss(self) -> None:
        """The batch's loss from its samples', and the regularization loss (and gradient)."""
        buf, L = self._buf, self.network.n_layers
        losses, sum_them = buf.sample_losses, ones(buf.n_samples)
        self._batch_loss = float(losses.dot(sum_them)) / buf.n_samples
        if not math.isfinite(self._batch_loss) and self.loss_fn.exact_sample_losses(buf.z[L], buf.targets, losses):
            self._batch_loss = float(losses.dot(sum_them)) / buf.n_samples
        self._reg_loss = (self.regularizer.gradient(self.network.params, self.reg_grads)
                          if self.regularizer.active else 0.0)

    def _run_backward(self, layers: int | None = None) -> None:
        if self.phase != "backward":
            run(self._pass.output_delta)
            self.backward_done = 0
            self.phase = "backward"
        start, L = self.backward_done, self.network.n_layers
        self.backward_done = L if layers is None else min(L, start + layers)
        for l in range(L - 1 - start, L - 1 - self.backward_done, -1):
            run(self._pass.backward_layers[l])
        if self.backward_done == L:
            self._total_gradient()

    def _total_gradient(self) -> None:
        """What the optimizer follows: the data gradient, plus regularization, minus frozen biases."""
        if self.config.freeze_biases:
            np.multiply(self.grads, self.network.weight_mask, out=self.total_grads)
        if self.regularizer.active:
            np.add(self.total_grads if self.config.freeze_biases else self.grads,
                   self.reg_grads, out=self.total_grads)
        self.has_gradients = True

    def _run_update(self) -> None:
        self.optimizer.step(self.total_grads, self.step)
        np.add(self.network.params, self.step, self.network.params)
        self._version += 1
        self.phase = "update"

    def _finish_iteration(self) -> bool:
        """Log the iteration, advance the batch (and epoch), save the new starting state
        every `snapshot_every` iterations; False if the parameters hold a NaN or inf then."""
        row = self._log.append()
        row[0] = self.iteration + 1
        row[1] = self._batch_loss
        # per layer, ‖(∂L/∂W[l], ∂L/∂b[l])‖² (W[l] and b[l] lie side by side); the root is
        # taken when the log is read
        for l, g in enumerate(self._layer_grads):
            row[2 + l] = g.dot(g)
        self.iteration += 1
        self.phase = None
        self.batch_pos += 1
        if self.batch_pos == self.batches_per_epoch:
            self.epoch += 1
            self.batch_pos = 0
            self._start_epoch()
        if self.iteration % self.snapshot_every == 0:
            if not all_finite(self.network.params):   # never keep a NaN or inf
                return self._locate_divergence()
            self._save_snapshot()
        if self.iteration % self.config.eval_every == 0:
            self._record_evaluation()
            self._diagnostics.append()[:] = (self.iteration, *layer_diagnostics(self).ravel())
        return True

    def _start_epoch(self) -> None:
        """Draw the epoch's shuffle order; keep it with the RNG state for rewind."""
        order = self.rng.permutation(len(self.dataset.X_train))
        self._epochs[self.epoch] = (order, self.rng.bit_generator.state)

    def _save_snapshot(self) -> None:
        self._ring.save(self.iteration, self.epoch, self.batch_pos, self.optimizer.step_count,
                        self.network.params, self.optimizer.flat_state)
        oldest_epoch = self._ring.meta[self._ring.oldest_slot, 1]   # forget epochs no snapshot needs
        while next(iter(self._epochs)) < oldest_epoch:   # keys rise in insertion order
            del self._epochs[next(iter(self._epochs))]

    # ---- ordering and divergence -----------------------------------------------------

    def _begin(self, phase: str) -> None:
        self._refuse_if_diverged()
        if phase != self.next_phase:
            raise PhaseOrderError(phase, self.next_phase)

    def _refuse_if_diverged(self) -> None:
        if self.status == "diverged":
            raise DivergedError(self.divergence)

    def _after_phase(self, phase: str) -> None:
        self._trace_phases = PHASES.index(phase) + 1   # a partial phase counts: its result says how far
        where = self._find_nonfinite(phase)
        if where is not None:
            self._set_diverged(phase, *where)

    def _locate_divergence(self) -> bool:
        """A cheap check in `train` saw a NaN or inf that appeared since the newest snapshot:
        go back to it and replay, checking after every phase as stepping does, to the phase
        where the NaN or inf first appears (training is deterministic, so it appears again)."""
        seen_at = self.iteration
        self._restore(self._ring.newest)
        while self.iteration <= seen_at:
            for phase in PHASES:
                getattr(self, f"_run_{phase}")()
                self._after_phase(phase)
                if self.status == "diverged":
                    return False
            self._finish_iteration()
        # training is deterministic, so only a change made behind the session's back (its
        # arrays written directly) can show a NaN that replaying does not
        raise RuntimeError(f"a NaN or inf seen at iteration {seen_at} did not reappear on replay: "
                           "were the session's arrays changed directly?")

    def _set_diverged(self, phase: str, layer: int | None, detail: str) -> None:
        self.status = "diverged"
        self.divergence = {"iteration": self.iteration, "phase": phase, "layer": layer, "detail": detail}

    def _find_nonfinite(self, phase: str) -> tuple[int | None, str] | None:
        """(layer, what) of the first NaN or inf this phase produced, or None."""
        buf, net = self._buf, self.network
        if phase == "forward":
            for l in range(1, self.forward_done + 1):
                for name, arr in (("z", buf.z[l]), ("a", buf.a[l])):
                    if not np.isfinite(arr).all():
                        return l, f"{name}[{l}] has a NaN or inf"
        elif phase == "loss":
            if not math.isfinite(self._batch_loss + self._reg_loss):
                return net.n_layers, "the loss is NaN or inf"
        elif phase == "backward":
            done = range(net.n_layers - 1, net.n_layers - 1 - self.backward_done, -1)
            for l in range(net.n_layers, max(net.n_layers - self.backward_done, 1) - 1, -1):
                if not np.isfinite(buf.delta[l]).all():
                    return l, f"delta[{l}] has a NaN or inf"
            for l in done:
                if not np.isfinite(self.total_grads[self._layer_slices[l]]).all():
                    return l, f"the gradient of W[{l}] or b[{l}] has a NaN or inf"
        elif phase == "update":
            for l in range(net.n_layers):
                if not np.isfinite(net.params[self._layer_slices[l]]).all():
                    return l, f"W[{l}] or b[{l}] has a NaN or inf after the update"
        return None

    # ---- time travel -------------------------------------------------------------

    def rewind(self, iterations: int) -> None:
        """Restore the exact state at the start of the iteration `iterations` ago
        (0 drops the iteration in progress). Fails, changing nothing, past the kept history."""
        check_int("iterations", iterations, 0, 10**9)
        if iterations > self.max_rewind:
            raise RewindError(iterations, self.max_rewind)
        self._restore(self.iteration - iterations)

    def _restore(self, iteration: int) -> None:
        """Load the newest snapshot at or before `iteration`, then replay up to it."""
        ring = self._ring
        k = ring.latest_at_or_before(iteration)
        saved_at, epoch, batch_pos, step_count = (int(v) for v in ring.meta[k])
        np.copyto(self.network.params, ring.params[k])
        np.copyto(self.optimizer.flat_state, ring.state[k])
        self.optimizer.step_count = step_count
        self.iteration, self.epoch, self.batch_pos = saved_at, epoch, batch_pos
        self.rng.bit_generator.state = self._epochs[epoch][1]
        for e in [e for e in self._epochs if e > epoch]:
            del self._epochs[e]
        ring.truncate_after(saved_at)
        while self._config_changes and self._config_changes[-1][0] > saved_at:
            self._apply_training_settings(self._config_changes.pop()[1])
        for log in (self._log, self._evals, self._diagnostics):
            log.truncate_after(saved_at)
        self._clear_progress()
        with np.errstate(all="ignore"):
            while self.iteration < iteration:
                self._train_one()
        self._clear_progress()
        if self.breakpoints is not None:   # counts in a row start again from here
            self._checker = BreakpointChecker(self.breakpoints, self)

    def _clear_progress(self) -> None:
        """Forget the iteration in progress and its trace; the parameters may have changed."""
        self.phase = None
        self.forward_done = self.backward_done = 0
        self.status, self.divergence = "ok", None
        self._trace_phases = 0
        self._trace_iteration = self.iteration
        self.has_gradients = False
        self._version += 1

    def _apply_training_settings(self, config: Config) -> None:
        """Take the optimizer's parameters, regularization and frozen biases from `config`;
        the optimizer's state (velocities, m, v, step count) carries over."""
        self.config = config
        kept = self.optimizer
        self.optimizer = make_optimizer(config.optimizer, self.network.n_params)
        np.copyto(self.optimizer.flat_state, kept.flat_state)
        self.optimizer.step_count = kept.step_count
        self.regularizer = Regularizer(config.regularization.kind, config.regularization.rate,
                                       self.network.weight_mask)
        # what the optimizer follows: the data gradient, plus regularization, minus frozen biases
        separate = self.regularizer.active or config.freeze_biases
        self.total_grads = np.zeros(self.network.n_params) if separate else self.grads

    def set_training(self, changes: dict) -> None:
        """Change, in place, what does not need a new network: the optimizer's parameters (not
        which optimizer), regularization, frozen biases, eval_every. Drops an iteration in
        progress; rewinding to before the change brings the old settings back."""
        if not isinstance(changes, dict):
            raise ConfigError("changes", "must be an object")
        allowed = {"optimizer", "regularization", "freeze_biases", "eval_every"}
        for key in changes:
            if key not in allowed:
                raise ConfigError(key, f"needs a new session; in place: {', '.join(sorted(allowed))}")
        merged = self.config.to_dict()
        for key, value in changes.items():
            merged[key] = {**merged[key], **value} if isinstance(value, dict) and key != "freeze_biases" else value
        new = Config.from_dict(merged, self.limits)
        if new.optimizer.name != self.config.optimizer.name:
            raise ConfigError("optimizer.name", "needs a new session (its state would not carry over)")
        if self.phase is not None:
            self._restore(self.iteration)
        self._config_changes.append((self.iteration, self.config))
        self._apply_training_settings(new)
        self._clear_progress()
        self._save_snapshot()   # rewinding must not replay across this change

    def config_at(self, iteration: int) -> Config:
        """The config in effect during `iteration`."""
        for changed_at, before in self._config_changes:
            if changed_at > iteration:
                return before
        return self.config

    def reset(self) -> None:
        """Start again in place: this config's initial weights, iteration 0, no history."""
        breakpoints = self.breakpoints
        self.__init__(self.config, self.limits, self.dataset)
        if breakpoints is not None:
            self.set_breakpoints(breakpoints.to_dict())

    def set_network(self, W: list, b: list) -> None:
        """Set every weight and bias (shape-checked, finite); drops an iteration in progress.
        The optimizer state is kept, as when a person edits weights mid-training."""
        W_new, b_new = self.network.checked_parameters(W, b)
        if self.phase is not None:
            self._restore(self.iteration)
        self.network.assign(W_new, b_new)
        self._clear_progress()
        self._save_snapshot()   # rewinding must not replay across this edit

    def edit_parameters(self, edits: list[dict]) -> None:
        """Set single weights or biases by hand, e.g. to check homework done on paper:
        each edit is {layer, i, j, value} for W[layer][i][j], or j None for b[layer][i]."""
        if not isinstance(edits, list) or not edits:
            raise ConfigError("edits", "must be a non-empty list of {layer, i, j, value}")
        W, b = _copies(self.network.W), _copies(self.network.b)
        for n, edit in enumerate(edits):
            name = f"edits[{n}]"
            if not isinstance(edit, dict) or set(edit) - {"layer", "i", "j", "value"}:
                raise ConfigError(name, "must be {layer, i, j, value} (j null for a bias)")
            layer = check_int(f"{name}.layer", edit.get("layer"), 0, self.network.n_layers - 1)
            value = check_float(f"{name}.value", edit.get("value"), -1e6, 1e6)
            if edit.get("j") is None:
                b[layer][check_int(f"{name}.i", edit.get("i"), 0, self.network.layers[layer + 1] - 1)] = value
            else:
                i = check_int(f"{name}.i", edit.get("i"), 0, self.network.layers[layer] - 1)
                W[layer][i, check_int(f"{name}.j", edit["j"], 0, self.network.layers[layer + 1] - 1)] = value
        self.set_network(W, b)

    # ---- reading the numbers ---------------------------------------------------------

    def trace(self) -> t.Trace:
        """The iteration in progress, or between iterations the last completed one."""
        n = self._trace_phases
        return t.Trace(
            iteration=self._trace_iteration,
            forward=self._forward_result() if n >= 1 else None,
            loss=self._loss_result() if n >= 2 else None,
            backward=self._backward_result() if n >= 3 else None,
            update=self._update_result() if n >= 4 else None,
        )

    def network_state(self) -> t.NetworkState:
        net = self.network
        has = self.has_gradients
        return t.NetworkState(
            layers=list(net.layers), W=_copies(net.W), b=_copies(net.b),
            grad_W=_copies(self.grad_W) if has else None,
            grad_b=_copies(self.grad_b) if has else None)

    def history(self, since: int = 0) -> t.History:
        """Logged rows of the iterations after `since` (all of them by default), so a
        live view can fetch only what is new."""
        log = self._log.rows_after(since)
        evals = [
            {"iteration": int(r[0]), "epoch": int(r[1]), "train_loss": float(r[2]),
             "test_loss": _none_if_nan(r[3]), "train_accuracy": _none_if_nan(r[4]),
             "test_accuracy": _none_if_nan(r[5])}
            for r in self._evals.rows_after(since)
        ]
        diag = self._diagnostics.rows_after(since)
        return t.History(iterations=log[:, 0].astype(np.int64), batch_loss=log[:, 1].copy(),
                         grad_norm=np.sqrt(log[:, 2:]), evaluations=evals,
                         diagnostics_iterations=diag[:, 0].astype(np.int64),
                         diagnostics=diag[:, 1:].reshape(len(diag), self.network.n_layers,
                                                         len(DIAGNOSTIC_COLUMNS)).copy())

    def diagnostics(self) -> t.Diagnostics | None:
        """Per-layer diagnostics and hints for the last completed iteration (None before one)."""
        if self._trace_phases < 4 or self.phase is not None:
            return None
        table = layer_diagnostics(self)
        return t.Diagnostics(iteration=self._trace_iteration, columns=DIAGNOSTIC_COLUMNS,
                             layers=table, hints=hints(self, table))

    def at(self, iteration: int) -> "Session":
        """A detached copy of this session as it was at the start of `iteration` (within the
        kept history): step it to see that iteration's numbers; this session is untouched."""
        check_int("iteration", iteration, self.iteration - self.max_rewind, self.iteration)
        past = Session(self.config_at(iteration), self.limits, dataset=self.dataset)
        k = self._ring.latest_at_or_before(iteration)
        saved_at, epoch, batch_pos, step_count = (int(v) for v in self._ring.meta[k])
        past._epochs = {e: record for e, record in self._epochs.items() if e >= epoch}
        past._ring.truncate_after(-1)
        past._ring.save(saved_at, epoch, batch_pos, step_count, self._ring.params[k], self._ring.state[k])
        past._restore(iteration)
        return past

    def parameters_used(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(W, b) as the trace's iteration used them: before its update, if that has run."""
        if self._trace_phases < 4:
            return self.network.W, self.network.b
        if self._before_update is not None and self._before_update[0] == self._trace_iteration:
            return self.network.views(self._before_update[1])
        past = self.at(self._trace_iteration)   # trained at full speed: replay to get them exactly
        return past.network.W, past.network.b

    def chain_rule(self, layer: int, i: int | None, j: int) -> dict:
        """∂L/∂W[layer][i][j] (i None: ∂L/∂b[layer][j]) written out factor by factor, per sample."""
        return chain_rule(self, layer, i, j)

    def full_batch_gradient(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """∂loss/∂W and ∂loss/∂b (data + regularization) over the whole training set at the
        current parameters: what the mini-batch gradient estimates."""
        return analytic_gradient(self, np.arange(len(self.dataset.X_train)))

    def compare_gradients(self) -> t.GradientComparison:
        """The mini-batch gradient of the iteration in progress (or the next) beside the
        full-batch one, per layer: cosine of the angle between them and the ratio of norms."""
        rows = self.current_batch()
        full_W, full_b = self.full_batch_gradient()
        batch_W, batch_b = analytic_gradient(self, rows)
        cosine, norm_ratio = [], []
        for parts in zip(full_W, full_b, batch_W, batch_b):
            full, batch = np.concatenate([p.ravel() for p in parts[:2]]), np.concatenate([p.ravel() for p in parts[2:]])
            norms = np.linalg.norm(full) * np.linalg.norm(batch)
            cosine.append(float(full @ batch / norms) if norms > 0 else None)
            norm_ratio.append(float(np.linalg.norm(batch) / np.linalg.norm(full)) if norms > 0 else None)
        return t.GradientComparison(np.asarray(rows).copy(), full_W, full_b, batch_W, batch_b, cosine, norm_ratio)

    def metrics(self) -> t.Metrics:
        """Loss and accuracy over the whole training and test sets, at the current parameters."""
        if self._metrics_cache is not None and self._metrics_cache[0] == self._version:
            return self._metrics_cache[1]
        with np.errstate(all="ignore"):
            train_loss, train_acc = self._evaluate(self.dataset.X_train, self.targets_train, self.dataset.y_train)
            if len(self.dataset.X_test):
                test_loss, test_acc = self._evaluate(self.dataset.X_test, self.targets_test, self.dataset.y_test)
            else:
                test_loss = test_acc = None
        metrics = t.Metrics(train_loss, test_loss, train_acc, test_acc)
        self._metrics_cache = (self._version, metrics)
        return metrics

    def _record_evaluation(self) -> None:
        m = self.metrics()
        self._evals.append()[:] = (self.iteration, self.epoch, m.train_loss, _nan_if_none(m.test_loss),
                                   _nan_if_none(m.train_accuracy), _nan_if_none(m.test_accuracy))

    def _evaluate(self, X: np.ndarray, targets: np.ndarray, labels: np.ndarray) -> tuple[float, float | None]:
        z, a = self._propagate(X)
        L = self.network.n_layers
        sample_losses = self.loss_fn.sample_losses(a[L], z[L], targets, out=np.empty(len(X)))
        loss = float(np.add.reduce(sample_losses)) / len(X)
        if self.task != "classification":
            return loss, None
        return loss, float(np.mean(self._predicted_labels(a[L]) == labels))

    def _predicted_labels(self, outputs: np.ndarray) -> np.ndarray:
        if outputs.shape[1] == 1:
            act = self.network.activations[-1]
            threshold = 0.0 if act.low == -1.0 else 0.5
            return (outputs[:, 0] > threshold).astype(np.int64)
        return np.argmax(outputs, axis=1)

    def _propagate(self, X: np.ndarray) -> tuple[list, list]:
        """Forward over any rows, in fresh arrays (the training buffers stay untouched)."""
        buf = Buffers(self.network.layers, len(X))
        buf.a[0][...] = X
        run(Passes(self.network, buf).forward)
        return _copies(buf.z), _copies(buf.a)   # samples-first in memory too, as callers expect

    def predict(self, X) -> t.Prediction:
        """Outputs and every layer's activations for the given input rows."""
        X = self._checked_inputs(X)
        with np.errstate(all="ignore"):
            z, a = self._propagate(X)
        return t.Prediction(outputs=a[-1], z=z, a=a)

    def boundary(self, resolution: int) -> t.Boundary:
        """Every neuron over a resolution × resolution grid spanning the inputs' range
        (a line of `resolution` points for one input)."""
        n_inputs = self.network.layers[0]
        if n_inputs not in (1, 2):
            raise ConfigError("boundary", f"needs 1 or 2 input features; this network has {n_inputs}")
        check_int("resolution", resolution, 2, 10**4)
        ranges = self.dataset.input_range
        xs = np.linspace(*ranges[0], resolution)
        if n_inputs == 2:
            ys = np.linspace(*ranges[1], resolution)
            gx, gy = np.meshgrid(xs, ys)             # row iy, column ix
            X = np.column_stack([gx.ravel(), gy.ravel()])
        else:
            X = xs[:, None]
        with np.errstate(all="ignore"):
            _, a = self._propagate(X)
        return t.Boundary(
            resolution=resolution, x_range=tuple(ranges[0]),
            y_range=tuple(ranges[1]) if n_inputs == 2 else None,
            outputs=a[-1].T.copy(), neurons=[None] + [al.T.copy() for al in a[1:]])

    def gradcheck(self, epsilon: float = 1e-6) -> t.GradCheck:
        """Central differences (L(p+ε) - L(p-ε)) / 2ε for every weight and bias, on the batch
        of the iteration in progress (or the next one), beside the analytic gradient."""
        return gradient_check(self, epsilon)

    # ---- building results from the buffers ---------------------------------------------

    def _forward_result(self) -> t.ForwardResult:
        buf, done = self._buf, self.forward_done
        z = [x.copy() if x is not None and l <= done else None for l, x in enumerate(buf.z)]
        a = [x.copy() if l <= done else None for l, x in enumerate(buf.a)]
        return t.ForwardResult(self._trace_iteration, buf.batch.copy(), z, a, layer=done)

    def _loss_result(self) -> t.LossResult:
        buf = self._buf
        return t.LossResult(self._trace_iteration, self._batch_loss, buf.sample_losses.copy(),
                            self._reg_loss, buf.d_loss_d_output.copy(), buf.targets.copy())

    def _backward_result(self) -> t.BackwardResult:
        lowest = self.network.n_layers - self.backward_done    # lowest weight layer done

        def known(arrays: list, first: int) -> list:
            return [x.copy() if x is not None and l >= first else None for l, x in enumerate(arrays)]

        reg = self.network.views(self.reg_grads)[0] if self.regularizer.active else None
        return t.BackwardResult(
            self._trace_iteration, delta=known(self._buf.delta, max(lowest, 1)),
            grad_W=known(self.grad_W, lowest), grad_b=known(self.grad_b, lowest),
            grad_W_reg=known(reg, lowest) if reg is not None else None, layer=lowest)

    def _update_result(self) -> t.UpdateResult:
        net = self.network
        step_W, step_b = net.views(self.step)
        return t.UpdateResult(self._trace_iteration, _copies(net.W), _copies(net.b),
                              _copies(step_W), _copies(step_b), self.optimizer_state())

    def optimizer_state(self) -> dict:
        """The optimizer's buffers per layer by torch's names, e.g. exp_avg_W[l]; and `step`."""
        opt, net = self.optimizer, self.network
        state: dict = {"step": opt.step_count} if opt.state_names else {}
        buffers = dict(opt.state)
        if isinstance(opt, Adam):
            buffers.update(opt.bias_corrected())
        for name, flat in buffers.items():
            W, b = net.views(flat)
            state[f"{name}_W"], state[f"{name}_b"] = _copies(W), _copies(b)
        return state

    # ---- data and targets ---------------------------------------------------------

    def _check_data_fits(self) -> None:
        ds, layers, cfg = self.dataset, self.network.layers, self.config
        n_features = ds.X_train.shape[1]
        if layers[0] != n_features:
            raise ConfigError("network.layers[0]", f"must be {n_features}, the data's input columns")
        K = layers[-1]
        if ds.task == "classification":
            k = ds.n_classes
            if cfg.loss == "cross_entropy" and K != k:
                raise ConfigError("network.layers[-1]", f"must be {k}, one output per class, for softmax")
            if K != k and not (k == 2 and K == 1):
                rule = f"must be {k} (one per class)" + (" or 1 (binary)" if k == 2 else "")
                raise ConfigError("network.layers[-1]", rule)
        else:
            if cfg.loss == "cross_entropy":
                raise ConfigError("loss", f"cross_entropy needs class labels; {ds.name} is a regression data set")
            if K != ds.y_train.shape[1]:
                raise ConfigError("network.layers[-1]", f"must be {ds.y_train.shape[1]}, the data's target columns")
            if cfg.loss == "bce":
                y = np.concatenate([ds.y_train, ds.y_test])
                if y.size and (y.min() < 0 or y.max() > 1):
                    raise ConfigError("loss", "bce needs targets between 0 and 1")
        if len(ds.X_train) == 0:
            raise ConfigError("data.test_fraction", "leaves no training rows")
        if cfg.batch_size > len(ds.X_train):
            raise ConfigError("batch_size", f"must be between 1 and {len(ds.X_train)}, the training rows")

    def _encode_targets(self, y: np.ndarray) -> np.ndarray:
        """Targets y as the network's output rows. Binary labels become the output activation's
        extremes (-1/+1 for tanh, else 0/1); several classes become one-hot rows."""
        if self.task != "classification":
            return np.asarray(y, dtype=np.float64)
        K = self.network.layers[-1]
        if K == 1:
            low = -1.0 if self.network.activations[-1].low == -1.0 else 0.0
            return np.where(y == 1, 1.0, low)[:, None]
        return np.eye(K)[y]

    def _checked_inputs(self, X) -> np.ndarray:
        n_inputs = self.network.layers[0]
        if not only_numbers(X):
            raise ConfigError("X", "must be rows of numbers (not strings or true/false)")
        try:
            X = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError("X", "must be rows of numbers") from None
        except OverflowError:   # an int beyond float64, as JSON allows
            raise ConfigError("X", "must hold only finite numbers") from None
        if X.ndim != 2 or X.shape[1] != n_inputs:
            raise ConfigError("X", f"must be rows of {n_inputs} numbers")
        if not np.isfinite(X).all():
            raise ConfigError("X", "must hold only finite numbers")
        return X


def _copies(arrays: list) -> list:
    return [None if x is None else x.copy() for x in arrays]


def _none_if_nan(v: float) -> float | None:
    return None if math.isnan(v) else float(v)


def _nan_if_none(v: float | None) -> float:
    return math.nan if v is None else v
