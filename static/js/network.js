// The network diagram (SVG): neurons coloured by activation for the focused sample, links
// whose width is |w| and colour its sign, a small bias square on every neuron. After
// backward, links show ∂L/∂w instead, until the update. Layers wider than WIDE neurons are
// drawn aggregated (an image for a square count such as 8×8 digits, else a strip), with one
// bundled link per neuron on the other side. A forward or backward stepped layer by layer
// shows only the layers computed so far. A highlight (a breakpoint, a hint, a gradient that
// disagrees) is drawn behind the links in the accent colour, with dashes, so it does not rely
// on colour alone.

import { colourNormaliser, diverging, fmt, maxAbs } from "./scale.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const WIDE = 16;
const VIEW = { width: 900, height: 500, left: 70, right: 170, top: 34, bottom: 34 };
const SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉";

const sub = (n) => String(n + 1).split("").map((d) => SUBSCRIPTS[d]).join("");

function el(name, attributes = {}, parent = null) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (parent) parent.appendChild(node);
  return node;
}

// Sets an attribute only when its value changes: at 30 frames a second, rewriting a few
// hundred unchanged attributes still makes the browser restyle the drawing.
const written = new WeakMap();
function update(node, name, value) {
  let attributes = written.get(node);
  if (!attributes) written.set(node, (attributes = {}));
  if (attributes[name] === value) return;
  attributes[name] = value;
  node.setAttribute(name, value);
}

// A bundle of weights drawn as one line: its sign and root-mean-square size.
function summarise(matrix, members) {
  if (members.length === 1) return matrix[members[0][0]][members[0][1]];
  let sum = 0;
  let squares = 0;
  for (const [i, j] of members) {
    sum += matrix[i][j];
    squares += matrix[i][j] ** 2;
  }
  return Math.sign(sum) * Math.sqrt(squares / members.length);
}

// Text on a coloured disc must stay readable: dark on pale fills, light on strong ones.
function inkFor(fill) {
  const [r, g, b] = fill.match(/\d+/g).map(Number);
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#111" : "#fff";
}

export class NetworkView {
  constructor(svg, model, tooltip) {
    this.svg = svg;
    this.model = model;
    this.tooltip = tooltip;
    this.shape = "";
    this.progress = null; // {phase, t, from, to} while a phase animates
    svg.setAttribute("viewBox", `0 0 ${VIEW.width} ${VIEW.height}`);
    svg.addEventListener("click", (event) => this.onClick(event));
    svg.addEventListener("pointermove", (event) => this.onHover(event));
    svg.addEventListener("pointerleave", () => { tooltip.hidden = true; });
  }

  // ---- layout -------------------------------------------------------------------------

  build() {
    const layers = this.model.layers;
    this.shape = layers.join("-");
    this.svg.replaceChildren();
    const columns = layers.length - 1;
    const innerWidth = VIEW.width - VIEW.left - VIEW.right;
    const innerHeight = VIEW.height - VIEW.top - VIEW.bottom;
    const tallest = Math.max(...layers.filter((n) => n <= WIDE), 1);
    const rowSpace = innerHeight / tallest;
    this.radius = Math.max(7, Math.min(20, rowSpace * 0.3));
    // Values drawn on the neurons need room; crowded layers show them on hover instead.
    this.showValues = rowSpace >= 36;

    this.columns = layers.map((n, l) => {
      const x = VIEW.left + (columns ? (l * innerWidth) / columns : innerWidth / 2);
      return n > WIDE ? this.wideColumn(n, x, innerHeight) : this.narrowColumn(n, x, rowSpace);
    });

    this.highlightLayer = el("g", { class: "highlights", "pointer-events": "none" }, this.svg);
    this.drawnHighlight = undefined;
    this.linkLayer = el("g", { class: "links" }, this.svg);
    this.pulseLayer = el("g", { class: "pulses" }, this.svg);
    // Wide invisible strokes make thin links easy to click; hidden, they cost no painting.
    this.hitLayer = el("g", { class: "hits", stroke: "black", "stroke-width": 9, visibility: "hidden", "pointer-events": "stroke" }, this.svg);
    this.nodeLayer = el("g", { class: "nodes" }, this.svg);
    this.links = [];
    for (let l = 0; l + 1 < layers.length; l++) this.buildLinks(l);
    this.columns.forEach((column, l) => this.buildNodes(column, l));
    this.lossLabel = el("text", { class: "loss-label", x: VIEW.width - 12, y: VIEW.top - 10, "text-anchor": "end" }, this.svg);
    this.modeLabel = el("text", { class: "mode-label", x: VIEW.left, y: VIEW.height - 8 }, this.svg);
  }

