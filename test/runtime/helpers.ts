/** What the runtime tests share: fast timings and polling for a condition. */

/** Faster than LAN so that the tests take seconds: min suspicion 4 × 500 ms = 2 s. */
export const FAST = { probeIntervalMs: 500, probeTimeoutMs: 250, gossipIntervalMs: 100, pushPullIntervalMs: 5000, tcpTimeoutMs: 2000 };

/** Polls `check` every 50 ms until it holds; rejects after `timeoutMs` naming what was awaited. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
