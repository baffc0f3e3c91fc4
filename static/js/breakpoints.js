// The breakpoints panel: the session's stop conditions (PUT /breakpoints whenever the form
// changes, so Play, Epoch and any script's train obey them), and the report of the one that
// fired: in words, with its numbers, and the place it points at on the diagram.

import { fmt } from "./scale.js";

const byId = (id) => document.getElementById(id);

// One row per simple condition: its key in docs/api.md, what the row says, a default.
const CONDITIONS = [
  { key: "loss_rising", label: "The batch loss rises", unit: "iterations in a row", value: 3, integer: true },
  { key: "grad_norm_above", label: "A layer's gradient norm is above", unit: "(exploding)", value: 10 },
  { key: "grad_norm_below", label: "A layer's gradient norm is below", unit: "(vanishing)", value: 1e-5 },
  { key: "grad_norm_iterations", label: "… for", unit: "iterations in a row", value: 1, integer: true, always: true },
  { key: "loss_below", label: "The batch loss falls below", unit: "", value: 0.05 },
  { key: "at_iteration", label: "Iteration", unit: "is reached", value: 100, integer: true },
  { key: "at_epoch", label: "Epoch", unit: "is reached", value: 5, integer: true },
];

export const parameterName = ({ layer, i, j }) => (j === null || j === undefined ? `b[${layer}][${i}]` : `W[${layer}][${i}][${j}]`);

// The fired condition in a sentence, with its numbers.
export function describeStop(bp) {
  const where = `Stopped at iteration ${bp.iteration} (epoch ${bp.epoch}): `;
  const inARow = bp.iterations > 1 ? ` for ${bp.iterations} iterations in a row` : "";
  switch (bp.kind) {
    case "nan": return `${where}a NaN or ∞ appeared in ${bp.phase}${bp.layer != null ? `, layer ${bp.layer}` : ""} — ${bp.detail}.`;
    case "loss_rising": return `${where}the batch loss rose ${bp.iterations} iterations in a row, to ${fmt(bp.value)}.`;
    case "grad_norm_above": return `${where}the gradient norm of W${bp.layer} is ${fmt(bp.value)}, above ${fmt(bp.bound)}${inARow} (exploding gradients).`;
    case "grad_norm_below": return `${where}the gradient norm of W${bp.layer} is ${fmt(bp.value)}, below ${fmt(bp.bound)}${inARow} (vanishing gradients).`;
    case "watch": return `${where}the watched ${parameterName(bp)} crossed ${fmt(bp.bound)}: it is now ${fmt(bp.value)}.`;
    case "loss_below": return `${where}the batch loss ${fmt(bp.value)} fell below ${fmt(bp.bound)}.`;
    case "at_iteration": return `${where}iteration ${bp.iteration} reached.`;
    case "at_epoch": return `${where}epoch ${bp.epoch} reached.`;
    default: return `${where}${bp.detail ?? bp.kind}.`;
  }
}

