// Line charts on canvas: loss (batch, train, test), accuracy, per-layer gradient norms.
// Long histories are thinned to about one point per pixel column before drawing.

import { cssVar, fitCanvas } from "./canvas.js";
import { CLASS_COLOURS, fmt, pct } from "./scale.js";

const MARGIN = { left: 46, right: 10, top: 8, bottom: 20 };

export class LineChart {
  constructor(canvas, { log = false, aspect = 0.38, format = fmt, fixedRange = null } = {}) {
    this.canvas = canvas;
    this.log = log;
    this.aspect = aspect;
    this.format = format;
    this.fixedRange = fixedRange;
  }

  // series: [{label, colour, xs, ys, width, dash}]; `marker`: an x to mark with a dashed
  // vertical line (the iteration time travel shows).
  draw(series, marker = null) {
    const { context, width, height } = fitCanvas(this.canvas, this.aspect);
    context.clearRect(0, 0, width, height);
    const plotW = width - MARGIN.left - MARGIN.right;
    const plotH = height - MARGIN.top - MARGIN.bottom;
    const transform = this.log ? (y) => Math.log10(y) : (y) => y;
    const points = series.map((s) => this.thin(s, plotW, transform));
    let [x0, x1, yMin, yMax] = [Infinity, -Infinity, Infinity, -Infinity];
    for (const p of points) {
      for (const [x, y] of p) {
        [x0, x1, yMin, yMax] = [Math.min(x0, x), Math.max(x1, x), Math.min(yMin, y), Math.max(yMax, y)];
      }
    }
    context.font = "11px system-ui, sans-serif";
    context.fillStyle = cssVar("--muted");
    if (x0 === Infinity) {
      context.fillText("no data yet", MARGIN.left, MARGIN.top + 14);
      return;
    }
    x1 = Math.max(x1, x0 + 1);
    let [y0, y1] = this.fixedRange ?? [yMin, yMax];
    if (y1 - y0 < 1e-12) [y0, y1] = [y0 - 0.5, y1 + 0.5];
    const px = (x) => MARGIN.left + ((x - x0) / (x1 - x0)) * plotW;
    const py = (y) => MARGIN.top + (1 - (y - y0) / (y1 - y0)) * plotH;

    context.strokeStyle = cssVar("--grid");
    context.lineWidth = 1;
    context.textAlign = "right";
    for (let k = 0; k <= 3; k++) {
      const y = y0 + ((y1 - y0) * k) / 3;
      context.beginPath();
      context.moveTo(MARGIN.left, py(y));
      context.lineTo(width - MARGIN.right, py(y));
      context.stroke();
      context.fillText(this.format(this.log ? 10 ** y : y, 2), MARGIN.left - 4, py(y) + 4);
    }
    context.textAlign = "center";
    context.fillText(`iteration ${Math.round(x0)}`, MARGIN.left + 40, height - 5);
    context.fillText(String(Math.round(x1)), width - MARGIN.right - 12, height - 5);

    points.forEach((p, k) => {
      const s = series[k];
      context.strokeStyle = s.colour;
      context.lineWidth = s.width ?? 1.5;
      context.setLineDash(s.dash ?? []);
      context.beginPath();
      p.forEach(([x, y], n) => (n ? context.lineTo(px(x), py(y)) : context.moveTo(px(x), py(y))));
      context.stroke();
      // A lone point (diagnostics are logged every few iterations) shows as a dot.
      if (p.length === 1) {
        context.fillStyle = s.colour;
        context.fillRect(px(p[0][0]) - 2.5, py(p[0][1]) - 2.5, 5, 5);
      }
    });
    context.setLineDash([]);
    if (marker !== null && marker >= x0 && marker <= x1) {
      context.strokeStyle = cssVar("--accent");
      context.lineWidth = 2;
      context.setLineDash([4, 3]);
      context.beginPath();
      context.moveTo(px(marker), MARGIN.top);
      context.lineTo(px(marker), height - MARGIN.bottom);
      context.stroke();
      context.setLineDash([]);
    }

    context.textAlign = "left";
    let legendX = MARGIN.left + 6;
    series.forEach((s) => {
      context.fillStyle = s.colour;
      context.fillRect(legendX, MARGIN.top + 4, 10, 3);
      context.fillStyle = cssVar("--fg");
      context.fillText(s.label, legendX + 13, MARGIN.top + 9);
      legendX += context.measureText(s.label).width + 26;
    });
  }

