// The page's copy of one session: the last numbers the server sent, nothing derived.
// Every source (REST responses, websocket events, play frames) goes through here, and
// views listen for what changed:
//   "session"  summary (phase, iteration, metrics, playing, status)
//   "phase"    one phase ran (detail: {phase, data}); views animate it
//   "network"  weights changed without a phase to animate (snapshot, rewind, train, frame)
//   "history", "boundary", "data", "focus", "selection", "frame"
//   "highlight"  a place on the diagram to point at (a breakpoint, a hint, a gradient check)
//   "past"       time travel began, moved or ended (`viewing`)
//
// While the page views a past iteration, `network`, `trace` and `boundary` hold that
// iteration's numbers and `viewing` says which one; `session` stays the live summary.

export const PHASES = ["forward", "loss", "backward", "update"];
const EMPTY_TRACE = { forward: null, loss: null, backward: null, update: null };

function decodeBytes(base64, lo, hi) {
  const text = atob(base64);
  const values = new Float32Array(text.length);
  const span = (hi - lo) / 255;
  for (let k = 0; k < text.length; k++) values[k] = lo + text.charCodeAt(k) * span;
  return values;
}

// Frames carry `lo`/`hi` either once for the whole frame or per layer.
const perLayer = (bound, layer) => (Array.isArray(bound) ? bound[layer] : bound);

