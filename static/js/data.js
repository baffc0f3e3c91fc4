// The data view: training and test points over the network's output on the input plane
// (the decision boundary), the current batch outlined, the focused sample ringed; a 1-D
// regression shows its fitted curve instead. Below it, one small heatmap per hidden neuron.
// Every value drawn comes from /data, /boundary or play frames.

import { cssVar, cssWidth, fitCanvas } from "./canvas.js";
import { CLASS_COLOURS, CLASS_RGB, DIVERGING_LUT, colourNormaliser, diverging } from "./scale.js";

const PAD = 28;
const MAX_SCATTER_FEATURES = 4;

// One r×r grid of values → pixels, through the diverging scale.
function paintGrid(image, values, normalise) {
  const pixels = image.data;
  for (let k = 0; k < values.length; k++) {
    const t = normalise(values[k]);
    const index = Number.isFinite(t) ? Math.round((Math.max(-1, Math.min(1, t)) + 1) * 127.5) * 3 : 381;
    pixels[k * 4] = DIVERGING_LUT[index];
    pixels[k * 4 + 1] = DIVERGING_LUT[index + 1];
    pixels[k * 4 + 2] = DIVERGING_LUT[index + 2];
    pixels[k * 4 + 3] = 255;
  }
}

// Several outputs (softmax): each cell takes its most likely class's colour, paler where
// the network is less sure.
function paintClasses(image, outputs) {
  const pixels = image.data;
  for (let k = 0; k < outputs[0].length; k++) {
    let best = 0;
    for (let c = 1; c < outputs.length; c++) if (outputs[c][k] > outputs[best][k]) best = c;
    const confidence = Math.max(0, Math.min(1, outputs[best][k]));
    const rgb = CLASS_RGB[best % CLASS_RGB.length];
    for (let c = 0; c < 3; c++) pixels[k * 4 + c] = 255 - confidence * (255 - rgb[c]) * 0.8;
    pixels[k * 4 + 3] = 255;
  }
}

const first = (y) => (Array.isArray(y) ? y[0] : y);

export class DataView {
  constructor({ canvas, neuronCanvas, neuronHeading, showTest, caption }, model) {
    this.canvas = canvas;
    this.neuronCanvas = neuronCanvas;
    this.neuronHeading = neuronHeading;
    this.showTest = showTest;
    this.caption = caption;
    this.baseCaption = caption.textContent;
    this.model = model;
    this.grid = document.createElement("canvas"); // the r×r heatmap before scaling up
    canvas.addEventListener("click", (event) => this.focusNearestBatchPoint(event));
  }

  render() {
    const data = this.model.data;
    if (!data) return;
    const { context, width, height } = fitCanvas(this.canvas, 1);
    context.clearRect(0, 0, width, height);
    const nFeatures = data.X_train[0]?.length ?? 0;
    // Beyond a few features two of them say little (8×8 digits: two corner pixels).
    this.canvas.hidden = nFeatures > MAX_SCATTER_FEATURES;
    this.showTest.closest("label").hidden = this.canvas.hidden;
    this.renderNeuronMaps(nFeatures === 2);
    this.describe(nFeatures);
    if (this.canvas.hidden) return;
    this.frame = this.plotFrame(data, width, height);
    if (nFeatures === 1) this.drawCurve(context);
    else {
      if (nFeatures === 2) this.drawBoundary(context);
      this.drawPoints(context);
    }
    this.drawAxes(context, nFeatures);
  }

  // Maps from data coordinates to canvas pixels. 1-D data plots x against the target.
  plotFrame(data, width, height) {
    const boundary = this.model.boundary;
    const xRange = boundary?.x_range ?? data.input_range[0];
    let yRange = boundary?.y_range ?? data.input_range[1];
    if (data.X_train[0].length === 1) {
      const ys = data.y_train.map(first).concat(boundary ? Array.from(boundary.outputs[0]) : []);
      const lo = Math.min(...ys);
      const hi = Math.max(...ys);
      const margin = (hi - lo) * 0.08 || 1;
      yRange = [lo - margin, hi + margin];
    }
    const sx = (width - 2 * PAD) / (xRange[1] - xRange[0]);
    const sy = (height - 2 * PAD) / (yRange[1] - yRange[0]);
    return {
      xRange, yRange, width, height,
      x: (v) => PAD + (v - xRange[0]) * sx,
      y: (v) => height - PAD - (v - yRange[0]) * sy,
    };
  }

