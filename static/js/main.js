// Wires the page together: one API client, one model, one view per panel, and the actions
// the controls call. Phase numbers reach the model the same way whoever ran the phase
// (this page, another browser, a script), so every viewer animates the same thing.

import { ApiError, SessionApi, catalogue, createSession, importSession } from "./api.js";
import { Animator, SPEEDS, redrawOnNextFrame, throttle } from "./animation.js";
import { BreakpointsView, parameterName } from "./breakpoints.js";
import { forgetColours, onCanvasResize } from "./canvas.js";
import { ChartsView } from "./charts.js";
import { ControlsView } from "./controls.js";
import { DataView } from "./data.js";
import { DiagnosticsView } from "./diagnostics.js";
import { FullGradientView, GradcheckView } from "./gradients.js";
import { InspectorView } from "./inspector.js";
import { PHASES, SessionModel } from "./model.js";
import { NetworkView } from "./network.js";
import { fmt } from "./scale.js";
import { KEEPS_WEIGHTS, SettingsView, createBody, inPlaceChanges, same } from "./settings.js";
import { TimeTravelView } from "./timetravel.js";

const byId = (id) => document.getElementById(id);
// The server's default for play frames, so the heatmap looks the same playing or paused.
const BOUNDARY_RESOLUTION = 32;
const NOTICE_KEY = "taffy.notice";

function download(name, type, content) {
  const url = URL.createObjectURL(content instanceof Blob ? content : new Blob([content], { type }));
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// Moves to another session's page, carrying a sentence to show there.
function goTo(id, notice) {
  if (notice) sessionStorage.setItem(NOTICE_KEY, notice);
  location.assign(`/s/${encodeURIComponent(id)}`);
}

// Runs fn now, or once more after the run in flight, however often it is asked for.
function coalesce(fn) {
  let running = null;
  let again = false;
  const run = async () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await fn();
      } while (again);
    })().finally(() => { running = null; });
    return running;
  };
  return run;
}

class Page {
  constructor(sessionId) {
    this.api = new SessionApi(sessionId);
    this.model = new SessionModel();
    this.animation = Promise.resolve(); // the phase animation running, if any
    this.animator = new Animator((busy) => this.controls?.setAnimating(busy));
    this.network = new NetworkView(byId("network"), this.model, byId("tooltip"));
    this.dataView = new DataView({
      canvas: byId("data-canvas"), neuronCanvas: byId("neuron-maps"), neuronHeading: byId("neurons-heading"),
      showTest: byId("show-test"), caption: byId("data-caption"),
    }, this.model);
    this.charts = new ChartsView({ loss: byId("loss-chart"), accuracy: byId("acc-chart"), gradients: byId("grad-chart") }, this.model);
    this.inspector = new InspectorView(byId("inspector"), this.model, this.api, this);
    this.controls = new ControlsView(this.model, this, { canSteer: this.api.canSteer });
    this.timeTravel = new TimeTravelView(this.model, this, { canSteer: this.api.canSteer });
    this.breakpoints = new BreakpointsView(this.model, this.api);
    this.diagnostics = new DiagnosticsView(this.model);
    this.gradcheck = new GradcheckView(this.model, this.api);
    this.fullGradient = new FullGradientView(this.api);
    this.resync = coalesce(() => this.fetchEverything());
    this.refreshHistory = coalesce(async () => this.model.setHistory(await this.api.history()));
    this.refreshBoundary = coalesce(() => this.fetchBoundary());
    this.refreshDiagnostics = coalesce(async () => this.diagnostics.setBody(await this.api.diagnostics()));
    this.travel = coalesce(() => this.fetchPast());
    this.listen();
  }

  // ---- model → views ------------------------------------------------------------------

