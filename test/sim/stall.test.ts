/**
 * The overloaded-process rule on the simulator. A node whose event loop lags, each turn taking
 * 1.2 to 2 s of work, is modelled as back-to-back pauses: at each turn's start its overdue timers
 * fire, then it reads what arrived during the turn (as Node.js does, and as the simulator does
 * after a pause). Without the rule, the verdict on the probe it sent at the previous turn fired
 * before it read the ack, and it suspected a live member: 1 or 2 times in each of 20 runs of 20 s
 * of lag at N = 8 (measured with the rule switched off). With it: none, and no other member fails.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildSimulation } from '../../packages/hearsay/src/sim/index.js';

/** Turns of `turnMs` from `fromMs` for `forMs`: pauses that leave the node 0.1 ms to run between them (less than a round trip). */
function laggingLoop(name: string, fromMs: number, forMs: number, turnMs: number) {
  const pauses = [];
  for (let at = fromMs; at < fromMs + forMs; at += turnMs + 0.1) pauses.push({ name, atMs: at, forMs: turnMs });
  return pauses;
}

describe('a node whose event loop lags accuses no one', () => {
  it('turns of 1.2–2 s for 20 s: no suspicion raised by the lagging node, no other member failed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1200, max: 2000 }), (seed, turnMs) => {
        const sim = buildSimulation({
          nodes: 8,
          seed,
          durationMs: 40_000,
          profile: 'lan',
          start: 'converged',
          delayMs: 0.2,
          jitterMs: 0.1,
          pauses: laggingLoop('n3', 10_000, 20_000, turnMs),
        });
        const lagging = sim.indexOf('n3');
        let suspicionsByLagging = 0;
        let failuresOfOthers = 0;
        sim.eventListeners.push((observer, member, event) => {
          if (observer === lagging && event.type === 'suspect') suspicionsByLagging++;
          // The lagging node itself answers once a turn: others may judge it, rightly.
          if (event.type === 'failed' && member !== lagging) failuresOfOthers++;
        });
        sim.runUntil(40_000);
        expect(sim.node(lagging)!.stats.stalls).toBeGreaterThan(0);
        expect(suspicionsByLagging).toBe(0);
        expect(failuresOfOthers).toBe(0);
      }),
      { seed: 16, numRuns: 30 },
    );
  });
});