  drawBoundary(context) {
    const boundary = this.model.boundary;
    if (!boundary) return;
    const r = boundary.resolution;
    this.grid.width = r;
    this.grid.height = r;
    const gridContext = this.grid.getContext("2d");
    const image = gridContext.createImageData(r, r);
    const outputs = boundary.outputs;
    if (outputs.length > 1) paintClasses(image, outputs);
    else paintGrid(image, outputs[0], colourNormaliser(this.model.activationOf(this.model.layers.length - 1), outputs[0]));
    gridContext.putImageData(image, 0, 0);
    const f = this.frame;
    const [x0, x1] = [f.x(boundary.x_range[0]), f.x(boundary.x_range[1])];
    const [y0, y1] = [f.y(boundary.y_range[0]), f.y(boundary.y_range[1])];
    // Row iy = 0 is the lowest y: flip vertically onto the canvas, whose y runs down.
    context.save();
    context.globalAlpha = 0.85;
    context.translate(x0, y0);
    context.scale(1, -1);
    context.drawImage(this.grid, 0, 0, x1 - x0, y0 - y1);
    context.restore();
  }

  pointColour(label, data, targets) {
    if (data.task === "classification") return CLASS_COLOURS[label % CLASS_COLOURS.length];
    return diverging(targets(label));
  }

  // The points never move, so they are drawn once into a layer of their own and copied
  // onto each frame; only the batch's outlines are drawn fresh.
  drawPoints(context) {
    const f = this.frame;
    const signature = `${f.width} ${f.xRange} ${f.yRange} ${this.showTest.checked} ${cssVar("--fg")}`;
    if (this.points?.data !== this.model.data || this.points.signature !== signature) {
      this.points = { data: this.model.data, signature, canvas: this.drawPointsLayer() };
    }
    context.drawImage(this.points.canvas, 0, 0, f.width, f.height);
    const batch = this.model.session?.playing ? [] : this.model.batch;
    context.strokeStyle = cssVar("--accent");
    batch.forEach((index, k) => {
      const point = this.model.data.X_train[index];
      if (!point) return;
      context.lineWidth = k === this.model.focus ? 3 : 1.5;
      context.beginPath();
      context.arc(f.x(point[0]), f.y(point[1]), k === this.model.focus ? 9 : 6, 0, 2 * Math.PI);
      context.stroke();
    });
  }

  drawPointsLayer() {
    const data = this.model.data;
    const f = this.frame;
    const ratio = window.devicePixelRatio || 1;
    const layer = document.createElement("canvas");
    layer.width = Math.round(f.width * ratio);
    layer.height = Math.round(f.height * ratio);
    const context = layer.getContext("2d");
    context.scale(ratio, ratio);
    const ink = cssVar("--fg");
    let targets = () => 0;
    if (data.task !== "classification") {
      const values = data.y_train.map(first);
      const peak = Math.max(...values.map(Math.abs)) || 1;
      targets = (y) => first(y) / peak;
    }
    const dot = (point, radius) => {
      context.beginPath();
      context.arc(f.x(point[0]), f.y(point[1]), radius, 0, 2 * Math.PI);
    };
    context.lineWidth = 1;
    data.X_train.forEach((point, k) => {
      dot(point, 3.5);
      context.fillStyle = this.pointColour(data.y_train[k], data, targets);
      context.fill();
      context.strokeStyle = ink;
      context.stroke();
    });
    if (this.showTest.checked) {
      context.lineWidth = 2;
      data.X_test.forEach((point, k) => {
        dot(point, 4);
        context.strokeStyle = this.pointColour(data.y_test[k], data, targets);
        context.stroke();
      });
    }
    return layer;
  }

