/**
 * The one way the tests wait for something that happens on its own time (a cluster converging, an
 * agent answering, a file appearing): poll a check until it holds, with a bound, and fail naming
 * what was awaited. Never sleep for a fixed time and hope instead.
 */

export interface WaitOptions {
  /** Give up after this long (default 30 s: a ceiling for a loaded machine, not an expected time). */
  readonly timeoutMs?: number;
  /** Time between two checks (default 50 ms). */
  readonly intervalMs?: number;
  /**
   * Whether an error thrown by the check means “not yet” (true, or a predicate choosing which
   * errors do) rather than failing at once (false, the default). The last such error is named in
   * the timeout message.
   */
  readonly retryErrors?: boolean | ((error: unknown) => boolean);
  /** More to say on timeout, e.g. the last state seen; appended to the message on its own line. */
  readonly detail?: () => string;
}

/** What a check returns while the awaited condition does not hold yet. */
export type NotYet = false | undefined | null;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `check` (sync or async) every `intervalMs` until the awaited condition holds, checks once
 * more at the deadline, then rejects with `timed out after <timeoutMs> ms waiting for
 * <description>`. A boolean check holds when it returns true; any other check holds when it
 * returns something other than false, undefined or null, and waitFor resolves with that value.
 *
 * @example await waitFor('3 alive everywhere', () => nodes.every((n) => n.members().length === 3));
 * @example const row = await waitFor('node-3 failed', async () => (await table()).find((r) => r.failed), { timeoutMs: 10_000 });
 */
export function waitFor(description: string, check: () => boolean | Promise<boolean>, options?: WaitOptions): Promise<void>;
export function waitFor<T>(description: string, check: () => T | NotYet | Promise<T | NotYet>, options?: WaitOptions): Promise<T>;
export async function waitFor<T>(description: string, check: () => T | NotYet | Promise<T | NotYet>, options: WaitOptions = {}): Promise<T | undefined> {
  const { timeoutMs = 30_000, intervalMs = 50, retryErrors = false, detail } = options;
  const retries = typeof retryErrors === 'function' ? retryErrors : () => retryErrors;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value === true) return undefined;
      if (value !== false && value !== undefined && value !== null) return value;
      lastError = undefined;
    } catch (error) {
      if (!retries(error)) throw error;
      lastError = error;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const cause = lastError === undefined ? '' : ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
      const more = detail ? `\n${detail()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${cause}${more}`, lastError === undefined ? undefined : { cause: lastError });
    }
    await sleep(Math.min(intervalMs, left));
  }
}
