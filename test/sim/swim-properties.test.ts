import { detectorProperties } from './detector-suite.js';

detectorProperties({
  detector: 'swim',
  config: {},
  maxNodes: 200,
  numRuns: { crash: 14, falsePositives: 4, pause: 12, partition: 10 },
  worstCaseFirst: false,
});
