// Timing for phase animations, and a once-per-frame redraw helper.
//
// One animation runs at a time: starting another (or pressing Skip) jumps the running one
// to its end, so the numbers are never hidden behind a queue of animations.

// Speed levels 1..5: how long one phase takes to animate, and how many iterations per
// second play asks the server for (null: as fast as it goes).
export const SPEEDS = [
  { label: "slowest", phaseMs: 2400, iterationsPerSecond: 2 },
  { label: "slow", phaseMs: 1400, iterationsPerSecond: 10 },
  { label: "medium", phaseMs: 800, iterationsPerSecond: 40 },
  { label: "fast", phaseMs: 350, iterationsPerSecond: 200 },
  { label: "instant", phaseMs: 0, iterationsPerSecond: null },
];

const easeInOut = (t) => (t < 0.5 ? 2 * t * t : 1 - (-2 * t + 2) ** 2 / 2);

export class Animator {
  constructor(onBusyChange) {
    this.speed = SPEEDS[2];
    this.running = null;
    this.onBusyChange = onBusyChange;
  }

  setSpeed(level) {
    this.speed = SPEEDS[level - 1];
  }

  // Calls draw(t) every frame with t eased from 0 to 1, and always once with t = 1.
  run(draw) {
    this.skip();
    const duration = this.speed.phaseMs;
    if (duration === 0) {
      draw(1);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const start = performance.now();
      const running = { draw, resolve, frame: 0 };
      const tick = (now) => {
        const t = Math.min(1, (now - start) / duration);
        draw(easeInOut(t));
        if (t < 1) running.frame = requestAnimationFrame(tick);
        else this.finish(running);
      };
      this.running = running;
      this.onBusyChange(true);
      running.frame = requestAnimationFrame(tick);
    });
  }

  skip() {
    const running = this.running;
    if (!running) return;
    cancelAnimationFrame(running.frame);
    running.draw(1);
    this.finish(running);
  }

  finish(running) {
    if (this.running !== running) return;
    this.running = null;
    this.onBusyChange(false);
    running.resolve();
  }

  get busy() {
    return this.running !== null;
  }
}

// Returns a function that asks for render() before the next paint, at most once per frame:
// a burst of websocket frames costs one redraw.
export function redrawOnNextFrame(render) {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      render();
    });
  };
}

// At most one call every `ms` milliseconds; a call in between is kept for the end of the wait.
export function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  return () => {
    const wait = last + ms - performance.now();
    if (wait <= 0) {
      last = performance.now();
      fn();
    } else if (!timer) {
      timer = setTimeout(() => {
        timer = null;
        last = performance.now();
        fn();
      }, wait);
    }
  };
}
