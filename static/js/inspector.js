// The inspector: every number behind one weight, bias or neuron, and the chain rule for a
// weight written out with the live values. All values are the API's; the browser only
// places them side by side (f′ is written as its formula over the API's z and a).

import { fmt, numberHtml as num } from "./scale.js";

const DERIVATIVE = {
  tanh: "1 − a<sub>j</sub>²",
  sigmoid: "a<sub>j</sub> (1 − a<sub>j</sub>)",
  relu: "1 if z<sub>j</sub> &gt; 0, else 0",
  leaky_relu: "1 if z<sub>j</sub> &gt; 0, else 0.01",
  linear: "1",
  softmax: "softmax′",
};

const neuronName = (l, j) => `layer ${l}, neuron ${j + 1}`;
const row = (label, value, note = "") => `<tr><th scope="row">${label}</th><td>${value}</td><td class="note">${note}</td></tr>`;
const table = (rows, caption = "") => `<table class="numbers">${caption ? `<caption>${caption}</caption>` : ""}<tbody>${rows.join("")}</tbody></table>`;

function perSampleTable(headers, batch, columns, focus) {
  const head = `<tr><th scope="col">sample</th>${headers.map((h) => `<th scope="col">${h}</th>`).join("")}</tr>`;
  const body = batch.map((index, s) =>
    `<tr class="${s === focus ? "focused" : ""}"><th scope="row">#${index}</th>${columns.map((column) => `<td>${num(column(s))}</td>`).join("")}</tr>`);
  return `<div class="scroll"><table class="numbers per-sample"><thead>${head}</thead><tbody>${body.join("")}</tbody></table></div>`;
}

export class InspectorView {
  constructor(root, model, api) {
    this.root = root;
    this.model = model;
    this.api = api;
    this.gradcheck = null; // {key, body | promise}
    this.picker = root.querySelector("#inspector-picker");
    this.content = root.querySelector("#inspector-content");
    this.picker.addEventListener("submit", (event) => {
      event.preventDefault();
      this.pickFromForm(event.submitter?.value ?? "link");
    });
  }

  pickFromForm(kind) {
    const value = (name) => Number(this.picker.elements[name].value);
    const l = value("layer");
    const i = value("from") - 1;
    const layers = this.model.layers;
    if (kind === "neuron") {
      if (l >= 0 && l < layers.length && i >= 0 && i < layers[l]) this.model.select({ kind: "neuron", l, j: i });
      return;
    }
    const j = value("to") - 1;
    if (l >= 0 && l < layers.length - 1 && i >= 0 && i < layers[l] && j >= 0 && j < layers[l + 1]) {
      this.model.select({ kind: "link", l, i, j });
    }
  }

  syncPicker(selection) {
    const fields = this.picker.elements;
    fields.layer.max = this.model.layers.length - 1;
    fields.layer.value = selection.l;
    fields.from.value = (selection.kind === "link" ? selection.i : selection.j) + 1;
    if (selection.kind === "link") fields.to.value = selection.j + 1;
  }

  render() {
    const selection = this.model.selection;
    if (!selection || !this.model.network) return;
    this.syncPicker(selection);
    if (selection.kind === "link") this.content.innerHTML = this.weightHtml(selection);
    else if (selection.kind === "bias") this.content.innerHTML = this.biasHtml(selection);
    else this.content.innerHTML = this.neuronHtml(selection);
  }

  weightHtml({ l, i, j }) {
    const { W } = this.model.network;
    const { forward, backward, update } = this.model.trace;
    const before = this.model.before;
    const rows = [row("w (now)", num(W[l][i][j]))];
    if (update && before) rows.push(row("w before the update", num(before.W[l][i][j])));
    if (update) rows.push(row("last step", num(update.step_W[l][i][j]), "added by the optimizer"));
    if (backward) {
      rows.push(row("∂L/∂w", num(backward.grad_W[l][i][j]), "of the data loss"));
      if (backward.grad_W_reg) rows.push(row("∂(regularization)/∂w", num(backward.grad_W_reg[l][i][j])));
    }
    rows.push(this.gradcheckRow((check) => check.W[l][i][j]));
    const heading = `<h3 id="inspected">Weight w from ${neuronName(l, i)} to ${neuronName(l + 1, j)}</h3>`;
    return heading + table(rows) + this.chainRuleHtml(l, i, j, forward, backward);
  }

