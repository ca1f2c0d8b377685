import { describe } from 'vitest';
import { heartbeatProperties } from './heartbeat-suite.js';

describe('simulated heartbeat gossip, fixed thresholds: properties over seeds (fast-check, fixed seeds)', () => {
  heartbeatProperties({
    protocol: 'heartbeat',
    config: {},
    maxNodes: 60,
    numRuns: { crash: 10, falsePositives: 1, pause: 8, tombstones: 3, restart: 6 },
  });
});

describe('simulated heartbeat gossip, phi accrual (threshold 8): properties over seeds (fast-check, fixed seeds)', () => {
  heartbeatProperties({
    protocol: 'heartbeat',
    config: { phiThreshold: 8 },
    // The core searches phi's threshold crossing at every sign of life, which makes these runs
    // four to five times slower: two virtual minutes at N = 100 instead of ten, fewer restarts.
    falsePositiveMs: 120_000,
    maxNodes: 60,
    numRuns: { crash: 10, falsePositives: 1, pause: 8, tombstones: 3, restart: 4 },
  });
});
