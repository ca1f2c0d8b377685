import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

/** How often the nodes hear of the event loop's delay. */
export const LOOP_DELAY_WINDOW_MS = 1000;

type Listener = (maxMs: number, windowMs: number) => void;

/**
 * The event loop's delay, watched once per process (every node in it shares the one loop) and
 * told to each node every LOOP_DELAY_WINDOW_MS: the longest the loop was blocked in that window.
 * Runs while a node listens; its timer never keeps the process alive.
 */
class LoopDelayMonitor {
  readonly #listeners = new Set<Listener>();
  #histogram: IntervalHistogram | undefined;
  #timer: NodeJS.Timeout | undefined;

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.#start();
    return () => {
      if (this.#listeners.delete(listener) && this.#listeners.size === 0) this.#stop();
    };
  }

  #start(): void {
    const histogram = monitorEventLoopDelay({ resolution: 20 });
    histogram.enable();
    this.#histogram = histogram;
    this.#timer = setInterval(() => {
      // The histogram holds nanoseconds; it reads 0 before its first sample.
      const maxMs = histogram.max / 1e6;
      histogram.reset();
      for (const listener of this.#listeners) listener(maxMs, LOOP_DELAY_WINDOW_MS);
    }, LOOP_DELAY_WINDOW_MS);
    this.#timer.unref();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#histogram?.disable();
    this.#histogram = undefined;
  }
}

export const loopDelay = new LoopDelayMonitor();