  narrowColumn(n, x, rowSpace) {
    const middle = VIEW.top + (VIEW.height - VIEW.top - VIEW.bottom) / 2;
    const points = Array.from({ length: n }, (_, j) => ({ x, y: middle + (j - (n - 1) / 2) * rowSpace }));
    return { wide: false, points, anchorIn: null, anchorOut: null };
  }

  wideColumn(n, x, innerHeight) {
    const side = Math.round(Math.sqrt(n));
    const middle = VIEW.top + innerHeight / 2;
    if (side * side === n) {
      const cell = Math.min(14, (innerHeight * 0.6) / side);
      const size = cell * side;
      const points = Array.from({ length: n }, (_, k) => ({
        x: x - size / 2 + (k % side) * cell + cell / 2,
        y: middle - size / 2 + Math.floor(k / side) * cell + cell / 2,
      }));
      return { wide: true, points, cellW: cell, cellH: cell, anchorIn: { x: x - size / 2, y: middle }, anchorOut: { x: x + size / 2, y: middle } };
    }
    const height = Math.min(innerHeight, n * 6);
    const cell = height / n;
    const points = Array.from({ length: n }, (_, j) => ({ x, y: middle - height / 2 + j * cell + cell / 2 }));
    return { wide: true, points, cellW: 14, cellH: cell, anchorIn: { x: x - 7, y: middle }, anchorOut: { x: x + 7, y: middle } };
  }

  buildLinks(l) {
    const from = this.columns[l];
    const to = this.columns[l + 1];
    const [nFrom, nTo] = [from.points.length, to.points.length];
    const add = (a, b, members) => {
      const attributes = { x1: a.x, y1: a.y, x2: b.x, y2: b.y };
      const line = el("line", { ...attributes, "stroke-linecap": "round" }, this.linkLayer);
      const hit = el("line", { ...attributes, "data-link": this.links.length }, this.hitLayer);
      this.links.push({ l, members, line, hit, a, b, pulse: null });
    };
    const all = (i, j) => Array.from({ length: from.wide ? nFrom : 1 }, (_, k) =>
      Array.from({ length: to.wide ? nTo : 1 }, (_, m) => [from.wide ? k : i, to.wide ? m : j])).flat();
    if (from.wide && to.wide) add(from.anchorOut, to.anchorIn, all(0, 0));
    else if (from.wide) to.points.forEach((p, j) => add(from.anchorOut, p, all(0, j)));
    else if (to.wide) from.points.forEach((p, i) => add(p, to.anchorIn, all(i, 0)));
    else from.points.forEach((a, i) => to.points.forEach((b, j) => add(a, b, [[i, j]])));
  }

  buildNodes(column, l) {
    const group = el("g", { class: `layer layer-${l}` }, this.nodeLayer);
    column.nodes = column.points.map((p, j) => {
      const data = { "data-layer": l, "data-neuron": j };
      if (column.wide) {
        const shape = el("rect", {
          ...data, x: p.x - column.cellW / 2, y: p.y - column.cellH / 2,
          width: column.cellW, height: column.cellH, stroke: "var(--bg)", "stroke-width": 0.5,
        }, group);
        return { shape };
      }
      const r = this.radius;
      const shape = el("circle", { ...data, cx: p.x, cy: p.y, r, "stroke-width": 1.5 }, group);
      const value = el("text", { class: "value", x: p.x, y: p.y + r * 0.22, "text-anchor": "middle", "font-size": r * 0.6, "pointer-events": "none", id: `a-${l}-${j}` }, group);
      const delta = el("text", { class: "delta", x: p.x, y: p.y + r + 13, "text-anchor": "middle", id: `delta-${l}-${j}`, "pointer-events": "none" }, group);
      const node = { shape, value, delta };
      if (l > 0) {
        const s = Math.max(5, r * 0.45);
        node.bias = el("rect", { "data-layer": l, "data-neuron": j, "data-bias": 1, x: p.x - r - s * 0.7, y: p.y + r * 0.2, width: s, height: s, stroke: "currentColor", "stroke-width": 0.6 }, group);
      }
      if (l === 0) el("text", { class: "feature", x: p.x - r - 8, y: p.y + 4, "text-anchor": "end" }, group).textContent = `x${sub(j)}`;
      if (l === this.model.layers.length - 1) {
        node.target = el("text", { class: "target", x: p.x + r + 10, y: p.y + 4, id: `target-${j}` }, group);
      }
      return node;
    });
    if (column.wide) {
      const p = column.points[column.points.length - 1];
      el("text", { class: "feature", x: column.anchorIn.x + (column.anchorOut.x - column.anchorIn.x) / 2, y: p.y + column.cellH + 14, "text-anchor": "middle" }, group)
        .textContent = `${column.points.length} neurons`;
    }
  }

