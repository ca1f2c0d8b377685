/** The simulated driver: the real core on a virtual clock and a modelled network. */
export { simulate, buildSimulation } from './simulate.js';
export { Simulation, summarize, swimFirstSuspicionMs, roundRobinFirstSuspicionMs, simHost } from './simulator.js';
export type { SimOptions, SimResult, PauseSpec, PartitionSpec, RestartSpec, LeaveSpec, LinkSpec, SwitchSpec } from './scenario.js';
export type { CrashReport, LeaveReport } from './observer.js';
export type { SwitchReport } from './switches.js';
export { loadPerRound, roundMs, type RoundLoad, type SimTraffic } from './load.js';