  // ∂L/∂w_ij = Σ over the batch of δ_j · a_i, then how δ_j itself came about.
  chainRuleHtml(l, i, j, forward, backward) {
    if (!forward || !backward) {
      return `<p class="hint">Run Forward, Loss and Backward to see the chain rule for this weight.</p>`;
    }
    const s = this.model.focus;
    const batch = forward.batch;
    const parts = [
      `<h4>Chain rule</h4>`,
      `<p class="formula">∂L/∂w<sub>ij</sub> = Σ<sub>samples</sub> δ<sub>j</sub> · a<sub>i</sub>
        = <strong>${num(backward.grad_W[l][i][j])}</strong></p>`,
      perSampleTable([`a<sub>i</sub> (${neuronName(l, i)})`, `δ<sub>j</sub> (${neuronName(l + 1, j)})`], batch,
        [(n) => forward.a[l][n][i], (n) => backward.delta[l + 1][n][j]], s),
      `<p class="caption">δ is ∂L/∂z of the batch loss, so the mean over the batch is already inside it.</p>`,
      this.deltaHtml(l + 1, j, forward, backward, s),
    ];
    return parts.join("");
  }

  // δ_j for the focused sample, one layer at a time down from the output.
  deltaHtml(layer, j, forward, backward, s) {
    const model = this.model;
    const last = model.layers.length - 1;
    const activation = model.activationOf(layer);
    const z = forward.z[layer][s][j];
    const a = forward.a[layer][s][j];
    const head = `<h4>Where δ<sub>j</sub> comes from (sample #${forward.batch[s]})</h4>`;
    const known = table([
      row("z<sub>j</sub>", num(z)),
      row("a<sub>j</sub> = f(z<sub>j</sub>)", num(a), activation),
      row("f′(z<sub>j</sub>)", DERIVATIVE[activation] ?? activation, "formula, with z and a above"),
    ]);
    const delta = num(backward.delta[layer][s][j]);
    if (layer === last) {
      const loss = model.trace.loss;
      const target = loss?.targets?.[s]?.[j];
      if (model.config.loss === "cross_entropy") {
        return head + known + `<p class="formula">softmax with cross-entropy: δ<sub>j</sub> = ∂L/∂z<sub>j</sub>
          = (ŷ<sub>j</sub> − y<sub>j</sub>) / batch size, with ŷ<sub>j</sub> = ${num(a)}, y<sub>j</sub> = ${num(target)}
          → δ<sub>j</sub> = <strong>${delta}</strong></p>`;
      }
      return head + known + `<p class="formula">output layer: δ<sub>j</sub> = f′(z<sub>j</sub>) · ∂L/∂ŷ<sub>j</sub>,
        with ∂L/∂ŷ<sub>j</sub> = ${num(loss?.d_loss_d_output?.[s]?.[j])} (target y<sub>j</sub> = ${num(target)})
        → δ<sub>j</sub> = <strong>${delta}</strong></p>`;
    }
    const { W } = model.network;
    const weightsOut = W[layer][j];
    const above = backward.delta[layer + 1][s];
    const terms = weightsOut.map((w, k) => `<tr><th scope="row">k = ${k + 1}</th><td>${num(w)}</td><td>${num(above[k])}</td></tr>`);
    const sumTable = `<div class="scroll"><table class="numbers sum-terms"><thead><tr><th scope="col">next neuron</th><th scope="col">w<sub>jk</sub></th><th scope="col">δ<sub>k</sub></th></tr></thead><tbody>${terms.join("")}</tbody></table></div>`;
    const layersAbove = [];
    for (let m = layer + 1; m <= last; m++) {
      layersAbove.push(`<li>layer ${m}${m === last ? " (output)" : ""}: δ = [${backward.delta[m][s].map((d) => num(d, 3)).join(", ")}]</li>`);
    }
    return head + known +
      `<p class="formula">hidden layer: δ<sub>j</sub> = f′(z<sub>j</sub>) · Σ<sub>k</sub> w<sub>jk</sub> δ<sub>k</sub> → δ<sub>j</sub> = <strong>${delta}</strong></p>` +
      sumTable +
      `<p class="caption">The δ<sub>k</sub> come from the same rule one layer up, down from the output:</p><ul class="chain">${layersAbove.join("")}</ul>`;
  }