  // Keeps finite points only (and positive ones on a log axis), at most ~2 per pixel column.
  thin({ xs, ys }, plotW, transform) {
    const stride = Math.max(1, Math.floor(xs.length / (plotW * 2)));
    const kept = [];
    for (let k = 0; k < xs.length; k += stride) {
      const y = ys[k];
      if (y === null || y === undefined || !Number.isFinite(y) || (this.log && y <= 0)) continue;
      kept.push([xs[k], transform(y)]);
    }
    return kept;
  }
}

export class ChartsView {
  constructor({ loss, accuracy, gradients }, model) {
    this.model = model;
    this.loss = new LineChart(loss);
    this.accuracy = new LineChart(accuracy, { aspect: 0.28, format: pct, fixedRange: [0, 1] });
    this.gradients = new LineChart(gradients, { log: true, aspect: 0.33 });
    this.canvases = { loss, accuracy, gradients };
  }

  render() {
    const h = this.model.history;
    const evaluations = h.evaluations ?? [];
    const evalXs = evaluations.map((e) => e.iteration);
    const pick = (key) => evaluations.map((e) => e[key]);
    this.loss.draw([
      { label: "batch", colour: cssVar("--muted"), xs: h.iterations, ys: h.batch_loss, width: 1 },
      { label: "train", colour: CLASS_COLOURS[1], xs: evalXs, ys: pick("train_loss"), width: 2 },
      { label: "test", colour: CLASS_COLOURS[0], xs: evalXs, ys: pick("test_loss"), width: 2, dash: [5, 3] },
    ], this.model.viewing?.iteration ?? null);
    const classification = this.model.session?.task !== "regression";
    this.canvases.accuracy.closest("figure").hidden = !classification;
    if (classification) {
      this.accuracy.draw([
        { label: "train", colour: CLASS_COLOURS[1], xs: evalXs, ys: pick("train_accuracy"), width: 2 },
        { label: "test", colour: CLASS_COLOURS[0], xs: evalXs, ys: pick("test_accuracy"), width: 2, dash: [5, 3] },
      ]);
    }
    const nLayers = Math.max(0, this.model.layers.length - 1);
    this.gradients.draw(Array.from({ length: nLayers }, (_, l) => ({
      label: `W${l}`,
      colour: CLASS_COLOURS[(l + 2) % CLASS_COLOURS.length],
      xs: h.iterations,
      ys: h.grad_norm.map((norms) => norms?.[l]),
    })));
    this.describe(h, evaluations);
  }

  // Canvas is invisible to screen readers: say the latest values in the label.
  describe(h, evaluations) {
    const latest = evaluations[evaluations.length - 1];
    const batchLoss = h.batch_loss[h.batch_loss.length - 1];
    this.canvases.loss.setAttribute("aria-label",
      `Loss chart. Latest batch loss ${fmt(batchLoss)}, train loss ${fmt(latest?.train_loss)}, test loss ${fmt(latest?.test_loss)}.`);
    this.canvases.accuracy.setAttribute("aria-label",
      `Accuracy chart. Train ${pct(latest?.train_accuracy)}, test ${pct(latest?.test_accuracy)}.`);
    this.canvases.gradients.setAttribute("aria-label",
      `Gradient norm per layer: ${(h.grad_norm[h.grad_norm.length - 1] ?? []).map((g) => fmt(g)).join(", ") || "none yet"}.`);
  }
}