  // 1-D regression: the data as (x, y) points and the network's output as a curve.
  drawCurve(context) {
    const data = this.model.data;
    const f = this.frame;
    context.fillStyle = CLASS_COLOURS[1];
    data.X_train.forEach((x, k) => {
      context.beginPath();
      context.arc(f.x(x[0]), f.y(first(data.y_train[k])), 3, 0, 2 * Math.PI);
      context.fill();
    });
    if (this.showTest.checked) {
      context.strokeStyle = CLASS_COLOURS[0];
      data.X_test.forEach((x, k) => {
        context.beginPath();
        context.arc(f.x(x[0]), f.y(first(data.y_test[k])), 3.5, 0, 2 * Math.PI);
        context.stroke();
      });
    }
    const boundary = this.model.boundary;
    if (!boundary) return;
    const r = boundary.resolution;
    const [lo, hi] = boundary.x_range;
    context.strokeStyle = cssVar("--accent");
    context.lineWidth = 2.5;
    context.beginPath();
    boundary.outputs[0].forEach((y, k) => {
      const x = lo + ((hi - lo) * k) / (r - 1);
      if (k === 0) context.moveTo(f.x(x), f.y(y));
      else context.lineTo(f.x(x), f.y(y));
    });
    context.stroke();
    context.lineWidth = 1;
    context.strokeStyle = cssVar("--accent");
    for (const index of this.model.batch) {
      const x = data.X_train[index];
      if (!x) continue;
      context.beginPath();
      context.arc(f.x(x[0]), f.y(first(data.y_train[index])), 6, 0, 2 * Math.PI);
      context.stroke();
    }
  }

  drawAxes(context, nFeatures) {
    const data = this.model.data;
    const f = this.frame;
    context.fillStyle = cssVar("--muted");
    context.font = "12px system-ui, sans-serif";
    const names = data.feature_names ?? [];
    context.textAlign = "center";
    context.fillText(names[0] ?? "x₁", f.width / 2, f.height - 8);
    context.save();
    context.translate(12, f.height / 2);
    context.rotate(-Math.PI / 2);
    context.fillText(nFeatures === 1 ? "target" : names[1] ?? "x₂", 0, 0);
    context.restore();
  }

  describe(nFeatures) {
    let text = this.baseCaption;
    if (nFeatures > MAX_SCATTER_FEATURES) text = `Each sample has ${nFeatures} features: the network's input layer shows the focused one.`;
    else if (nFeatures > 2) text += ` Showing the first two of ${nFeatures} features: the boundary needs 2-D inputs.`;
    if (this.caption.textContent !== text) this.caption.textContent = text;
  }

  // A grid of heatmaps: a column per hidden layer, a row per neuron.
  renderNeuronMaps(available) {
    const boundary = this.model.boundary;
    const neurons = boundary?.neurons ?? [];
    const hidden = neurons.slice(1, this.model.layers.length - 1).filter(Boolean);
    this.neuronCanvas.hidden = !available || hidden.length === 0;
    this.neuronHeading.hidden = this.neuronCanvas.hidden;
    if (this.neuronCanvas.hidden) return;
    const rows = Math.max(...hidden.map((layer) => layer.length));
    const width = cssWidth(this.neuronCanvas);
    const tile = Math.min(44, (width - 8) / hidden.length - 8, 360 / rows);
    const { context } = fitCanvas(this.neuronCanvas, (rows * (tile + 6) + 24) / width);
    context.clearRect(0, 0, width, this.neuronCanvas.height);
    const r = boundary.resolution;
    this.grid.width = r;
    this.grid.height = r;
    const gridContext = this.grid.getContext("2d");
    const image = gridContext.createImageData(r, r);
    context.fillStyle = cssVar("--muted");
    context.font = "11px system-ui, sans-serif";
    context.textAlign = "center";
    hidden.forEach((layer, column) => {
      const l = column + 1;
      const x = 4 + column * (tile + 14);
      context.fillText(`layer ${l}`, x + tile / 2, 12);
      layer.forEach((values, j) => {
        paintGrid(image, values, colourNormaliser(this.model.activationOf(l), values));
        gridContext.putImageData(image, 0, 0);
        const y = 18 + j * (tile + 6);
        context.save();
        context.translate(x, y + tile);
        context.scale(1, -1);
        context.drawImage(this.grid, 0, 0, tile, tile);
        context.restore();
      });
    });
  }

  focusNearestBatchPoint(event) {
    const data = this.model.data;
    if (!this.frame || !data || data.X_train[0].length !== 2) return;
    const box = this.canvas.getBoundingClientRect();
    const [px, py] = [event.clientX - box.left, event.clientY - box.top];
    let nearest = -1;
    let best = 15 ** 2;
    this.model.batch.forEach((index, k) => {
      const [x, y] = data.X_train[index];
      const d = (this.frame.x(x) - px) ** 2 + (this.frame.y(y) - py) ** 2;
      if (d < best) [nearest, best] = [k, d];
    });
    if (nearest >= 0) this.model.setFocus(nearest);
  }
}
