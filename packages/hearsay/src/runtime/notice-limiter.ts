/** Notices of one kind shown per window before the rest are held back … */
const NOTICE_BURST = 5;
const NOTICE_WINDOW_MS = 10_000;
/** … where a kind is the level and the first two words; past this many kinds, one shared kind. */
const NOTICE_KINDS = 64;

interface NoticeWindow {
  readonly level: 'debug' | 'warn';
  /** The first two words the kind's notices share ('' for the shared kind). */
  readonly like: string;
  readonly opened: number;
  readonly timer: NodeJS.Timeout;
  shown: number;
  held: number;
}

/**
 * Keeps a flood of bad messages from writing megabytes of logs: per kind, the first few notices
 * of a window pass, the rest are counted, and one line at the window's end says how many.
 */
export class NoticeLimiter {
  readonly #show: (level: 'debug' | 'warn', text: string) => void;
  readonly #windows = new Map<string, NoticeWindow>();

  constructor(show: (level: 'debug' | 'warn', text: string) => void) {
    this.#show = show;
  }

  notice(level: 'debug' | 'warn', text: string): void {
    let like = text.split(' ', 2).join(' ');
    if (this.#windows.size >= NOTICE_KINDS && !this.#windows.has(`${level} ${like}`)) like = '';
    const kind = `${level} ${like}`;
    let window = this.#windows.get(kind);
    if (!window) {
      const timer = setTimeout(() => this.#close(kind), NOTICE_WINDOW_MS);
      timer.unref();
      window = { level, like, opened: Date.now(), shown: 0, held: 0, timer };
      this.#windows.set(kind, window);
    }
    if (window.shown < NOTICE_BURST) {
      window.shown++;
      this.#show(level, text);
    } else {
      window.held++;
    }
  }

  /** Ends every window now, saying what each held back (at shutdown). */
  flush(): void {
    for (const kind of [...this.#windows.keys()]) this.#close(kind);
  }

  #close(kind: string): void {
    const window = this.#windows.get(kind);
    if (!window) return;
    clearTimeout(window.timer);
    this.#windows.delete(kind);
    if (window.held > 0) {
      const seconds = Math.max(1, Math.round((Date.now() - window.opened) / 1000));
      const which = window.like ? `like "${window.like} …"` : 'of other kinds';
      this.#show(window.level, `${window.held} more notices ${which} were held back in the last ${seconds} s`);
    }
  }
}
