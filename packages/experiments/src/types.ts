/** One measurement: a flat record of parameters and results, one CSV row. */
export type Row = Record<string, string | number | boolean | null>;

/** Which simulation a task runs (see scenarios.ts) and with what; plain data, so it crosses to a worker. */
export type Task =
  | { scenario: 'spread'; params: SpreadParams; cost: number }
  | { scenario: 'detection'; params: DetectionParams; cost: number }
  | { scenario: 'falsePositives'; params: FalsePositiveParams; cost: number }
  | { scenario: 'load'; params: LoadParams; cost: number }
  | { scenario: 'sync'; params: SyncParams; cost: number }
  | { scenario: 'rttTimeouts'; params: RttTimeoutParams; cost: number };

/** A node joins a converged cluster, then (optionally) a node crashes: who knows when. */
export interface SpreadParams {
  protocol: 'swim' | 'heartbeat';
  nodes: number;
  /** Gossip fan-out M (memberlist's gossipNodes; heartbeat tables also go to M members). */
  fanout: number;
  /** Gossip period X (memberlist's gossipIntervalMs; heartbeat tables every X too). */
  periodMs: number;
  suspectAfterMs: number;
  failAfterMs: number;
  crash: boolean;
  seed: number;
}

export interface DetectionParams {
  protocol: 'swim' | 'heartbeat' | 'hybrid';
  nodes: number;
  crashes: number;
  crashEveryMs: number;
  seed: number;
}

/** The four detectors compared under packet loss. */
export type Detector = 'swim-lifeguard' | 'swim-plain' | 'heartbeat-fixed' | 'heartbeat-phi';

export interface FalsePositiveParams {
  detector: Detector;
  nodes: number;
  loss: number;
  durationMs: number;
  seed: number;
}

/** `all-to-all`: hybrid heartbeats with a threshold above N, so every node heartbeats every node. */
export type LoadProtocol = 'swim' | 'heartbeat' | 'all-to-all';

export interface LoadParams {
  protocol: LoadProtocol;
  nodes: number;
  durationMs: number;
  seed: number;
}

/** Heartbeat gossip without crashes: how often are the membership lists all in agreement? */
export interface SyncParams {
  nodes: number;
  loss: number;
  periodMs: number;
  fanout: number;
  /** Suspicion threshold in periods: suspectAfter = k·X, failAfter = 2k·X. */
  k: number;
  durationMs: number;
  seed: number;
}

/** The networks of the rtt-timeouts experiment (delays in scenarios.ts). */
export type RttNetwork = 'lan' | 'jitter' | 'two-sites';

/**
 * SWIM with or without per-member direct-ack timeouts from measured RTT: a warm-up (every
 * member probed a few times, so that estimates exist), a crash-free window, then crashes.
 */
export interface RttTimeoutParams {
  network: RttNetwork;
  /** ProtocolConfig.probeTimeoutFromRtt. */
  rtt: boolean;
  nodes: number;
  loss: number;
  warmupMs: number;
  windowMs: number;
  crashes: number;
  crashEveryMs: number;
  seed: number;
}

/** What an experiment is run with. */
export interface RunSettings {
  quick: boolean;
  seeds: number[];
  /** stress only: cluster size and packet loss. */
  nodes: number;
  loss: number;
  /** Wall-clock limit for searches (stress), in ms. */
  searchBudgetMs: number;
}

/** Runs tasks (in worker threads) and returns each task's rows, in task order. */
export type TaskRunner = (tasks: Task[], label: string) => Promise<Row[][]>;

/** A figure: a Vega-Lite spec drawn to NAME.svg and NAME.png. */
export interface Figure {
  name: string;
  caption: string;
  spec: Record<string, unknown>;
}

export interface Experiment {
  name: string;
  title: string;
  /** The research question, one sentence. */
  question: string;
  /** CSV columns, in order: every parameter, then every result. */
  columns: readonly string[];
  /** Columns that identify a measurement, to sort rows whatever order the runs finished in. */
  sortBy: readonly string[];
  /** Runs the simulations and returns one row per measurement. */
  run(settings: RunSettings, runTasks: TaskRunner): Promise<Row[]>;
  /** The parameter table of the report: [name, value]. */
  parameters(settings: RunSettings): [string, string][];
  figures(rows: Row[], settings: RunSettings): Figure[];
  /** Markdown: the reading of the result and its agreement with theory. */
  reading(rows: Row[], settings: RunSettings): string;
}
