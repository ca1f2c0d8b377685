import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import { OptionError, type HearsayNode, type IncomingQuery } from '../runtime/index.js';

/** A shell command that answers the queries of one name (`*`: every name without a handler of its own). */
export interface QueryHandler {
  readonly name: string;
  readonly command: string;
}

/** Output beyond this is not read: Serf's answers are limited to 1024 bytes anyway. */
const MAX_OUTPUT_BYTES = 4096;

/** `NAME=COMMAND`, e.g. `uptime=uptime` or `*=./answer.sh`. */
export function parseQueryHandler(text: string): QueryHandler {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) throw new OptionError(`"${text}" is not a query handler: use NAME=COMMAND, like load=uptime (NAME * for any query)`);
  return { name: text.slice(0, eq), command: text.slice(eq + 1) };
}

/**
 * Answers queries as Serf agents' `query:` event handlers do: the command runs in /bin/sh with
 * the payload on stdin and the query in its environment (HEARSAY_QUERY_* and Serf's SERF_EVENT,
 * SERF_QUERY_NAME, SERF_QUERY_LTIME, so Serf handler scripts work unchanged); what it prints
 * is the answer, if it exits 0 before the query's deadline. A command still running at the
 * deadline is killed. Returns a function that kills every command still running (at shutdown).
 */
export function attachQueryHandlers(node: HearsayNode, handlers: readonly QueryHandler[], log: Logger): () => void {
  const running = new Set<number>();
  if (handlers.length > 0) {
    node.on('query', (query) => {
      const handler = handlers.find((h) => h.name === query.name) ?? handlers.find((h) => h.name === '*');
      if (handler) runHandler(handler, query, node.name, log, running);
    });
  }
  return () => {
    for (const group of running) killGroup(group);
  };
}

function killGroup(group: number): void {
  try {
    process.kill(-group, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function runHandler(handler: QueryHandler, query: IncomingQuery, self: string, log: Logger, running: Set<number>): void {
  // A process group of its own: at the deadline the shell and whatever it started are killed together.
  const child = spawn('/bin/sh', ['-c', handler.command], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      HEARSAY_NODE: self,
      HEARSAY_QUERY_NAME: query.name,
      HEARSAY_QUERY_FROM: query.from,
      HEARSAY_QUERY_LTIME: String(query.ltime),
      SERF_EVENT: 'query',
      SERF_SELF_NAME: self,
      SERF_QUERY_NAME: query.name,
      SERF_QUERY_LTIME: String(query.ltime),
    },
  });
  const chunks: Buffer[] = [];
  let size = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    if (size < MAX_OUTPUT_BYTES) chunks.push(chunk);
    size += chunk.length;
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-500)));
  child.stdin.on('error', () => {}); // a command that does not read its stdin closes it early
  child.stdin.end(query.payload);
  const group = child.pid;
  if (group !== undefined) running.add(group);
  const timer = setTimeout(() => group !== undefined && killGroup(group), Math.max(0, query.deadline - Date.now()));
  child.on('error', (error) => {
    clearTimeout(timer);
    log.warn({ query: query.name, command: handler.command, err: error.message }, 'query handler could not run');
  });
  child.on('close', (code, signal) => {
    clearTimeout(timer);
    if (group !== undefined) running.delete(group);
    if (code !== 0) {
      log.warn({ query: query.name, command: handler.command, code, signal, stderr }, 'query handler failed: no answer sent');
      return;
    }
    try {
      query.respond(Buffer.concat(chunks).subarray(0, MAX_OUTPUT_BYTES));
      log.debug({ query: query.name, from: query.from }, 'query answered');
    } catch (error) {
      log.warn({ query: query.name, command: handler.command, err: (error as Error).message }, 'query answer not sent');
    }
  });
}
