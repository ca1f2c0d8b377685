import type { SerfMember } from '../serf/index.js';

/** The longest delay setTimeout holds; a later deadline is re-armed when this one fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Runs the Serf layer's reaping (failed and left members listed past their timeout) on a wall-clock timer at its next deadline. */
export class Reaper {
  readonly #serf: SerfMember;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(serf: SerfMember) {
    this.#serf = serf;
  }

  /** Sets the timer for the next deadline; call after anything that may have moved it. */
  arm(): void {
    clearTimeout(this.#timer);
    const due = this.#serf.nextDeadline();
    if (due === Number.POSITIVE_INFINITY || this.#stopped) return;
    const delay = Math.min(Math.max(0, due - Date.now()), MAX_TIMER_MS);
    this.#timer = setTimeout(() => {
      this.#serf.tick();
      this.arm();
    }, delay).unref();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }
}
