/** The metrics shared by the simulator's counterpart and the lab: observations in, ResultRow figures out. */
export {
  formedCluster,
  isUp,
  pausedWithin,
  upThroughout,
  type Interval,
  type Observation,
  type ObservationType,
  type PauseInterval,
  type UpIntervals,
} from './observations.js';
export { isConverged, isListedAlive, replayViews, viewsAt, type ListedStatus, type Moment, type View, type Views } from './views.js';
export { convergenceS, declarers, deliveries, detection, failuresAbout, falseFailures, ghosts, peakMembers, type FalseFailureRules } from './figures.js';
export { scenarioFigures, type ScenarioRun, type WindowCounts } from './scenario-figures.js';
