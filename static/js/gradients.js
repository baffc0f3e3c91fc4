// The "check the gradients" panel: backpropagation's gradient beside the numerical one for
// every weight and bias (GET /gradcheck), the ones that disagree highlighted on the diagram;
// and the mini-batch gradient beside the full training set's, per layer (GET /full_gradient).

import { fmt, numberHtml as num, scrollBox } from "./scale.js";

const byId = (id) => document.getElementById(id);

// The two gradients disagree above this relative error (float64 central differences with
// ε = 1e-6 agree to about 1e-7; a wrong derivative is off by far more) and this absolute
// difference: near zero, the numerical gradient's rounding noise (~1e-10 · L) is all there
// is, and its relative error means nothing.
const DISAGREE = 1e-4;
const NOISE = 1e-7;
const disagrees = (entry) => !(entry.relative_error <= DISAGREE || Math.abs(entry.analytic - entry.numerical) <= NOISE);

// Every parameter of a gradcheck body as {name, place, entry}: W[l][i][j], then b[l][j].
function entries(check) {
  const list = [];
  check.W.forEach((layer, l) => layer.forEach((row, i) => row.forEach((entry, j) =>
    list.push({ name: `W[${l}][${i}][${j}]`, weight: [l, i, j], entry }))));
  check.b.forEach((layer, l) => layer.forEach((entry, j) => list.push({ name: `b[${l}][${j}]`, bias: [l, j], entry })));
  return list;
}

// Runs `fetch` when its button is pressed and shows what `render` makes of the answer.
class OnDemand {
  constructor(button, output, fetch) {
    this.output = output;
    button.addEventListener("click", async () => {
      button.disabled = true;
      this.output.textContent = "Computing…";
      try {
        this.render(await fetch());
      } catch (error) {
        this.output.textContent = `Could not compute it: ${error.message}`;
      } finally {
        button.disabled = false;
      }
    });
  }
}

export class GradcheckView extends OnDemand {
  constructor(model, api) {
    super(byId("gradcheck-run"), byId("gradcheck-result"), () => api.gradcheck());
    this.model = model;
  }

  render(check) {
    const all = entries(check);
    const wrong = all.filter(({ entry }) => disagrees(entry));
    const verdict = wrong.length
      ? `<p class="verdict bad">✗ ${wrong.length} of ${all.length} gradients disagree (relative error above ${fmt(DISAGREE, 1)}, difference above ${fmt(NOISE, 1)}): highlighted on the diagram.</p>`
      : `<p class="verdict good">✓ All ${all.length} gradients agree (relative error at most ${fmt(DISAGREE, 1)}, or a difference below rounding noise).</p>`;
    const rows = all.map(({ name, entry }) => `<tr class="${disagrees(entry) ? "disagrees" : ""}">
      <th scope="row">${name}</th><td>${num(entry.analytic)}</td><td>${num(entry.numerical)}</td><td>${num(entry.relative_error, 2)}${disagrees(entry) ? " ✗" : ""}</td></tr>`);
    this.output.innerHTML = `${verdict}
      <p>Worst relative error <strong id="gradcheck-worst">${num(check.max_relative_error, 2)}</strong>,
        iteration ${check.iteration}, ${check.batch.length} samples, ε = ${fmt(check.epsilon, 2)}.</p>
      ${scrollBox("Every parameter's gradients", `<table class="numbers" id="gradcheck-table"><thead><tr><th scope="col">parameter</th>
        <th scope="col">analytic</th><th scope="col">numerical</th><th scope="col">relative error</th></tr></thead>
        <tbody>${rows.join("")}</tbody></table>`)}`;
    this.model.setHighlight(wrong.length ? {
      weights: wrong.filter((w) => w.weight).map((w) => w.weight),
      biases: wrong.filter((w) => w.bias).map((w) => w.bias),
      label: "gradients disagree",
    } : null);
  }
}

export class FullGradientView extends OnDemand {
  constructor(api) {
    super(byId("full-run"), byId("full-result"), () => api.fullGradient());
  }

  render(body) {
    const rows = body.cosine.map((cosine, l) => `<tr><th scope="row">W${l}, b${l}</th>
      <td>${num(cosine, 3)}</td><td>${num(body.norm_ratio[l], 3)}</td></tr>`);
    this.output.innerHTML = `<table class="numbers" id="full-table"><caption>A mini-batch of ${body.batch.length} rows against the whole training set</caption>
      <thead><tr><th scope="col">layer</th><th scope="col">cosine</th><th scope="col">norm ratio (mini / full)</th></tr></thead>
      <tbody>${rows.join("")}</tbody></table>
      <p class="caption">Cosine 1: the mini-batch points exactly downhill as the full gradient does; near 0: it mostly points elsewhere.
        A norm ratio above 1: the mini-batch exaggerates the slope (its noise adds length).</p>`;
  }
}
