/**
 * Lifeguard's local health multiplier: a score in 0 … max − 1 that grows when this node seems
 * to be the slow one (missed acks, missing nacks, having to refute) and scales its timing.
 */
export class Awareness {
  readonly #max: number;
  #score = 0;

  constructor(maxMultiplier: number) {
    this.#max = maxMultiplier;
  }

  get score(): number {
    return this.#score;
  }

  apply(delta: number): void {
    this.#score = Math.min(this.#max - 1, Math.max(0, this.#score + delta));
  }

  scale(ms: number): number {
    return ms * (this.#score + 1);
  }
}
