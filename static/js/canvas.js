// Canvas helpers. Canvases draw at the device's pixel density (sharp on projectors and
// phones) in CSS pixels. Sizes and theme colours are cached: reading layout or computed
// style in every frame forces the browser to recalculate the whole page each time.

const sizes = new WeakMap();
const resizeListeners = [];
const resized = new ResizeObserver((entries) => {
  let changed = false;
  for (const entry of entries) {
    changed ||= sizes.get(entry.target) !== entry.contentRect.width;
    sizes.set(entry.target, entry.contentRect.width);
  }
  if (changed) resizeListeners.forEach((listener) => listener());
});

// Calls `listener` when any canvas drawn through fitCanvas changes width.
export function onCanvasResize(listener) {
  resizeListeners.push(listener);
}

// The canvas's width on the page, in CSS pixels.
export function cssWidth(canvas) {
  if (!sizes.has(canvas)) {
    sizes.set(canvas, canvas.clientWidth || canvas.width);
    resized.observe(canvas);
  }
  return Math.max(120, Math.round(sizes.get(canvas)));
}

export function fitCanvas(canvas, aspect) {
  const width = cssWidth(canvas);
  const height = Math.round(width * aspect);
  const ratio = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  return { context, width, height };
}

const colours = new Map();

export function cssVar(name) {
  if (!colours.has(name)) colours.set(name, getComputedStyle(document.documentElement).getPropertyValue(name).trim());
  return colours.get(name);
}

// After the theme changes.
export function forgetColours() {
  colours.clear();
}
