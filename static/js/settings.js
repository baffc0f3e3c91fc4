// The settings form. Edits are staged; Apply says what it will do and does it:
// - the learning rate, optimizer parameters, regularization and frozen biases change in
//   place (PATCH /config): same session, same link, and watchers see the change;
// - the batch size keeps the weights but cannot change in place: the session is exported
//   and re-imported with it, so the weights and history carry over under a new link;
// - anything else (data, the network's shape or activations, the loss, the init, the
//   optimizer's kind, the seed) needs a new network: a new session from the whole config.

const byId = (id) => document.getElementById(id);
const clone = (x) => JSON.parse(JSON.stringify(x));
// A config as text with its keys sorted and null fields left out, so that two configs
// that mean the same compare equal.
function canonical(x) {
  if (Array.isArray(x)) return x.map(canonical);
  if (x === null || typeof x !== "object") return x;
  return Object.fromEntries(Object.keys(x).sort().filter((k) => x[k] !== null).map((k) => [k, canonical(x[k])]));
}
export const same = (a, b) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

// The fields of the create body (docs/api.md) this page sets; the server fills the rest.
const CREATE_FIELDS = ["data", "network", "loss", "optimizer", "batch_size", "regularization", "seed"];
export const createBody = (config) => Object.fromEntries(CREATE_FIELDS.map((key) => [key, config[key]]));

// Which parts of a config PATCH /config changes in place, and which leave the network as it is.
const IN_PLACE = ["optimizer", "regularization", "freeze_biases"];
export const KEEPS_WEIGHTS = [...IN_PLACE, "batch_size"];

// The PATCH /config body: the in-place fields that changed, the optimizer's without its name
// (which cannot change in place) and without parameters it does not have.
export function inPlaceChanges(config, current) {
  const changes = {};
  for (const key of IN_PLACE.filter((k) => !same(config[k], current[k]))) {
    changes[key] = key !== "optimizer" ? config[key] : Object.fromEntries(Object.entries(config.optimizer)
      .filter(([name, value]) => name !== "name" && value !== null && value !== current.optimizer[name]));
  }
  return changes;
}

function fillSelect(select, values, labels = {}) {
  select.replaceChildren(...values.map((value) => new Option(labels[value] ?? value.replaceAll("_", " "), value)));
}

// A CSV with the label in its last column; an optional header row is skipped.
export function parseCsv(text) {
  const rows = text.trim().split(/\r?\n/).map((line) => line.split(",").map((cell) => cell.trim()));
  const numeric = (row) => row.every((cell) => cell !== "" && Number.isFinite(Number(cell)));
  const body = numeric(rows[0]) ? rows : rows.slice(1);
  if (body.length < 2 || !body.every(numeric)) throw new Error("every row after the header must be numbers");
  const width = body[0].length;
  if (width < 2 || body.some((row) => row.length !== width)) throw new Error("every row needs the same number of columns, at least two");
  const X = body.map((row) => row.slice(0, -1).map(Number));
  const y = body.map((row) => Number(row[row.length - 1]));
  const labels = new Set(y);
  const classification = y.every(Number.isInteger) && labels.size <= 10;
  return { X, y, classification, nClasses: labels.size };
}