  // ---- drawing ------------------------------------------------------------------------

  render() {
    const model = this.model;
    if (!model.network) return;
    if (model.layers.join("-") !== this.shape) this.build();
    const { phase, t, from, to } = this.progress ?? { phase: null, t: 1 };
    const trace = model.trace;
    const playing = model.session?.playing;
    // While playing, frames carry one sample's activations (the newest batch's first).
    const forward = playing ? model.playSample : trace.forward;
    const sample = playing ? 0 : model.focus;
    const showGradients = !playing && trace.backward && !trace.update;
    // How far each wave has travelled, in layers: forward runs 0 → L, backward L → 0 (or
    // one layer of it, stepping layer by layer). Layers not computed yet hold null.
    const last = model.layers.length - 1;
    const reached = phase === "forward" ? from + t * (to - from) : last + 1;
    const backReached = phase === "backward" ? from - t * (from - to) : -1;

    this.drawLinks({ phase, t, showGradients, reached, backReached });
    this.drawNodes({ forward, sample, reached, backReached, showBackward: !playing && trace.backward, showLoss: !playing && trace.loss && (phase !== "loss" || t > 0.5) });
    const mode = showGradients
      ? "Links: ∂L/∂w (colour the sign, strength the size); width still |w|"
      : phase === "update" && t < 1 ? "Update: each weight moves against its gradient" : "Links: weights (width |w|, colour the sign)";
    if (this.modeLabel.textContent !== mode) this.modeLabel.textContent = mode;
    if (this.drawnHighlight !== model.highlight) this.drawHighlight();
  }

  // Where a phase's animation starts and ends, in layers: the whole phase, or from where
  // the previous layer-by-layer step of this iteration stopped to where this one did.
  span(phase, data, previous) {
    const last = this.model.layers.length - 1;
    if (phase === "forward") return { from: previous?.layer ?? 0, to: data.layer ?? last };
    return { from: previous?.layer ?? last, to: data.layer ?? 0 };
  }

  drawLinks({ phase, t, showGradients, reached, backReached }) {
    const { W, grad_W } = this.model.network;
    const before = phase === "update" ? this.model.before : null;
    const wScale = maxAbs(W) || 1;
    const gScale = showGradients || phase === "backward" ? maxAbs(grad_W) || 1 : 1;
    const selected = this.model.selection;
    for (const link of this.links) {
      const w = summarise(W[link.l], link.members);
      const shown = before ? summarise(before.W[link.l], link.members) * (1 - t) + w * t : w;
      const width = 0.6 + 6 * Math.min(1, Math.abs(shown) / wScale);
      const gradient = showGradients && grad_W[link.l];
      const colourValue = gradient ? summarise(gradient, link.members) / gScale : shown / wScale;
      update(link.line, "stroke-width", width.toFixed(1));
      update(link.line, "stroke", diverging(colourValue));
      // Near-zero links fade out, whatever the background (the scale's middle is pale).
      update(link.line, "stroke-opacity", (0.25 + 0.75 * Math.min(1, Math.abs(colourValue))).toFixed(2));
      const isSelected = selected?.kind === "link" && selected.l === link.l &&
        link.members.some(([i, j]) => i === selected.i && j === selected.j);
      update(link.line, "class", isSelected ? "selected" : "");
      this.drawPulse(link, phase, t, reached, backReached, gScale);
    }
  }