  biasHtml({ l, j }) {
    const { b } = this.model.network;
    const { forward, backward, update } = this.model.trace;
    const rows = [row("b (now)", num(b[l - 1][j]))];
    if (update) rows.push(row("last step", num(update.step_b[l - 1][j])));
    if (backward) rows.push(row("∂L/∂b = Σ δ<sub>j</sub>", num(backward.grad_b[l - 1][j]), "biases are not regularized"));
    rows.push(this.gradcheckRow((check) => check.b[l - 1][j]));
    let perSample = "";
    if (forward && backward) {
      perSample = perSampleTable([`δ<sub>j</sub>`], forward.batch, [(n) => backward.delta[l][n][j]], this.model.focus);
    }
    return `<h3 id="inspected">Bias of ${neuronName(l, j)}</h3>` + table(rows) + perSample;
  }

  neuronHtml({ l, j }) {
    const model = this.model;
    const { forward, loss, backward } = model.trace;
    const last = model.layers.length - 1;
    const rows = [];
    if (l > 0) {
      rows.push(row("bias b", num(model.network.b[l - 1][j])));
      rows.push(row("activation", model.activationOf(l)));
    }
    let perSample = `<p class="hint">Run Forward to see this neuron's values for each sample in the batch.</p>`;
    if (forward) {
      const headers = [];
      const columns = [];
      if (l > 0) {
        headers.push("z");
        columns.push((n) => forward.z[l][n][j]);
      }
      headers.push(l === 0 ? "input a = x" : "a = f(z)");
      columns.push((n) => forward.a[l][n][j]);
      if (backward && l > 0) {
        headers.push("δ = ∂L/∂z");
        columns.push((n) => backward.delta[l][n][j]);
      }
      if (l === last && loss) {
        headers.push("target", "sample loss");
        columns.push((n) => loss.targets?.[n]?.[j], (n) => loss.sample_losses[n]);
      }
      perSample = perSampleTable(headers, forward.batch, columns, model.focus);
    }
    return `<h3 id="inspected">${l === 0 ? "Input" : l === last ? "Output" : "Hidden"} ${neuronName(l, j)}</h3>` +
      (rows.length ? table(rows) : "") + perSample;
  }

  // The numerical gradient (central differences) for the selected parameter, fetched once
  // per batch and iteration, shown beside the analytic one.
  gradcheckRow(pick) {
    const { backward, forward } = this.model.trace;
    if (!backward) return row("numerical ∂L/∂w", "–", "after Backward");
    const key = `${this.model.session.iteration}:${forward.batch.join(",")}`;
    if (this.gradcheck?.key !== key) {
      this.gradcheck = { key, body: null };
      this.api.gradcheck()
        .then((body) => {
          if (this.gradcheck.key === key) {
            this.gradcheck.body = body;
            this.render();
          }
        })
        .catch((error) => { this.gradcheck.error = error.message; });
    }
    const check = this.gradcheck.body;
    if (!check) return row("numerical gradient", this.gradcheck.error ?? "checking…");
    const entry = pick(check);
    return row("numerical gradient", num(entry.numerical),
      `analytic ${fmt(entry.analytic)}, relative error ${fmt(entry.relative_error, 2)} (ε = ${fmt(check.epsilon, 2)})`);
  }
}
