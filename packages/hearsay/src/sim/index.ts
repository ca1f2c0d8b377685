/** The simulated driver: the real core on a virtual clock and a modelled network. */
export { simulate, buildSimulation } from './simulate.js';
export { Simulation } from './simulator.js';
export { simHost } from './network.js';
export { summarize } from './summary.js';
export { verdictTraces, episodeStart, type VerdictTrace, type VerdictEpisode } from './traces.js';
export {
  swimPeriodsToFirstProbe,
  swimFirstSuspicionMs,
  roundRobinFirstSuspicionMs,
  swimFirstVerdictMs,
  maxSuspicionTimeoutMs,
  heartbeatSpreadBoundMs,
  heartbeatDetectionBoundMs,
  longestVerdictMs,
} from './bounds.js';
export type {
  SimOptions,
  SimResult,
  PauseSpec,
  PartitionSpec,
  RestartSpec,
  LeaveSpec,
  LinkSpec,
  BlockSpec,
  SwitchSpec,
  UserEventSpec,
  QuerySpec,
} from './scenario.js';
export type { UserEventReport, SimQueryReport } from './serf-reports.js';
export type { CrashReport, LeaveReport } from './observer.js';
export type { SwitchReport } from './switches.js';
export { loadPerRound, roundMs, type RoundLoad, type SimTraffic } from './load.js';
