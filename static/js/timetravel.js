// Time travel: the history scrubber under the loss chart and the banner that says the page
// shows the past. Dragging asks `actions.travelTo(k)`; the page then shows iteration k as it
// was (read-only) until "Back to now", or "Resume from here" rewinds the session to k.

import { fmt } from "./scale.js";

const byId = (id) => document.getElementById(id);

export class TimeTravelView {
  constructor(model, actions, { canSteer }) {
    this.model = model;
    this.range = byId("history-range");
    this.label = byId("history-label");
    this.banner = byId("past-banner");
    this.text = byId("past-text");
    this.resume = byId("resume-here");
    this.canSteer = canSteer;
    this.range.addEventListener("input", () => actions.travelTo(this.target));
    this.resume.addEventListener("click", () => actions.resumeHere());
    byId("back-to-now").addEventListener("click", () => actions.backToNow());
  }

  // The iteration the scrubber points at.
  get target() {
    return Number(this.range.value);
  }

  // Between the oldest kept iteration and now; it follows "now" unless the past is shown.
  render() {
    const session = this.model.session;
    if (!session) return;
    const now = session.iteration;
    const oldest = now - (session.max_rewind ?? 0);
    const viewing = this.model.viewing;
    this.range.min = oldest;
    this.range.max = now;
    if (!viewing) this.range.value = now;
    this.range.disabled = session.playing || oldest === now;
    const shown = viewing ? viewing.iteration : now;
    const text = oldest === now ? "nothing kept yet" : `iteration ${shown}${viewing ? "" : " (now)"} · kept ${oldest}–${now}`;
    if (this.label.textContent !== text) this.label.textContent = text;
    this.range.setAttribute("aria-valuetext", `iteration ${shown}${viewing ? "" : ", now"}`);

    this.banner.hidden = !viewing;
    document.body.classList.toggle("viewing-past", Boolean(viewing));
    if (viewing) {
      const loss = viewing.metrics?.train_loss;
      this.text.textContent = `Viewing iteration ${viewing.iteration} (read-only): the weights at its start and ` +
        `that iteration's numbers; train loss then ${fmt(loss)}. Now is iteration ${now}.`;
      this.resume.disabled = !this.canSteer || session.playing;
    }
  }
}
