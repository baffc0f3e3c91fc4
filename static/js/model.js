// The page's copy of one session: the last numbers the server sent, nothing derived.
// Every source (REST responses, websocket events, play frames) goes through here, and
// views listen for what changed:
//   "session"  summary (phase, iteration, metrics, playing, status)
//   "phase"    one phase ran (detail: {phase, data}); views animate it
//   "network"  weights changed without a phase to animate (snapshot, rewind, train, frame)
//   "history", "boundary", "data", "focus", "selection", "frame"

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
    this.boundary = null;
    this.focus = 0;
    this.selection = null;
    this.lastPhaseKey = null;
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
    const key = `${phase}@${data.iteration}`;
    if (key === this.lastPhaseKey) return false;
    this.lastPhaseKey = key;

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
    }
    if (data.phase !== undefined) this.patchSession({ phase: data.phase, next_phase: data.next_phase });
    this.emit("phase", { phase, data });
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
    this.appendHistory(frame);
    if (frame.boundary) this.setBoundary(this.decodeFrameBoundary(frame.boundary));
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
}
