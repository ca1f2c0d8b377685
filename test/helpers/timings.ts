/** The protocol timings of the tests that run nodes over real sockets. */

/**
 * Faster than LAN so that the real-socket tests take seconds, not minutes: a probe every 500 ms
 * (minimum suspicion 4 × 500 ms = 2 s), gossip every 100 ms, push/pull every 5 s. A test that
 * needs a variant spreads it at the use site: `{ ...FAST, pushPullIntervalMs: 800 }`.
 */
export const FAST = { probeIntervalMs: 500, probeTimeoutMs: 250, gossipIntervalMs: 100, pushPullIntervalMs: 5000, tcpTimeoutMs: 2000 };