export class SettingsView {
  constructor(model, { catalogue, onApply }) {
    this.model = model;
    this.form = byId("settings");
    this.note = byId("settings-note");
    this.onApply = onApply;
    this.presets = catalogue.presets;
    this.datasets = Object.fromEntries(catalogue.datasets.datasets.map((d) => [d.name, d]));
    this.limits = catalogue.presets.limits ?? {};
    this.custom = null; // uploaded {X, y} waiting to be applied

    const options = catalogue.presets.options;
    fillSelect(byId("set-preset"), this.presets.presets.map((p) => p.name),
      Object.fromEntries(this.presets.presets.map((p) => [p.name, p.title])));
    fillSelect(byId("set-dataset"), Object.keys(this.datasets));
    fillSelect(byId("set-activation"), options.activations);
    fillSelect(byId("set-output-activation"), options.output_activations);
    fillSelect(byId("set-init"), options.inits.filter((name) => name !== "explicit"));
    fillSelect(byId("set-loss"), options.losses);
    fillSelect(byId("set-optimizer"), options.optimizers);
    fillSelect(byId("set-regularization"), options.regularization);

    byId("set-preset").addEventListener("change", () => this.loadPreset(byId("set-preset").value));
    byId("set-dataset").addEventListener("change", () => this.onDataset());
    byId("set-optimizer").addEventListener("change", () => this.showOptimizerParameters());
    byId("set-csv").addEventListener("change", (event) => this.onCsv(event.target.files[0]));
    byId("add-layer").addEventListener("click", () => this.editLayers((hidden) => hidden.push(hidden[hidden.length - 1] ?? 4)));
    byId("remove-layer").addEventListener("click", () => this.editLayers((hidden) => hidden.pop()));
    byId("revert-settings").addEventListener("click", () => this.fill(this.model.config));
    this.form.addEventListener("input", () => this.describeChange());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.apply();
    });
  }

  // ---- config → form ------------------------------------------------------------------

  fill(config) {
    const set = (id, value) => { byId(id).value = value ?? ""; };
    const matching = this.presets.presets.find((p) => same(p.config, config));
    if (matching) set("set-preset", matching.name);
    this.custom = config.data.name === "custom" ? { X: config.data.X, y: config.data.y } : null;
    this.ensureDatasetOption(config.data.name);
    set("set-dataset", config.data.name);
    set("set-samples", config.data.samples);
    set("set-noise", config.data.noise);
    set("set-test-fraction", config.data.test_fraction);
    set("set-data-seed", config.data.seed);
    this.layers = [...config.network.layers];
    set("set-activation", config.network.activation);
    set("set-output-activation", config.network.output_activation);
    set("set-init", config.network.init);
    set("set-loss", config.loss);
    const opt = config.optimizer;
    set("set-optimizer", opt.name);
    set("set-learning-rate", opt.learning_rate);
    set("set-momentum", opt.momentum);
    byId("set-nesterov").checked = Boolean(opt.nesterov);
    set("set-alpha", opt.alpha);
    set("set-beta1", opt.beta1);
    set("set-beta2", opt.beta2);
    set("set-eps", opt.eps);
    set("set-batch-size", config.batch_size);
    set("set-regularization", config.regularization.kind);
    set("set-reg-rate", config.regularization.rate);
    byId("set-freeze-biases").checked = Boolean(config.freeze_biases);
    set("set-seed", config.seed);
    byId("preset-description").textContent = this.presets.presets.find((p) => p.name === byId("set-preset").value)?.description ?? "";
    this.renderLayers();
    this.showOptimizerParameters();
    this.shown = config;
    this.describeChange();
  }

  // Someone changed the settings in place: show them, unless edits of ours are staged.
  follow(config) {
    if (this.shown && !same(this.shown, config) && !this.classify(this.read(), this.shown)) this.fill(config);
  }

  ensureDatasetOption(name) {
    const select = byId("set-dataset");
    if (![...select.options].some((o) => o.value === name)) select.add(new Option(name === "custom" ? "your CSV" : name, name));
  }

  loadPreset(name) {
    const preset = this.presets.presets.find((p) => p.name === name);
    this.fill(preset.config);
    byId("set-preset").value = name;
    byId("preset-description").textContent = preset.description;
    this.describeChange();
  }

  showOptimizerParameters() {
    const name = byId("set-optimizer").value;
    for (const group of this.form.querySelectorAll(".opt-param")) {
      group.hidden = !group.dataset.for.split(" ").includes(name);
    }
  }

  renderLayers() {
    const editor = byId("layers-editor");
    const last = this.layers.length - 1;
    editor.replaceChildren(...this.layers.map((n, l) => {
      const item = document.createElement("div");
      item.className = "layer-row";
      if (l === 0 || l === last) {
        item.innerHTML = `<span>${l === 0 ? "Input" : "Output"}</span><span class="size">${n}</span><span class="caption">set by the data</span>`;
        return item;
      }
      item.innerHTML = `<span>Hidden layer ${l}</span>
        <button type="button" data-delta="-1" aria-label="Fewer neurons in hidden layer ${l}">−</button>
        <span class="size" id="layer-size-${l}">${n}</span>
        <button type="button" data-delta="1" aria-label="More neurons in hidden layer ${l}">+</button>`;
      item.querySelectorAll("button").forEach((button) => button.addEventListener("click", () =>
        this.editLayers((hidden) => {
          const k = l - 1;
          hidden[k] = Math.max(1, Math.min(this.limits.max_neurons ?? 64, hidden[k] + Number(button.dataset.delta)));
        })));
      return item;
    }));
    const hiddenCount = this.layers.length - 2;
    byId("add-layer").disabled = this.layers.length >= (this.limits.max_layers ?? 10);
    byId("remove-layer").disabled = hiddenCount === 0;
  }

  editLayers(change) {
    const hidden = this.layers.slice(1, -1);
    change(hidden);
    this.layers = [this.layers[0], ...hidden, this.layers[this.layers.length - 1]];
    this.renderLayers();
    this.describeChange();
  }

  // A new data set fixes the input and output sizes, and the output's activation and loss
  // must suit its task.
  onDataset() {
    const name = byId("set-dataset").value;
    const info = this.datasets[name];
    if (!info) return;
    this.custom = null;
    byId("set-samples").value = info.default_samples ?? "";
    byId("set-noise").value = info.default_noise ?? "";
    this.fitToTask(info.n_features, info.task === "classification" ? info.n_classes : 0);
  }

  fitToTask(nFeatures, nClasses) {
    const outputs = nClasses > 2 ? nClasses : 1;
    this.layers = [nFeatures, ...this.layers.slice(1, -1), outputs];
    const output = byId("set-output-activation");
    const loss = byId("set-loss");
    if (nClasses > 2) {
      output.value = "softmax";
      loss.value = "cross_entropy";
    } else if (nClasses === 0) {
      output.value = "linear";
      loss.value = "mse";
    } else if (output.value === "softmax" || output.value === "linear") {
      output.value = "tanh";
      loss.value = "mse";
    }
    this.renderLayers();
    this.describeChange();
  }

  async onCsv(file) {
    if (!file) return;
    const status = byId("csv-status");
    try {
      const parsed = parseCsv(await file.text());
      this.custom = { X: parsed.X, y: parsed.y };
      this.ensureDatasetOption("custom");
      byId("set-dataset").value = "custom";
      this.fitToTask(parsed.X[0].length, parsed.classification ? parsed.nClasses : 0);
      status.textContent = `${parsed.X.length} rows, ${parsed.X[0].length} features, ` +
        (parsed.classification ? `${parsed.nClasses} classes.` : "a numeric target (regression).");
    } catch (error) {
      status.textContent = `Could not read ${file.name}: ${error.message}.`;
    }
  }

  // ---- form → config ------------------------------------------------------------------

  read() {
    const value = (id) => byId(id).value;
    const number = (id) => (byId(id).value === "" ? null : Number(byId(id).value));
    const config = clone(this.model.config);
    const dataName = value("set-dataset");
    // Fields that do not apply are left out (custom rows only for "custom", no explicit W, b).
    const { X, y, samples, noise, ...dataRest } = config.data;
    config.data = dataName === "custom"
      ? { ...dataRest, name: "custom", X: this.custom.X, y: this.custom.y }
      : { ...dataRest, name: dataName, samples: number("set-samples"), noise: number("set-noise") };
    config.data.test_fraction = number("set-test-fraction");
    config.data.seed = number("set-data-seed");
    const { W, b, ...networkRest } = config.network;
    config.network = {
      ...networkRest,
      layers: [...this.layers],
      activation: value("set-activation"),
      output_activation: value("set-output-activation"),
      init: value("set-init"),
    };
    config.loss = value("set-loss");
    config.optimizer = {
      name: value("set-optimizer"),
      learning_rate: number("set-learning-rate"),
      momentum: number("set-momentum"),
      nesterov: byId("set-nesterov").checked,
      alpha: number("set-alpha"),
      beta1: number("set-beta1"),
      beta2: number("set-beta2"),
      eps: number("set-eps"),
    };
    config.batch_size = number("set-batch-size");
    config.regularization = { kind: value("set-regularization"), rate: number("set-reg-rate") };
    config.freeze_biases = byId("set-freeze-biases").checked;
    config.seed = number("set-seed");
    return config;
  }

  // "in-place", "copy" (keeps the weights, new link), "new" (new network) or null (no change).
  classify(config, current = this.model.config) {
    const changed = Object.keys(config).filter((key) => !same(config[key], current[key]));
    if (changed.length === 0) return null;
    if (config.optimizer.name !== current.optimizer.name) return "new";
    if (changed.every((key) => IN_PLACE.includes(key))) return "in-place";
    return changed.every((key) => KEEPS_WEIGHTS.includes(key)) ? "copy" : "new";
  }

  describeChange() {
    if (!this.model.config) return;
    this.note.textContent = {
      "in-place": "Applying changes this session in place: same link, same weights; watchers see it.",
      copy: "The batch size cannot change in place: applying keeps the weights and history in a new session (a new link).",
      new: "Applying creates a new session: these changes need a new network.",
    }[this.classify(this.read())] ?? "";
  }

  async apply() {
    const config = this.read();
    const kind = this.classify(config);
    if (!kind) {
      this.note.textContent = "Nothing to apply: the settings match this session.";
      return;
    }
    byId("apply-settings").disabled = true;
    try {
      await this.onApply(config, kind);
    } catch (error) {
      this.note.textContent = `Not applied: ${error.message}`;
    } finally {
      byId("apply-settings").disabled = false;
    }
  }
}
