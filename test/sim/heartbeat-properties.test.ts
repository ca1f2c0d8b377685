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
    maxNodes: 60,
    numRuns: { crash: 10, falsePositives: 1, pause: 8, tombstones: 3, restart: 4 },
  });
});
