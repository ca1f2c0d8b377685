/**
 * Helpers for scripts that drive hearsay agents as processes: where the CLI is, a JSON client for
 * the HTTP API, the tail of an agent's log and the CLI's duration syntax. The benchmarks use them.
 */
export { fetchMembers, requestJson, type Member, type RequestOptions } from './cli/cluster/api.js';
export { cliPath, logTail } from './cli/cluster/spawn.js';
export { parseDuration } from './cli/parse.js';