  listen() {
    const m = this.model;
    // Play sends about 30 frames a second; drawing 15 of the network and 10 of the data
    // view keeps the motion smooth and leaves the browser time to paint at 50+ frames a
    // second beside a server training on the same two cores (the phase animations draw at
    // full rate).
    const drawNetwork = throttle(redrawOnNextFrame(() => this.network.render()), 66);
    const drawData = throttle(redrawOnNextFrame(() => this.dataView.render()), 100);
    // Charts redraw at most 10 times a second: a curve needs no more, and play sends 30 frames.
    const drawCharts = throttle(redrawOnNextFrame(() => this.charts.render()), 100);
    const drawInspector = redrawOnNextFrame(() => this.inspector.render());
    const drawControls = redrawOnNextFrame(() => this.renderSessionInfo());
    const drawDiagnostics = throttle(redrawOnNextFrame(() => this.diagnostics.renderCharts()), 250);
    m.addEventListener("session", drawControls);
    m.addEventListener("network", () => { drawNetwork(); drawInspector(); drawData(); });
    m.addEventListener("history", () => { drawCharts(); drawDiagnostics(); });
    m.addEventListener("highlight", drawNetwork);
    m.addEventListener("past", () => { drawControls(); drawInspector(); drawCharts(); });
    m.addEventListener("boundary", drawData);
    m.addEventListener("data", drawData);
    m.addEventListener("focus", () => { drawNetwork(); drawData(); drawInspector(); this.renderFocus(); });
    m.addEventListener("selection", () => { drawNetwork(); drawInspector(); });
    m.addEventListener("phase", (event) => this.animatePhase(event.detail));
    byId("show-test").addEventListener("change", drawData);
    byId("sample-prev").addEventListener("click", () => m.setFocus(m.focus - 1));
    byId("sample-next").addEventListener("click", () => m.setFocus(m.focus + 1));
    this.redrawCanvases = () => { drawData(); drawCharts(); drawDiagnostics(); };
    onCanvasResize(this.redrawCanvases);
  }

  animatePhase({ phase, data, previous }) {
    this.renderFocus();
    this.inspector.render();
    if (phase === "forward") this.dataView.render();
    const span = this.network.span(phase, data, previous);
    this.animation = this.animator.run((t) => {
      this.network.progress = t < 1 ? { phase, t, ...span } : null;
      this.network.render();
    });
    if (phase === "update") this.afterIteration();
  }

  // An update changes what the boundary, the charts and the diagnostics show.
  afterIteration() {
    this.refreshBoundary();
    this.refreshHistory();
    this.refreshDiagnostics();
  }

  renderSessionInfo() {
    this.controls.render();
    this.timeTravel.render();
    this.settings?.follow(this.model.config);
    const session = this.model.session;
    const preset = this.presetTitle ? `${this.presetTitle} · ` : "";
    const title = `${preset}${session.config.network.layers.join("-")} · session ${session.id.slice(0, 8)}`;
    if (byId("session-title").textContent !== title) byId("session-title").textContent = title;
    document.body.dataset.iteration = session.iteration;
    document.body.dataset.playing = session.playing ? "1" : "0";
  }

  renderFocus() {
    const batch = this.model.batch;
    byId("sample-label").textContent = batch.length
      ? `sample ${this.model.focus + 1} of ${batch.length} (row #${batch[this.model.focus]})`
      : "no batch yet";
  }

  // ---- server → model -----------------------------------------------------------------

  // Everything the page needs is asked for at once; the boundary heatmap follows later.
  async start() {
    this.api.connect((message) => this.onMessage(message), (status) => this.onConnection(status));
    const [presets, datasets, data, breakpoints] = await Promise.all([
      catalogue.presets(), catalogue.datasets(), this.api.data(), this.api.breakpoints(), this.resync(),
    ]);
    this.breakpoints.fill(breakpoints.breakpoints);
    this.model.setData(data);
    const config = this.model.config;
    this.presetTitle = presets.presets.find((p) => same(p.config, config))?.title;
    this.settings = new SettingsView(this.model, { catalogue: { presets, datasets }, onApply: (c, kind) => this.applySettings(c, kind) });
    this.settings.fill(config);
    this.renderSessionInfo();
    const notice = sessionStorage.getItem(NOTICE_KEY);
    if (notice) {
      sessionStorage.removeItem(NOTICE_KEY);
      this.controls.say(notice);
    }
    document.body.dataset.ready = "1";
    performance.mark("taffy-interactive"); // read by benchmarks/browser.py
  }

  async fetchEverything() {
    const [session, network, trace, history] = await Promise.all([
      this.api.summary(), this.api.network(), this.api.trace(), this.api.history(),
    ]);
    this.animator.skip();
    this.model.setSnapshot({ session, network, trace, history });
    this.renderFocus();
    this.refreshBoundary();
    this.refreshDiagnostics();
  }

  // The boundary only changes with the weights, so once per iteration is enough.
  async fetchBoundary() {
    const nInputs = this.model.layers[0];
    const iteration = this.model.session.iteration;
    if ((nInputs !== 1 && nInputs !== 2) || iteration === this.boundaryIteration) return;
    const body = await this.api.boundary(BOUNDARY_RESOLUTION);
    this.boundaryIteration = iteration;
    this.model.setBoundary(this.model.decodeRestBoundary(body));
  }

  onConnection(status) {
    document.body.dataset.connected = status === "open" ? "1" : "0";
    if (status === "closed") this.controls.say("Lost the connection to the server; reconnecting…", "offline");
    else if (this.controls.message.dataset.kind === "offline") this.controls.say("");
  }

