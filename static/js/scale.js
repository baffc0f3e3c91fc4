// Colour scales and number formatting shared by every view.
//
// The diverging scale runs orange (negative) → pale (zero) → blue (positive): the PuOr /
// RdBu family's colour-blind-safe ends, never red against green.

const STOPS = [
  [-1, [230, 97, 1]],
  [-0.5, [253, 184, 99]],
  [0, [247, 247, 247]],
  [0.5, [146, 197, 222]],
  [1, [33, 102, 172]],
];

// Okabe–Ito: distinguishable for every common colour-vision deficiency.
export const CLASS_COLOURS = ["#E69F00", "#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];
export const CLASS_RGB = CLASS_COLOURS.map((hex) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16)));

// t in [-1, 1] → [r, g, b]; values outside are clamped, NaN is grey.
export function divergingRgb(t) {
  if (!Number.isFinite(t)) return [128, 128, 128];
  const x = Math.max(-1, Math.min(1, t));
  for (let k = 1; k < STOPS.length; k++) {
    const [x1, c1] = STOPS[k];
    if (x <= x1) {
      const [x0, c0] = STOPS[k - 1];
      const f = (x - x0) / (x1 - x0);
      return [0, 1, 2].map((c) => Math.round(c0[c] + f * (c1[c] - c0[c])));
    }
  }
  return STOPS[STOPS.length - 1][1];
}

export function diverging(t) {
  const [r, g, b] = divergingRgb(t);
  return `rgb(${r},${g},${b})`;
}

// A 256-entry lookup table, so heatmaps colour millions of pixels without allocating.
export const DIVERGING_LUT = (() => {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let k = 0; k < 256; k++) lut.set(divergingRgb((k / 255) * 2 - 1), k * 3);
  return lut;
})();

// How to bring one activation's values onto [-1, 1] for colour: bounded activations map
// their own range; unbounded ones are scaled by the largest magnitude shown.
export function colourNormaliser(activation, values) {
  if (activation === "tanh") return (v) => v;
  if (activation === "sigmoid" || activation === "softmax") return (v) => 2 * v - 1;
  let peak = 0;
  for (const v of values) if (Number.isFinite(v)) peak = Math.max(peak, Math.abs(v));
  return peak > 0 ? (v) => v / peak : () => 0;
}

// The largest |x| in a nested array (weights, gradients), for scaling widths and colours.
export function maxAbs(nested) {
  let peak = 0;
  const walk = (x) => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (Number.isFinite(x)) peak = Math.max(peak, Math.abs(x));
  };
  walk(nested);
  return peak;
}

// Four significant digits, exponent form for the very small or large; "−" is a real minus.
export function fmt(x, digits = 4) {
  if (x === null || x === undefined) return "–";
  if (typeof x !== "number") return String(x);
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "−∞";
  if (x === 0) return "0";
  const magnitude = Math.abs(x);
  if (Number.isInteger(x) && magnitude < 1e5) return String(x).replace("-", "−"); // counts, sizes
  const text = magnitude >= 1e-3 && magnitude < 1e5 ? x.toPrecision(digits) : x.toExponential(digits - 1);
  return text.replaceAll("-", "−");
}

export function pct(x) {
  return x === null || x === undefined ? "–" : `${(x * 100).toFixed(1)} %`;
}

// A number as an element that carries its exact value, so a reader (or a test) can see
// the API's full-precision number behind the formatted one.
export function numberHtml(x, digits = 4) {
  const exact = x === null || x === undefined ? "" : String(x);
  return `<span class="num" data-value="${exact}" title="${exact}">${fmt(x, digits)}</span>`;
}

// A box that scrolls a long table: focusable and named, so a keyboard can scroll it too.
export function scrollBox(label, html) {
  return `<div class="scroll" tabindex="0" role="region" aria-label="${label}">${html}</div>`;
}
