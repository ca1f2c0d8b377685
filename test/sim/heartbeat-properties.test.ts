import { detectorProperties } from './detector-suite.js';

detectorProperties({
  detector: 'heartbeat',
  variant: 'fixed thresholds',
  config: {},
  maxNodes: 60,
  numRuns: { crash: 10, falsePositives: 1, pause: 8, tombstones: 3, restart: 6 },
  worstCaseFirst: true,
});

detectorProperties({
  detector: 'heartbeat',
  variant: 'phi accrual (threshold 8)',
  config: { phiThreshold: 8 },
  maxNodes: 60,
  numRuns: { crash: 10, falsePositives: 1, pause: 8, tombstones: 3, restart: 4 },
  worstCaseFirst: true,
});