  onMessage(message) {
    const { type } = message;
    // Showing the past: the present's numbers wait; "Back to now" fetches them at once.
    if (this.model.viewing && (type === "snapshot" || type === "frame" || PHASES.includes(type))) return;
    if (type === "snapshot") {
      this.model.setSnapshot(message);
      this.refreshBoundary();
    } else if (PHASES.includes(type)) {
      this.model.applyPhase(type, message);
    } else if (type === "frame") {
      this.model.applyFrame(message);
    } else if (type === "state") {
      this.onState(message);
    } else if (type === "metrics") {
      this.model.patchSession({ iteration: message.iteration, epoch: message.epoch, metrics: message.metrics });
    } else if (type === "breakpoint") {
      this.controls.say(this.breakpoints.showStop(message), "stop");
    } else if (type === "error") {
      this.controls.say(message.detail, "error");
    }
  }

  onState({ session, reason }) {
    this.model.setSession(session);
    // A phase is animated from its own event, and play moves on through frames; any other
    // change (train, rewind, a breakpoint, edited weights or settings, reset) jumps the
    // weights or frames were coalesced: fetch the whole picture.
    if (reason === "breakpoints" && !this.api.canSteer) this.followBreakpoints();
    if (["phase", "play", "breakpoints"].includes(reason) || this.model.viewing) return;
    this.boundaryIteration = null;
    this.resync();
  }

  // A watcher's panel shows the conditions the teacher just set.
  async followBreakpoints() {
    this.breakpoints.fill((await this.api.breakpoints()).breakpoints);
  }

  // ---- actions (called by the controls) ------------------------------------------------

  async steer(action) {
    this.controls.setBusy(true);
    try {
      return await action();
    } catch (error) {
      const detail = error instanceof ApiError ? error.message : `Something went wrong: ${error.message}`;
      this.controls.say(detail, "error");
      return null;
    } finally {
      this.controls.setBusy(false);
    }
  }

  // One phase (or, with `layers`, that many layers of forward or backward): the response
  // goes through the model like anyone else's phase event.
  phase(name, layers = null) {
    return this.steer(async () => {
      const data = await this.api.phase(name, layers);
      this.model.applyPhase(name, data);
      this.controls.say(this.explain(name, data));
      if (name === "update") this.model.patchSession(await this.api.summary());
      return true;
    });
  }

  explain(phase, data) {
    const last = this.model.layers.length - 1;
    const unfinished = data.next_phase === phase;
    switch (phase) {
      case "forward": return unfinished
        ? `Forward, layer ${data.layer} of ${last}: z and a of layer ${data.layer} are known; the layers after it are not yet.`
        : `Forward: ${data.batch.length} samples went through the network, layer by layer.`;
      case "loss": return `Loss: the outputs were compared with the targets; batch loss ${fmt(data.loss)}.`;
      case "backward": return unfinished
        ? `Backward, down to layer ${data.layer}: δ of layer ${data.layer} and ∂L/∂W${data.layer} are known; next, layer ${data.layer - 1}.`
        : "Backward: the error went back through the network; every weight has its ∂L/∂w.";
      default: return "Update: every weight moved against its gradient. Next: Forward on the next batch.";
    }
  }

  // Finishes the iteration in progress phase by phase (so it animates), or runs a whole one.
  async step() {
    const start = PHASES.indexOf(this.model.session.next_phase);
    for (const name of PHASES.slice(start)) {
      if (!(await this.phase(name))) return;
      await this.animation;
    }
  }

  epoch() {
    return this.steer(async () => {
      await this.breakpoints.saved;
      const result = await this.api.train({ epochs: 1 });
      await this.resync();
      if (result.breakpoint) this.controls.say(this.breakpoints.showStop(result.breakpoint), "stop");
      else this.controls.say(`Trained one epoch: ${result.iterations_run} iterations.`);
    });
  }

  async togglePlay() {
    if (!this.api.canSteer) return;
    const playing = this.model.session.playing;
    const rate = this.animator.speed.iterationsPerSecond;
    try {
      this.animator.skip();
      if (!playing) {
        await this.breakpoints.saved; // the conditions just edited apply to this run
        this.breakpoints.clearStop();
      }
      this.api.send(playing ? { type: "pause" } : rate ? { type: "play", iterations_per_second: rate } : { type: "play" });
    } catch (error) {
      this.controls.say(error.message, "error");
    }
  }