export class SessionModel extends EventTarget {
  constructor() {
    super();
    this.session = null;
    this.network = null;
    this.trace = { ...EMPTY_TRACE };
    this.before = null; // {W, b} as they were before the last update
    this.history = { iterations: [], batch_loss: [], grad_norm: [], evaluations: [] };
    this.data = null;
    this.decodedBoundary = null;
    this.frameBoundary = null; // the newest play frame's, decoded only when drawn
    this.focus = 0;
    this.selection = null;
    this.lastPhaseKey = null;
    this.highlight = null; // {layers, neurons, weights, biases} to point at, or null
    this.viewing = null; // {iteration, metrics} of the past iteration shown, or null
    this.snapshots = 0; // counts jumps of the weights, so answers computed before one are not reused
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  get config() {
    return this.session?.config;
  }

  get layers() {
    return this.network?.layers ?? this.config?.network.layers ?? [];
  }

  // The activation that produced layer l's values (the input layer has none).
  activationOf(l) {
    if (l === 0) return null;
    const net = this.config.network;
    return l === this.layers.length - 1 ? net.output_activation : net.activation;
  }

  get batch() {
    return this.trace.forward?.batch ?? [];
  }

  setSession(summary) {
    this.session = summary;
    this.emit("session");
  }

  // Phase fields that arrive with a phase response but belong to the summary.
  patchSession(fields) {
    if (!this.session) return;
    Object.assign(this.session, fields);
    this.emit("session");
  }

  // On connect, and after a rewind, train or PUT /network: the weights and the trace
  // jump, with nothing to animate.
  setSnapshot({ session, network, trace, history }) {
    this.session = session;
    this.network = network;
    this.trace = { ...EMPTY_TRACE, ...(trace ?? {}) };
    this.before = null;
    this.lastPhaseKey = null;
    this.snapshots += 1;
    if (history) this.history = history;
    this.clampFocus();
    this.emit("session");
    this.emit("network");
    this.emit("history");
  }

  // One phase's numbers, from this page's own request or from the event stream. The
  // same phase arrives twice when this page ran it (the response and the broadcast
  // event); the second copy is dropped so it animates once.
  applyPhase(phase, data) {
    // Layer-by-layer steps send the same phase several times an iteration, one per layer.
    const key = `${phase}@${data.iteration}:${data.layer ?? ""}`;
    if (key === this.lastPhaseKey) return false;
    this.lastPhaseKey = key;
    // The same phase's earlier layer-by-layer step of this iteration, if any.
    const earlier = this.trace[phase];
    const previous = earlier && earlier.iteration === data.iteration ? earlier : null;

    if (phase === "forward") {
      this.trace = { ...EMPTY_TRACE, forward: data };
      this.clampFocus();
    } else {
      this.trace[phase] = data;
    }
    if (phase === "backward" && this.network) {
      this.network.grad_W = data.grad_W;
      this.network.grad_b = data.grad_b;
    }
    if (phase === "update" && this.network) {
      this.before = { W: this.network.W, b: this.network.b };
      this.network.W = data.W;
      this.network.b = data.b;
      this.network.optimizer_state = data.optimizer_state;
    }
    if (data.phase !== undefined) {
      // A phase stepped layer by layer is unfinished while it stays the next one.
      const layer = data.next_phase === phase ? data.layer : null;
      this.patchSession({ phase: data.phase, next_phase: data.next_phase, layer });
    }
    this.emit("phase", { phase, data, previous });
    return true;
  }

  // A play frame: new weights, metrics, the latest loss and gradient norms, the boundary.
  applyFrame(frame) {
    if (this.network) {
      this.network.W = frame.W;
      this.network.b = frame.b;
    }
    Object.assign(this.session, {
      iteration: frame.iteration,
      epoch: frame.epoch,
      status: frame.status,
      metrics: frame.metrics,
    });
    // Shaped like a trace's forward with one sample, so the diagram colours neurons alike.
    this.playSample = frame.a_sample ? { a: frame.a_sample.map((layer) => layer && [layer]) } : null;
    this.appendHistory(frame);
    if (frame.boundary) {
      // Frames come 30 a second and the data view draws 10: decode only what gets drawn.
      this.frameBoundary = frame.boundary;
      this.emit("boundary");
    }
    this.emit("session");
    this.emit("network");
    this.emit("history");
    this.emit("frame", frame);
  }

  appendHistory(frame) {
    const h = this.history;
    const last = h.iterations[h.iterations.length - 1] ?? -Infinity;
    if (frame.iteration > last && frame.batch_loss !== undefined && frame.batch_loss !== null) {
      // A frame may carry one value (the latest) or every value since the last frame.
      const losses = [].concat(frame.batch_loss);
      const norms = Array.isArray(frame.grad_norm?.[0]) ? frame.grad_norm : [frame.grad_norm];
      const first = frame.iteration - losses.length + 1;
      losses.forEach((loss, k) => {
        h.iterations.push(first + k);
        h.batch_loss.push(loss);
        h.grad_norm.push(norms[Math.min(k, norms.length - 1)] ?? null);
      });
    }
    const lastEval = h.evaluations[h.evaluations.length - 1];
    if (frame.metrics && (!lastEval || frame.iteration > lastEval.iteration)) {
      h.evaluations.push({ iteration: frame.iteration, epoch: frame.epoch, ...frame.metrics });
    }
  }

  setHistory(history) {
    this.history = history;
    this.emit("history");
  }

  setData(data) {
    this.data = data;
    this.emit("data");
  }

  // Stored as flat Float32Arrays, indexed iy * r + ix, whichever way they arrived.
  setBoundary(boundary) {
    this.boundary = boundary;
    this.emit("boundary");
  }

  get boundary() {
    if (this.frameBoundary) {
      this.decodedBoundary = this.decodeFrameBoundary(this.frameBoundary);
      this.frameBoundary = null;
    }
    return this.decodedBoundary;
  }

  set boundary(boundary) {
    this.decodedBoundary = boundary;
    this.frameBoundary = null;
  }

  decodeRestBoundary(body) {
    return {
      resolution: body.resolution,
      x_range: body.x_range,
      y_range: body.y_range,
      outputs: body.outputs.map((grid) => Float32Array.from(grid)),
      neurons: body.neurons.map((layer) => layer && layer.map((grid) => Float32Array.from(grid))),
    };
  }

  decodeFrameBoundary(body) {
    const outputLayer = this.layers.length - 1;
    return {
      resolution: body.resolution,
      x_range: body.x_range,
      y_range: body.y_range,
      outputs: body.outputs.map((b64) =>
        decodeBytes(b64, perLayer(body.lo, outputLayer), perLayer(body.hi, outputLayer))),
      neurons: body.neurons.map((layer, l) => layer && layer.map((b64) =>
        decodeBytes(b64, perLayer(body.lo, l), perLayer(body.hi, l)))),
    };
  }

  clampFocus() {
    const n = this.batch.length;
    if (this.focus >= n) this.focus = 0;
  }

  setFocus(index) {
    const n = this.batch.length;
    if (!n) return;
    this.focus = ((index % n) + n) % n;
    this.emit("focus");
  }

  select(selection) {
    this.selection = selection;
    this.emit("selection");
  }

  setHighlight(highlight) {
    this.highlight = highlight;
    this.emit("highlight");
  }

  // ---- time travel ---------------------------------------------------------------------

  // One kept iteration as GET /history/{k} serves it: the network at its start, the trace
  // of the iteration run from there, the metrics then; `boundary` from /boundary?iteration=k.
  viewPast(past, boundary) {
    const backward = past.trace?.backward;
    this.viewing = { iteration: past.iteration, metrics: past.metrics };
    this.network = { ...past.network, grad_W: backward?.grad_W ?? null, grad_b: backward?.grad_b ?? null };
    this.trace = { ...EMPTY_TRACE, ...(past.trace ?? {}) };
    this.before = null;
    this.lastPhaseKey = null;
    this.clampFocus();
    if (boundary) this.boundary = boundary;
    this.emit("past");
    this.emit("network");
    this.emit("boundary");
  }

  // The caller fetches the present again (a snapshot) right after.
  leavePast() {
    this.viewing = null;
    this.emit("past");
  }
}