// Where a fired condition points on the diagram (docs/api.md numbers layers from the input).
export function placeOf(bp, layers) {
  const label = "breakpoint";
  const output = layers.length - 1;
  switch (bp.kind) {
    case "grad_norm_above":
    case "grad_norm_below":
      return { layers: [bp.layer], label };
    case "watch":
      return bp.j === null || bp.j === undefined ? { biases: [[bp.layer, bp.i]], label } : { weights: [[bp.layer, bp.i, bp.j]], label };
    case "nan": {
      if (bp.layer === null || bp.layer === undefined) return null;
      // z, a and δ are numbered by neuron layer: the links feeding it; W[l] and b[l] by weight layer.
      const weightLayer = /W\[|b\[/.test(bp.detail ?? "") ? bp.layer : Math.max(0, bp.layer - 1);
      return { layers: [weightLayer], label: "NaN / ∞" };
    }
    case "loss_rising":
    case "loss_below":
      return { neurons: Array.from({ length: layers[output] }, (_, j) => [output, j]), label };
    default:
      return null;
  }
}

export class BreakpointsView {
  constructor(model, api) {
    this.model = model;
    this.api = api;
    this.form = byId("breakpoints");
    this.note = byId("breakpoints-note");
    this.report = byId("stop-report");
    this.watch = null; // {layer, i, j, value}
    this.saved = Promise.resolve();
    this.buildRows();
    this.form.addEventListener("change", () => this.save());
    this.form.addEventListener("submit", (event) => event.preventDefault());
    byId("stop-clear").addEventListener("click", () => this.clearStop());
    this.setEnabled(api.canSteer);
  }

  buildRows() {
    const rows = CONDITIONS.map((c) => {
      const row = document.createElement("div");
      row.className = c.always ? "condition follows" : "condition";
      const number = `<input type="number" id="bp-${c.key}" min="0" step="${c.integer ? 1 : "any"}" value="${c.value}"
        aria-label="${c.label} ${c.unit}">`;
      row.innerHTML = c.always
        ? `<span>${c.label}</span>${number}<span>${c.unit}</span>`
        : `<input type="checkbox" id="bp-on-${c.key}"><label for="bp-on-${c.key}">${c.label}</label>${number}<span>${c.unit}</span>`;
      return row;
    });
    const watch = document.createElement("div");
    watch.className = "condition";
    watch.innerHTML = `<input type="checkbox" id="bp-on-watch" disabled><label for="bp-on-watch" id="bp-watch-label">Watch a weight: choose one in the inspector</label>`;
    byId("breakpoint-conditions").replaceChildren(...rows, watch);
  }

  setEnabled(enabled) {
    for (const input of this.form.querySelectorAll("input")) input.disabled = !enabled || (input.id === "bp-on-watch" && !this.watch);
  }

  // The form as the body of PUT /breakpoints: only the conditions switched on, or null.
  conditions() {
    const body = {};
    for (const c of CONDITIONS) {
      if (c.always || !byId(`bp-on-${c.key}`).checked) continue;
      body[c.key] = Number(byId(`bp-${c.key}`).value);
    }
    if ("grad_norm_above" in body || "grad_norm_below" in body) body.grad_norm_iterations = Number(byId("bp-grad_norm_iterations").value);
    if (this.watch && byId("bp-on-watch").checked) body.watch = this.watch;
    return Object.keys(body).length ? body : null;
  }

  // The session's conditions → the form (on load: the teacher's are shown to everyone).
  fill(conditions) {
    for (const c of CONDITIONS) {
      const value = conditions?.[c.key];
      if (!c.always) byId(`bp-on-${c.key}`).checked = value !== null && value !== undefined;
      if (value !== null && value !== undefined) byId(`bp-${c.key}`).value = value;
    }
    this.setWatch(conditions?.watch ?? null, Boolean(conditions?.watch));
  }

  // From the inspector: stop when this weight (or bias, j null) crosses `value`.
  setWatch(watch, on = true) {
    this.watch = watch;
    const label = byId("bp-watch-label");
    label.textContent = watch ? `${parameterName(watch)} crosses ${fmt(watch.value)}` : "Watch a weight: choose one in the inspector";
    byId("bp-on-watch").checked = Boolean(watch) && on;
    this.setEnabled(this.api.canSteer);
  }

  save() {
    if (!this.api.canSteer) return this.saved;
    const conditions = this.conditions();
    this.saved = this.api.setBreakpoints(conditions)
      .then(() => { this.note.textContent = conditions ? "Set: training stops when one of the ticked conditions holds." : "No breakpoints set (NaN and ∞ still stop training)."; })
      .catch((error) => { this.note.textContent = `Not set: ${error.message}`; });
    return this.saved;
  }

  // A condition fired (a train response or a websocket event): say it and point at it.
  showStop(bp) {
    const text = describeStop(bp);
    byId("stop-text").textContent = text;
    this.report.hidden = false;
    this.model.setHighlight(placeOf(bp, this.model.layers));
    return text;
  }

  clearStop() {
    this.report.hidden = true;
    this.model.setHighlight(null);
  }
}
