// The controls: phase buttons (the next one highlighted, the others disabled), the "one
// layer at a time" mode of Forward and Backward, Step, Epoch, Play/Pause, speed, Back, Reset;
// the phase bar (with the layer a stepped phase is at); the status line; keyboard shortcuts
// and the help overlay. It reads the model and calls `actions`; it never talks to the server.
// While the page shows a past iteration, nothing steers and the status shows that iteration.

import { SPEEDS } from "./animation.js";
import { fmt, pct } from "./scale.js";

const byId = (id) => document.getElementById(id);
const capitalise = (word) => word[0].toUpperCase() + word.slice(1);

// Frames arrive 30 times a second: touch the page only where something changed.
function setText(id, text) {
  const node = byId(id);
  if (node.textContent !== String(text)) node.textContent = text;
}

export class ControlsView {
  constructor(model, actions, { canSteer }) {
    this.model = model;
    this.actions = actions;
    this.canSteer = canSteer;
    this.phaseButtons = [...document.querySelectorAll(".phase-button")];
    this.phaseSteps = [...document.querySelectorAll("#phasebar li")];
    this.play = byId("play-button");
    this.speed = byId("speed");
    this.skip = byId("skip-button");
    this.message = byId("message");
    this.help = byId("help");
    this.layerMode = byId("layer-mode");
    this.busy = false;

    for (const button of this.phaseButtons) {
      button.addEventListener("click", () => this.runPhase(button.dataset.phase));
    }
    this.layerMode.addEventListener("change", () => this.render());
    byId("step-button").addEventListener("click", () => actions.step());
    byId("epoch-button").addEventListener("click", () => actions.epoch());
    this.play.addEventListener("click", () => actions.togglePlay());
    byId("back-button").addEventListener("click", () => actions.back());
    byId("reset-button").addEventListener("click", () => actions.reset());
    this.skip.addEventListener("click", () => actions.skipAnimation());
    this.speed.addEventListener("input", () => this.onSpeed());
    byId("help-button").addEventListener("click", () => this.toggleHelp(true));
    byId("help-close").addEventListener("click", () => this.toggleHelp(false));
    this.help.addEventListener("click", (event) => { if (event.target === this.help) this.toggleHelp(false); });
    document.addEventListener("keydown", (event) => this.onKey(event));

    byId("readonly-note").hidden = canSteer;
    document.body.classList.toggle("readonly", !canSteer);
    this.onSpeed();
  }

  // In layer mode Forward and Backward advance one layer; the other phases are whole anyway.
  runPhase(phase) {
    const stepped = this.layerMode.checked && (phase === "forward" || phase === "backward");
    this.actions.phase(phase, stepped ? 1 : null);
  }

  onSpeed() {
    const level = Number(this.speed.value);
    const { label } = SPEEDS[level - 1];
    byId("speed-label").textContent = label;
    this.speed.setAttribute("aria-valuetext", label);
    this.actions.setSpeed(level);
  }

  setAnimating(animating) {
    this.skip.disabled = !animating;
  }

  // Requests in flight disable steering, so a double click never sends a phase twice.
  setBusy(busy) {
    this.busy = busy;
    this.render();
  }

  say(text, kind = "info") {
    this.message.textContent = text;
    this.message.dataset.kind = kind;
  }

  render() {
    const session = this.model.session;
    if (!session) return;
    const playing = session.playing;
    const diverged = session.status === "diverged";
    const viewing = this.model.viewing;
    const steerable = this.canSteer && !this.busy && !viewing;
    for (const button of this.phaseButtons) {
      const phase = button.dataset.phase;
      const isNext = phase === session.next_phase;
      button.disabled = !steerable || playing || diverged || !isNext;
      button.classList.toggle("next", isNext && !playing);
      const label = this.layerMode.checked && (phase === "forward" || phase === "backward") ? `${capitalise(phase)}: next layer` : capitalise(phase);
      if (button.textContent !== label) button.textContent = label;
    }
    for (const button of document.querySelectorAll(".steer:not(.phase-button)")) {
      button.disabled = !steerable;
    }
    byId("step-button").disabled = !steerable || playing || diverged;
    byId("epoch-button").disabled = !steerable || playing || diverged;
    byId("back-button").disabled = !steerable || playing;
    this.play.disabled = !this.canSteer || Boolean(viewing) || (diverged && !playing);
    setText("play-button", playing ? "Pause" : "Play");
    this.play.setAttribute("aria-pressed", String(Boolean(playing)));

    // The phase bar: the last phase run is lit; between iterations, step 5 (iterate) is.
    const current = session.phase ?? (session.iteration > 0 ? "iterate" : null);
    for (const step of this.phaseSteps) {
      const phase = step.dataset.phase;
      const isCurrent = playing || phase === current;
      step.classList.toggle("current", isCurrent);
      step.classList.toggle("next", !playing && phase === session.next_phase);
      if (isCurrent) step.setAttribute("aria-current", "step");
      else step.removeAttribute("aria-current");
    }
    this.renderLayerAt(session);

    const metrics = (viewing ? viewing.metrics : session.metrics) ?? {};
    setText("status-iteration", viewing ? `${viewing.iteration} (past)` : session.iteration);
    setText("status-epoch", session.epoch);
    setText("status-train-loss", fmt(metrics.train_loss));
    setText("status-test-loss", fmt(metrics.test_loss));
    setText("status-train-acc", pct(metrics.train_accuracy));
    setText("status-test-acc", pct(metrics.test_accuracy));
    if (diverged) {
      const d = session.divergence;
      this.say(`Diverged at iteration ${d?.iteration}, ${d?.phase}${d?.layer != null ? `, layer ${d.layer}` : ""}: ${d?.detail ?? "a NaN or inf appeared"}. Press Back to rewind.`, "error");
    }
  }

  // "layer 2 of 3" on the phase stepped layer by layer (the summary's `layer`).
  renderLayerAt(session) {
    const layers = this.model.layers.length - 1;
    for (const phase of ["forward", "backward"]) {
      const at = session.phase === phase && session.layer !== null && session.layer !== undefined ? session.layer : null;
      const text = at === null ? "" : phase === "forward" ? `· layer ${at} of ${layers}` : `· down to layer ${at}`;
      setText(`layer-at-${phase}`, text);
    }
  }

  toggleHelp(open) {
    this.help.hidden = !open;
    if (open) byId("help-close").focus();
    else byId("help-button").focus();
  }

  onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    const typing = target.closest("input, select, textarea, [contenteditable]");
    if (event.key === "Escape") {
      if (!this.help.hidden) this.toggleHelp(false);
      else this.actions.skipAnimation();
      return;
    }
    if (typing) return;
    if (event.key === "?") {
      event.preventDefault();
      this.toggleHelp(this.help.hidden);
      return;
    }
    if (!this.help.hidden) return;
    // Space on a focused button already clicks it; only take it when nothing else would.
    if (event.key === " " && !target.closest("button, summary, a")) {
      event.preventDefault();
      if (!this.play.disabled) this.actions.togglePlay();
    } else if (event.key === "ArrowRight") {
      event.preventDefault();
      const next = this.phaseButtons.find((b) => b.dataset.phase === this.model.session?.next_phase);
      if (next && !next.disabled) this.runPhase(next.dataset.phase);
    } else if (event.key === "ArrowLeft") {
      event.preventDefault();
      if (!byId("back-button").disabled) this.actions.back();
    }
  }
}