  // A dot travelling along the link: forward carries the source's activation, backward
  // carries the weight's gradient, sized by its magnitude.
  drawPulse(link, phase, t, reached, backReached, gScale) {
    const travel = phase === "forward" ? reached - link.l : phase === "backward" ? (link.l + 1) - backReached : null;
    if (travel === null || travel <= 0 || travel >= 1 || t >= 1) {
      if (link.pulse) update(link.pulse, "visibility", "hidden");
      return;
    }
    if (!link.pulse) link.pulse = el("circle", { r: 3 }, this.pulseLayer);
    const from = phase === "forward" ? link.a : link.b;
    const to = phase === "forward" ? link.b : link.a;
    let size;
    let colour;
    if (phase === "forward") {
      const a = this.model.trace.forward.a[link.l][this.model.focus];
      const value = summarise([a], link.members.map(([i]) => [0, i]));
      size = 2 + 3 * Math.min(1, Math.abs(value));
      colour = diverging(value);
    } else {
      const g = summarise(this.model.network.grad_W[link.l], link.members) / gScale;
      size = 1.5 + 5 * Math.min(1, Math.abs(g));
      colour = diverging(g);
    }
    update(link.pulse, "visibility", "visible");
    update(link.pulse, "cx", from.x + (to.x - from.x) * travel);
    update(link.pulse, "cy", from.y + (to.y - from.y) * travel);
    update(link.pulse, "r", size.toFixed(1));
    update(link.pulse, "fill", colour);
  }

  drawNodes({ forward, sample: s, reached, backReached, showBackward, showLoss }) {
    const model = this.model;
    const { b } = model.network;
    const last = model.layers.length - 1;
    const selected = model.selection;
    const inputRange = model.data?.input_range;
    this.columns.forEach((column, l) => {
      const lit = forward && l <= reached;
      const values = lit ? forward.a[l]?.[s] ?? null : null;
      const normalise = l === 0
        ? (v) => v / (Math.max(...(inputRange ?? [[-1, 1]]).flat().map(Math.abs)) || 1)
        : colourNormaliser(model.activationOf(l), values ?? []);
      const bScale = l > 0 ? maxAbs(b[l - 1]) || 1 : 1;
      const deltas = showBackward && l > 0 && l >= backReached ? model.trace.backward.delta[l]?.[s] ?? null : null;
      column.nodes.forEach((node, j) => {
        const fill = values ? diverging(normalise(values[j])) : "var(--node-empty)";
        update(node.shape, "fill", fill);
        const isSelected = selected?.kind !== "link" && selected?.l === l && selected?.j === j;
        update(node.shape, "stroke", isSelected ? "var(--accent)" : "var(--node-stroke)");
        update(node.shape, "stroke-width", isSelected ? 4 : column.wide ? 0.5 : 1.5);
        if (column.wide) return;
        setNumber(node.value, this.showValues ? values?.[j] : null, 2);
        update(node.value, "fill", values ? inkFor(fill) : "currentColor");
        setNumber(node.delta, this.showValues ? deltas?.[j] : null, 3, "δ ");
        if (node.bias) update(node.bias, "fill", diverging(b[l - 1][j] / bScale));
        if (l === last) {
          const target = showLoss ? model.trace.loss.targets?.[s]?.[j] : undefined;
          setNumber(node.target, target, 3, "target ");
        }
      });
    });
    setNumber(this.lossLabel, showLoss ? model.trace.loss.loss : undefined, 4, "batch loss L = ");
  }

  // ---- highlight ----------------------------------------------------------------------

  // Redrawn only when the highlight changes: a band behind a weight layer, a halo behind
  // single links, a dashed ring around neurons (and bias squares).
  drawHighlight() {
    const highlight = this.model.highlight;
    this.drawnHighlight = highlight;
    this.highlightLayer.replaceChildren();
    if (!highlight) return;
    const top = VIEW.top - 22;
    const height = VIEW.height - VIEW.bottom - top + 8;
    for (const l of highlight.layers ?? []) {
      const [from, to] = [this.columns[l], this.columns[l + 1]];
      if (!to) continue;
      const x = from.points[0].x;
      const width = to.points[0].x - x;
      el("rect", { class: "band", x, y: top, width, height, rx: 10, "data-highlight-layer": l }, this.highlightLayer);
      el("text", { class: "band-label", x: x + width / 2, y: top + 14, "text-anchor": "middle" }, this.highlightLayer)
        .textContent = highlight.label ?? `W${l}`;
    }
    for (const [l, i, j] of highlight.weights ?? []) {
      const link = this.links.find((candidate) => candidate.l === l && candidate.members.some(([a, b]) => a === i && b === j));
      if (!link) continue;
      el("line", { class: "halo", x1: link.a.x, y1: link.a.y, x2: link.b.x, y2: link.b.y, "data-highlight-weight": `${l}-${i}-${j}` }, this.highlightLayer);
    }
    const neurons = [...(highlight.neurons ?? []), ...(highlight.biases ?? []).map(([l, j]) => [l + 1, j])];
    for (const [l, j] of neurons) {
      const p = this.columns[l]?.points[j];
      if (!p) continue;
      el("circle", { class: "ring", cx: p.x, cy: p.y, r: this.radius + 7, "data-highlight-neuron": `${l}-${j}` }, this.highlightLayer);
    }
  }