  // Back drops the iteration in progress; between iterations it goes back one.
  back() {
    return this.steer(async () => {
      const inProgress = this.model.session.phase !== null;
      await this.api.rewind(inProgress ? 0 : 1);
      await this.resync();
      this.controls.say(inProgress ? "Back to the start of this iteration." : "Rewound one iteration.");
    });
  }

  reset() {
    return this.steer(async () => {
      await this.api.reset();
      await this.resync();
      this.breakpoints.clearStop();
      this.controls.say("Reset: iteration 0 and the initial weights again, in this same session (same link).");
    });
  }

  setSpeed(level) {
    this.animator.setSpeed(level);
    // While playing, a new speed takes effect at once.
    if (this.model.session?.playing && this.api.canSteer) {
      const rate = SPEEDS[level - 1].iterationsPerSecond;
      this.api.send(rate ? { type: "play", iterations_per_second: rate } : { type: "play" });
    }
  }

  skipAnimation() {
    this.animator.skip();
  }

  // "in-place": PATCH /config (same session and link, watchers see it); "copy": the batch
  // size cannot change in place, so the session is copied with it; "new": a new network.
  async applySettings(config, kind) {
    if (kind === "in-place") {
      this.model.setSession(await this.api.patchConfig(inPlaceChanges(config, this.model.config)));
      this.settings.fill(this.model.config);
      await this.resync();
      this.controls.say("Settings changed in place: same session, same link; the next step uses them.");
      return;
    }
    if (kind === "new") {
      const created = await createSession(createBody(config));
      goTo(created.id, "New session: the settings you applied need a new network.");
      return;
    }
    const exported = await this.api.exportDocument();
    for (const key of KEEPS_WEIGHTS) exported.config[key] = config[key];
    const created = await importSession(exported);
    goTo(created.id, "Settings applied; the weights and history carried over into this new session.");
  }

  // ---- time travel ----------------------------------------------------------------------

  travelTo() {
    return this.travel();
  }

  // The iteration the scrubber points at, as it was; the newest one is the present.
  async fetchPast() {
    const k = this.timeTravel.target;
    if (k >= this.model.session.iteration) {
      if (this.model.viewing) await this.backToNow();
      return;
    }
    const twoInputs = [1, 2].includes(this.model.layers[0]);
    try {
      const [past, boundary] = await Promise.all([
        this.api.historyAt(k), twoInputs ? this.api.boundary(BOUNDARY_RESOLUTION, k) : null,
      ]);
      this.animator.skip();
      this.model.viewPast(past, boundary && this.model.decodeRestBoundary(boundary));
    } catch (error) {
      this.controls.say(`Could not show iteration ${k}: ${error.message}`, "error");
    }
  }

  // The present is fetched before the past is left, so nothing asks the server about the
  // past's numbers as if they were the present's.
  async backToNow() {
    this.boundaryIteration = null;
    await this.resync();
    this.model.leavePast();
  }

  resumeHere() {
    const k = this.model.viewing?.iteration;
    if (k === undefined) return null;
    return this.steer(async () => {
      await this.api.rewind(this.model.session.iteration - k);
      await this.backToNow();
      this.controls.say(`Resumed from iteration ${k}: the session is back there exactly; the later iterations are gone.`);
    });
  }

  // ---- the inspector's hand edits -------------------------------------------------------

  setParameter(edit) {
    return this.steer(async () => {
      await this.api.editParameters([edit]);
      await this.resync();
      this.controls.say(`${parameterName(edit)} set to ${edit.value} by hand. The iteration in progress was dropped; run a step to see the consequences.`);
    });
  }

  watchParameter(watch) {
    this.breakpoints.setWatch(watch);
    this.breakpoints.save();
    this.controls.say(`Watching ${parameterName(watch)}: Play, Epoch and training stop when it crosses ${watch.value}.`);
  }

  async fork() {
    try {
      const created = await importSession(await this.api.exportDocument());
      goTo(created.id, "This is your own copy: you steer it.");
    } catch (error) {
      this.controls.say(`Could not fork: ${error.message}`, "error");
    }
  }

  // ---- exports ------------------------------------------------------------------------

  exportSvg() {
    download(`taffy-network-${this.api.id.slice(0, 8)}.svg`, "image/svg+xml", this.network.exportSvg());
  }

