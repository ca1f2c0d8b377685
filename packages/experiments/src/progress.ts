import cliProgress from 'cli-progress';

/**
 * A progress bar with an ETA on stderr, weighted by the estimated cost of each run so that
 * the ETA holds when runs differ a thousandfold in size. Silent when stderr is not a terminal.
 */
export class Progress {
  readonly #bar: cliProgress.SingleBar | undefined;
  #started = false;
  #runs = 0;
  #total = 0;
  #done = 0;

  constructor(title: string) {
    if (!process.stderr.isTTY) return;
    this.#bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${title} {bar} {percentage}% | ETA {eta_formatted} | {runs} runs | {label}`,
        etaBuffer: 50,
        fps: 5,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  /** More work is coming (a search adds its rounds as it goes). */
  add(cost: number, runs: number, label: string): void {
    this.#total += cost;
    this.#runs += runs;
    if (!this.#bar) return;
    if (!this.#started) {
      this.#started = true;
      this.#bar.start(this.#total, 0, this.#payload(label));
    }
    this.#bar.setTotal(this.#total);
    this.#bar.update(this.#payload(label));
  }

  advance(cost: number, label: string): void {
    this.#done++;
    this.#bar?.increment(cost, this.#payload(label));
  }

  stop(): void {
    this.#bar?.stop();
  }

  #payload(label: string): { runs: string; label: string } {
    return { runs: `${this.#done}/${this.#runs}`, label };
  }
}
