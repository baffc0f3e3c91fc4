// Diagnostics: per weight layer over time (gradient norm, update/weight ratio, dead ReLUs,
// saturated units) as small charts from GET /history, and the plain-language hints of
// GET /diagnostics. Each hint has a button that highlights its layer on the diagram and
// shows the numbers behind the words.

import { LineChart } from "./charts.js";
import { CLASS_COLOURS, fmt, numberHtml as num } from "./scale.js";

const byId = (id) => document.getElementById(id);

// The columns of docs/api.md's diagnostics, in order, as the charts title them.
const COLUMNS = [
  { key: "grad_norm", title: "Gradient norm ‖∂L/∂W‖ (log)", log: true },
  { key: "update_ratio", title: "Update / weight size (log; ~0.001 is healthy)", log: true },
  { key: "dead_fraction", title: "Dead ReLUs (fraction of the layer)", range: [0, 1] },
  { key: "saturated_fraction", title: "Saturated sigmoid/tanh units (fraction)", range: [0, 1] },
];
// Hints about units name the neuron layer; the others name a weight layer.
const UNIT_HINTS = ["dead_relu", "saturated"];

export class DiagnosticsView {
  constructor(model) {
    this.model = model;
    this.hintList = byId("hints");
    this.numbers = byId("hint-numbers");
    this.body = null; // the last GET /diagnostics
    this.charts = COLUMNS.map((column) => this.buildChart(column));
    this.hintList.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-hint]");
      if (button) this.explain(Number(button.dataset.hint));
    });
  }

  buildChart(column) {
    const figure = document.createElement("figure");
    const caption = document.createElement("figcaption");
    caption.textContent = column.title;
    const canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", column.title);
    figure.append(caption, canvas);
    byId("diagnostic-charts").append(figure);
    const chart = new LineChart(canvas, { log: column.log, aspect: 0.45, fixedRange: column.range ?? null });
    return { column, figure, canvas, chart };
  }

  setBody(body) {
    this.body = body;
    this.renderHints();
  }

  // One line per weight layer; a column that applies to no layer (no ReLUs) is hidden.
  renderCharts() {
    const h = this.model.history;
    const xs = h.diagnostics_iterations ?? [];
    const rows = h.diagnostics ?? [];
    const nLayers = Math.max(0, this.model.layers.length - 1);
    this.charts.forEach(({ figure, canvas, chart }, c) => {
      const series = Array.from({ length: nLayers }, (_, l) => ({
        label: `W${l}`, colour: CLASS_COLOURS[(l + 2) % CLASS_COLOURS.length], xs, ys: rows.map((row) => row?.[l]?.[c] ?? null),
      }));
      const applies = xs.length === 0 || series.some((s) => s.ys.some((y) => y !== null));
      figure.hidden = !applies;
      if (!applies) return;
      chart.draw(series);
      const latest = series.map((s) => `${s.label} ${fmt(s.ys[s.ys.length - 1])}`).join(", ");
      canvas.setAttribute("aria-label", `${COLUMNS[c].title}. Latest: ${latest || "none yet"}.`);
    });
  }

  renderHints() {
    const body = this.body;
    if (!body || body.iteration === null) {
      this.hintList.innerHTML = `<li class="hint">Run one whole iteration to see the diagnostics.</li>`;
      return;
    }
    if (!body.hints.length) {
      this.hintList.innerHTML = `<li class="hint">Iteration ${body.iteration}: nothing looks wrong (no dead or saturated units, healthy update sizes, gradients neither vanishing nor exploding).</li>`;
      return;
    }
    // The server's words go in as text, never as markup.
    this.hintList.replaceChildren(...body.hints.map((hint, k) => {
      const item = document.createElement("li");
      item.className = "hint-item";
      item.dataset.kind = hint.kind;
      const message = document.createElement("p");
      message.textContent = hint.message;
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.hint = k;
      button.textContent = `Show the numbers${hint.layer !== null ? ` (layer ${hint.layer})` : ""}`;
      item.append(message, button);
      return item;
    }));
  }

  // The hint's own numbers and its layer's row of diagnostics, and the layer highlighted.
  explain(k) {
    const hint = this.body.hints[k];
    const units = UNIT_HINTS.includes(hint.kind);
    const weightLayer = units ? hint.layer - 1 : hint.layer;
    const name = hint.kind.replaceAll("_", " ");
    const neurons = units ? Array.from({ length: this.model.layers[hint.layer] }, (_, j) => [hint.layer, j]) : [];
    this.model.setHighlight(hint.layer === null ? null : { neurons, layers: [weightLayer], label: name });
    const row = this.body.layers[weightLayer] ?? [];
    const own = Object.entries(hint.numbers).map(([name, value]) => `<tr><th scope="row">${name.replaceAll("_", " ")}</th><td>${num(value)}</td></tr>`);
    const layerRows = this.body.columns.map((name, c) => `<tr><th scope="row">W${weightLayer}: ${name.replaceAll("_", " ")}</th><td>${num(row[c])}</td></tr>`);
    this.numbers.innerHTML = `<table class="numbers" id="hint-table"><caption>Behind “${name}”, iteration ${this.body.iteration}</caption>
      <tbody>${own.join("")}${layerRows.join("")}</tbody></table>`;
    for (const button of this.hintList.querySelectorAll("button[data-hint]")) button.setAttribute("aria-pressed", String(Number(button.dataset.hint) === k));
  }
}
