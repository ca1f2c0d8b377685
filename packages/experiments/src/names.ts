/** The experiments by name, in a module of their own: the CLI lists them without loading the plotting stack. */
export const EXPERIMENT_NAMES = ['convergence', 'detection', 'false-positives', 'load', 'rtt-timeouts', 'stress'] as const;

export type ExperimentName = (typeof EXPERIMENT_NAMES)[number];
