// The inspector: every number behind one weight, bias or neuron, the chain rule for a
// weight written out with the live values (f′(z_j) from GET /chain_rule), the optimizer's
// state for that weight, and a form to set it by hand or to watch it. All values are the
// API's; the browser only places them side by side.

import { fmt, numberHtml as num, scrollBox } from "./scale.js";

const DERIVATIVE = {
  tanh: "1 − a<sub>j</sub>²",
  sigmoid: "a<sub>j</sub> (1 − a<sub>j</sub>)",
  relu: "1 if z<sub>j</sub> &gt; 0, else 0",
  leaky_relu: "1 if z<sub>j</sub> &gt; 0, else 0.01",
  linear: "1",
  softmax: "softmax′",
};

// What each optimizer keeps per parameter (torch's names, docs/api.md), as the inspector says it.
const OPTIMIZER_STATE = {
  momentum: [["momentum_buffer", "velocity (momentum buffer)"]],
  rmsprop: [["square_avg", "running mean of g² (square_avg)"]],
  adam: [
    ["exp_avg", "m (exp_avg)"],
    ["exp_avg_sq", "v (exp_avg_sq)"],
    ["exp_avg_hat", "m̂ = m / (1 − β₁ᵗ)"],
    ["exp_avg_sq_hat", "v̂ = v / (1 − β₂ᵗ)"],
  ],
};

const neuronName = (l, j) => `layer ${l}, neuron ${j + 1}`;
const row = (label, value, note = "") => `<tr><th scope="row">${label}</th><td>${value}</td><td class="note">${note}</td></tr>`;
const table = (rows, caption = "") => `<table class="numbers">${caption ? `<caption>${caption}</caption>` : ""}<tbody>${rows.join("")}</tbody></table>`;

function perSampleTable(headers, batch, columns, focus) {
  const head = `<tr><th scope="col">sample</th>${headers.map((h) => `<th scope="col">${h}</th>`).join("")}</tr>`;
  const body = batch.map((index, s) =>
    `<tr class="${s === focus ? "focused" : ""}"><th scope="row">#${index}</th>${columns.map((column) => `<td>${num(column(s))}</td>`).join("")}</tr>`);
  return scrollBox("Values per sample", `<table class="numbers per-sample"><thead>${head}</thead><tbody>${body.join("")}</tbody></table>`);
}

// One answer fetched per key (an iteration, a batch, a weight): asked once, and the
// inspector redraws when it arrives.
class Lookup {
  constructor(onArrive) {
    this.onArrive = onArrive;
    this.key = null;
  }

  get(key, fetch) {
    if (this.key !== key) {
      Object.assign(this, { key, body: null, error: null });
      fetch()
        .then((body) => {
          if (this.key !== key) return;
          this.body = body;
          this.onArrive();
        })
        .catch((error) => { if (this.key === key) this.error = error.message; });
    }
    return this;
  }
}

