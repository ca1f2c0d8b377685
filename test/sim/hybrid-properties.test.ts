import { describe } from 'vitest';
import { heartbeatProperties } from './heartbeat-suite.js';

// A threshold of 40 within clusters of 5 … 60 nodes: runs of both regimes, all-to-all direct
// heartbeats and gossiped tables; the false-positive run at N = 100 is all-to-all (the default H).
describe('simulated hybrid detector: properties over seeds (fast-check, fixed seeds)', () => {
  heartbeatProperties({
    protocol: 'hybrid',
    config: { hybridThreshold: 40 },
    falsePositiveConfig: { hybridThreshold: 100 },
    maxNodes: 60,
    numRuns: { crash: 10, falsePositives: 1, pause: 8, tombstones: 3, restart: 6 },
  });
});
