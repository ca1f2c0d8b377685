import { detectorProperties } from './detector-suite.js';

// A threshold of 40 within clusters of 5 … 60 nodes: runs of both regimes, all-to-all direct
// heartbeats and gossiped tables; the false-positive run at N = 100 is all-to-all (the default H).
detectorProperties({
  detector: 'hybrid',
  variant: 'threshold 40',
  config: { hybridThreshold: 40 },
  falsePositiveConfig: { hybridThreshold: 100 },
  maxNodes: 60,
  numRuns: { crash: 10, falsePositives: 1, pause: 8, tombstones: 3, restart: 6 },
  worstCaseFirst: true,
});