export class InspectorView {
  constructor(root, model, api, actions) {
    this.root = root;
    this.model = model;
    this.api = api;
    this.gradcheck = new Lookup(() => this.render());
    this.chainRule = new Lookup(() => this.render());
    this.picker = root.querySelector("#inspector-picker");
    this.content = root.querySelector("#inspector-content");
    this.editForm = root.querySelector("#inspector-edit");
    this.picker.addEventListener("submit", (event) => {
      event.preventDefault();
      this.pickFromForm(event.submitter?.value ?? "link");
    });
    this.editForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = Number(this.editForm.elements.value.value);
      const target = this.parameter();
      if (!target || this.editForm.elements.value.value === "" || !Number.isFinite(value)) return;
      if (event.submitter?.value === "watch") actions.watchParameter({ ...target, value });
      else actions.setParameter({ ...target, value });
    });
  }

  // The selected weight or bias in the API's terms: {layer, i, j}, j null for a bias.
  parameter() {
    const selection = this.model.selection;
    if (selection?.kind === "link") return { layer: selection.l, i: selection.i, j: selection.j };
    if (selection?.kind === "bias") return { layer: selection.l - 1, i: selection.j, j: null };
    return null;
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
    this.editForm.hidden = selection.kind === "neuron";
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
    if (backward?.grad_W[l]) {
      rows.push(row("∂L/∂w", num(backward.grad_W[l][i][j]), "of the data loss"));
      if (backward.grad_W_reg) rows.push(row("∂(regularization)/∂w", num(backward.grad_W_reg[l][i][j])));
    }
    rows.push(this.gradcheckRow((check) => check.W[l][i][j]));
    const heading = `<h3 id="inspected">Weight w from ${neuronName(l, i)} to ${neuronName(l + 1, j)}</h3>`;
    return heading + table(rows) + this.optimizerHtml("W", (state) => state[l][i][j], update?.step_W[l][i][j]) +
      this.chainRuleHtml(l, i, j, forward, backward);
  }

  // The selected parameter's slot of every optimizer buffer, and the step it last took.
  optimizerHtml(kind, pick, lastStep) {
    const model = this.model;
    const optimizer = model.config.optimizer;
    const state = model.network.optimizer_state ?? model.trace.update?.optimizer_state;
    const heading = `<h4>Optimizer: ${optimizer.name.replaceAll("_", " ")} (learning rate η = ${fmt(optimizer.learning_rate)})</h4>`;
    const named = OPTIMIZER_STATE[optimizer.name] ?? [];
    const rows = [];
    if (state?.step !== undefined) rows.push(row("step count t", num(state.step)));
    for (const [name, label] of named) {
      const values = state?.[`${name}_${kind}`];
      if (values) rows.push(row(label, num(pick(values))));
    }
    const formula = { sgd: "−η · g", momentum: "−η · velocity", rmsprop: "−η · g / (√mean g² + ε)", adam: "−η · m̂ / (√v̂ + ε)" }[optimizer.name];
    rows.push(row("effective step (last update)", lastStep === undefined ? "–" : num(lastStep), formula ? `= ${formula}` : ""));
    const note = named.length && !state ? "The optimizer's state shows after the first update." : "Its state for this parameter, after its last update:";
    return heading + `<p class="caption">${note}</p>` + table(rows);
  }

  // ∂L/∂w_ij = Σ over the batch of δ_j · a_i, then how δ_j itself came about.
  chainRuleHtml(l, i, j, forward, backward) {
    if (!forward || !backward?.grad_W[l]) {
      return `<p class="hint">Run Forward, Loss and Backward (down to this layer) to see the chain rule for this weight.</p>`;
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
      this.derivativeRow(layer, j, s, activation),
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
    // The weights this iteration used: after its update, those from before it.
    const { W } = model.trace.update && model.before ? model.before : model.network;
    const weightsOut = W[layer][j];
    const above = backward.delta[layer + 1][s];
    const terms = weightsOut.map((w, k) => `<tr><th scope="row">k = ${k + 1}</th><td>${num(w)}</td><td>${num(above[k])}</td></tr>`);
    const sumTable = scrollBox("Terms of the sum over the next layer", `<table class="numbers sum-terms"><thead><tr><th scope="col">next neuron</th><th scope="col">w<sub>jk</sub></th><th scope="col">δ<sub>k</sub></th></tr></thead><tbody>${terms.join("")}</tbody></table>`);
    const layersAbove = [];
    for (let m = layer + 1; m <= last; m++) {
      layersAbove.push(`<li>layer ${m}${m === last ? " (output)" : ""}: δ = [${backward.delta[m][s].map((d) => num(d, 3)).join(", ")}]</li>`);
    }
    return head + known +
      `<p class="formula">hidden layer: δ<sub>j</sub> = f′(z<sub>j</sub>) · Σ<sub>k</sub> w<sub>jk</sub> δ<sub>k</sub> → δ<sub>j</sub> = <strong>${delta}</strong></p>` +
      sumTable +
      `<p class="caption">The δ<sub>k</sub> come from the same rule one layer up, down from the output:</p><ul class="chain">${layersAbove.join("")}</ul>`;
  }

  // f′(z_j) for the focused sample as a number, from GET /chain_rule for the selected
  // parameter (the trace of the present; a past iteration shows the formula only).
  derivativeRow(layer, j, s, activation) {
    const formula = DERIVATIVE[activation] ?? activation;
    const target = this.parameter();
    if (this.model.viewing || !target) return row("f′(z<sub>j</sub>)", formula, "formula, with z and a above");
    const { forward } = this.model.trace;
    const key = `${this.model.snapshots}:${forward.iteration}:${forward.batch.join(",")}:${target.layer}:${target.i}:${target.j}`;
    const i = target.j === null ? null : target.i;
    const lookup = this.chainRule.get(key, () => this.api.chainRule(target.layer, i, target.j ?? target.i));
    const sample = lookup.body?.samples?.[s];
    if (!sample) return row("f′(z<sub>j</sub>)", lookup.error ?? "computing…", formula);
    if (sample.f_prime_z_j === undefined) return row("f′(z<sub>j</sub>)", "inside δ", "softmax with cross-entropy: δ = ∂L/∂z directly");
    return row("f′(z<sub>j</sub>)", num(sample.f_prime_z_j), `= ${formula}`);
  }

  biasHtml({ l, j }) {
    const { b } = this.model.network;
    const { forward, backward, update } = this.model.trace;
    const rows = [row("b (now)", num(b[l - 1][j]))];
    if (update) rows.push(row("last step", num(update.step_b[l - 1][j])));
    if (backward?.grad_b[l - 1]) rows.push(row("∂L/∂b = Σ δ<sub>j</sub>", num(backward.grad_b[l - 1][j]), "biases are not regularized"));
    rows.push(this.gradcheckRow((check) => check.b[l - 1][j]));
    let perSample = "";
    if (forward && backward?.delta[l]) {
      perSample = perSampleTable([`δ<sub>j</sub>`], forward.batch, [(n) => backward.delta[l][n][j]], this.model.focus);
    }
    return `<h3 id="inspected">Bias of ${neuronName(l, j)}</h3>` + table(rows) +
      this.optimizerHtml("b", (state) => state[l - 1][j], update?.step_b[l - 1][j]) + perSample;
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
    let perSample = `<p class="hint">Run Forward (up to this layer) to see this neuron's values for each sample in the batch.</p>`;
    if (forward?.a[l]) {
      const headers = [];
      const columns = [];
      if (l > 0) {
        headers.push("z");
        columns.push((n) => forward.z[l][n][j]);
      }
      headers.push(l === 0 ? "input a = x" : "a = f(z)");
      columns.push((n) => forward.a[l][n][j]);
      if (backward?.delta[l] && l > 0) {
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
    if (!backward || this.model.viewing) return row("numerical ∂L/∂w", "–", "after Backward, for the present");
    const key = `${this.model.snapshots}:${this.model.session.iteration}:${forward.batch.join(",")}`;
    const lookup = this.gradcheck.get(key, () => this.api.gradcheck());
    const check = lookup.body;
    if (!check) return row("numerical gradient", lookup.error ?? "checking…");
    // Between iterations the server checks the next batch; this ∂L/∂w is the last one's.
    if (check.iteration !== forward.iteration) return row("numerical gradient", "–", "checked on the next batch: run its Backward");
    const entry = pick(check);
    return row("numerical gradient", num(entry.numerical),
      `analytic ${fmt(entry.analytic)}, relative error ${fmt(entry.relative_error, 2)} (ε = ${fmt(check.epsilon, 2)})`);
  }
}