  exportPng() {
    const { width, height } = this.network.size;
    const image = new Image();
    image.onload = () => {
      const canvas = Object.assign(document.createElement("canvas"), { width: width * 2, height: height * 2 });
      const context = canvas.getContext("2d");
      context.scale(2, 2);
      context.drawImage(image, 0, 0);
      canvas.toBlob((blob) => download(`taffy-network-${this.api.id.slice(0, 8)}.png`, "image/png", blob));
    };
    image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(this.network.exportSvg())}`;
  }

  async exportJson() {
    const exported = await this.api.exportDocument();
    download(`taffy-session-${this.api.id.slice(0, 8)}.json`, "application/json", JSON.stringify(exported));
  }

  // ---- exports for homework: the current iteration, and the chain rule of one weight ----

  async exportTraceCsv() {
    download(`taffy-trace-${this.api.id.slice(0, 8)}.csv`, "text/csv", await this.api.traceCsv());
  }

  async exportTraceJson() {
    download(`taffy-trace-${this.api.id.slice(0, 8)}.json`, "application/json", JSON.stringify(await this.api.trace()));
  }

  async exportChainRule() {
    const target = this.inspector.parameter();
    if (!target) {
      this.controls.say("Select a weight or a bias first (click a link, or a bias square).", "error");
      return;
    }
    const i = target.j === null ? null : target.i;
    const tex = await this.api.chainRuleTex(target.layer, i, target.j ?? target.i);
    download(`taffy-chain-rule-${parameterName(target).replace(/\W+/g, "_")}.tex`, "text/x-tex", tex);
  }

  exportCsv() {
    const h = this.model.history;
    const evaluations = new Map(h.evaluations.map((e) => [e.iteration, e]));
    const cell = (x) => (x === null || x === undefined ? "" : String(x));
    const layers = Math.max(0, this.model.layers.length - 1);
    const header = ["iteration", "batch_loss", "train_loss", "test_loss", "train_accuracy", "test_accuracy",
      ...Array.from({ length: layers }, (_, l) => `grad_norm_W${l}`)];
    const rows = h.iterations.map((iteration, k) => {
      const e = evaluations.get(iteration) ?? {};
      return [iteration, h.batch_loss[k], e.train_loss, e.test_loss, e.train_accuracy, e.test_accuracy,
        ...(h.grad_norm[k] ?? [])].map(cell).join(",");
    });
    download(`taffy-history-${this.api.id.slice(0, 8)}.csv`, "text/csv", [header.join(","), ...rows].join("\n") + "\n");
  }
}

// ---- page-level toggles (theme, large type) that need no session ------------------------

function setupViewToggles(redraw) {
  const root = document.documentElement;
  const theme = byId("theme-toggle");
  const projector = byId("projector-toggle");
  const show = () => {
    const dark = root.dataset.theme === "dark";
    theme.setAttribute("aria-pressed", String(dark));
    projector.setAttribute("aria-pressed", String(root.classList.contains("projector")));
  };
  theme.addEventListener("click", () => {
    root.dataset.theme = root.dataset.theme === "dark" ? "light" : "dark";
    localStorage.setItem("taffy.theme", root.dataset.theme);
    show();
    forgetColours();
    redraw();
  });
  projector.addEventListener("click", () => {
    const on = root.classList.toggle("projector");
    localStorage.setItem("taffy.projector", on ? "1" : "0");
    show();
    redraw();
  });
  show();
}

async function startNewSession() {
  byId("session-title").textContent = "Creating a session from the default preset…";
  const { default: preset } = await catalogue.presets();
  const created = await createSession({ preset });
  location.replace(`/s/${encodeURIComponent(created.id)}`);
}

async function main() {
  const sessionId = document.body.dataset.sessionId;
  if (!sessionId) {
    setupViewToggles(() => {});
    await startNewSession();
    return;
  }
  const page = new Page(sessionId);
  setupViewToggles(page.redrawCanvases);
  byId("fork-button").addEventListener("click", () => page.fork());
  byId("export-svg").addEventListener("click", () => page.exportSvg());
  byId("export-png").addEventListener("click", () => page.exportPng());
  byId("export-json").addEventListener("click", () => page.exportJson());
  byId("export-csv").addEventListener("click", () => page.exportCsv());
  const exported = (action) => () => action().catch((error) => page.controls.say(`Could not export: ${error.message}`, "error"));
  byId("export-trace-csv").addEventListener("click", exported(() => page.exportTraceCsv()));
  byId("export-trace-json").addEventListener("click", exported(() => page.exportTraceJson()));
  byId("export-chain-tex").addEventListener("click", exported(() => page.exportChainRule()));
  try {
    await page.start();
  } catch (error) {
    const missing = error instanceof ApiError && error.status === 404;
    byId("session-title").textContent = missing ? "This session does not exist (or has ended)." : `Could not load: ${error.message}`;
    page.controls.say(missing ? "Open the start page to begin a new session." : error.message, "error");
    document.body.dataset.ready = "error";
  }
}

main();