  // ---- pointer ------------------------------------------------------------------------

  // What an element under the pointer stands for: {kind, l, i, j} or {kind, l, j}.
  pick(target) {
    if (target.dataset.link !== undefined) {
      const link = this.links[Number(target.dataset.link)];
      const W = this.model.network.W[link.l];
      // A bundle selects its strongest weight; the inspector can step to any other.
      const [i, j] = link.members.reduce((best, m) => (Math.abs(W[m[0]][m[1]]) > Math.abs(W[best[0]][best[1]]) ? m : best));
      return { kind: "link", l: link.l, i, j };
    }
    if (target.dataset.layer !== undefined) {
      const kind = target.dataset.bias ? "bias" : "neuron";
      return { kind, l: Number(target.dataset.layer), j: Number(target.dataset.neuron) };
    }
    return null;
  }

  onClick(event) {
    const picked = this.pick(event.target);
    if (picked) this.model.select(picked);
  }

  onHover(event) {
    const picked = this.pick(event.target);
    if (!picked) {
      this.tooltip.hidden = true;
      return;
    }
    this.tooltip.textContent = this.describe(picked);
    this.tooltip.hidden = false;
    this.tooltip.style.left = `${event.clientX + 14}px`;
    this.tooltip.style.top = `${event.clientY + 14}px`;
  }

  describe({ kind, l, i, j }) {
    const { W, b, grad_W, grad_b } = this.model.network;
    const s = this.model.focus;
    const trace = this.model.trace;
    if (kind === "link") {
      const grad = grad_W?.[l] ? `, ∂L/∂w = ${fmt(grad_W[l][i][j])}` : "";
      return `w from layer ${l} neuron ${i + 1} to layer ${l + 1} neuron ${j + 1} = ${fmt(W[l][i][j])}${grad}`;
    }
    if (kind === "bias") {
      const grad = grad_b?.[l - 1] ? `, ∂L/∂b = ${fmt(grad_b[l - 1][j])}` : "";
      return `bias of layer ${l} neuron ${j + 1}: b = ${fmt(b[l - 1][j])}${grad}`;
    }
    const parts = [`layer ${l} neuron ${j + 1}`];
    if (trace.forward?.a[l]) {
      if (l > 0) parts.push(`z = ${fmt(trace.forward.z[l][s][j])}`);
      parts.push(`a = ${fmt(trace.forward.a[l][s][j])}`);
    }
    if (trace.backward?.delta[l] && l > 0) parts.push(`δ = ${fmt(trace.backward.delta[l][s][j])}`);
    return parts.join(", ");
  }

  // A standalone copy of the drawing, for the PNG and SVG exports.
  exportSvg() {
    const copy = this.svg.cloneNode(true);
    const style = getComputedStyle(this.svg);
    copy.setAttribute("width", VIEW.width);
    copy.setAttribute("height", VIEW.height);
    copy.setAttribute("style", `color:${style.color};font-family:${style.fontFamily};font-size:12px`);
    copy.querySelector(".hits")?.remove();
    const background = el("rect", { width: VIEW.width, height: VIEW.height, fill: getComputedStyle(document.body).backgroundColor });
    copy.insertBefore(background, copy.firstChild);
    // CSS variables do not survive outside the page: resolve them now.
    const root = getComputedStyle(document.documentElement);
    copy.querySelectorAll("[fill^='var('], [stroke^='var(']").forEach((node) => {
      for (const attribute of ["fill", "stroke"]) {
        const value = node.getAttribute(attribute);
        if (value?.startsWith("var(")) node.setAttribute(attribute, root.getPropertyValue(value.slice(4, -1)).trim());
      }
    });
    copy.querySelectorAll("text:not([fill])").forEach((node) => node.setAttribute("fill", style.color));
    return new XMLSerializer().serializeToString(copy);
  }

  get size() {
    return { width: VIEW.width, height: VIEW.height };
  }
}

// A number drawn in the diagram keeps the API's exact value beside its formatted text.
function setNumber(node, value, digits, prefix = "") {
  if (value === undefined || value === null) {
    if (node.textContent) node.textContent = "";
    update(node, "data-value", "");
    return;
  }
  const text = prefix + fmt(value, digits);
  if (node.textContent !== text) node.textContent = text;
  update(node, "data-value", String(value));
}
