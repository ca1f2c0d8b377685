/**
 * The levels `GET /v1/monitor` and `hearsay monitor --log-level` take, from the most to the least
 * verbose: pino's, `silent` aside. A file of its own so that the CLI checks the flag without loading pino.
 */
export const MONITOR_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type MonitorLevel = (typeof MONITOR_LEVELS)[number];
