import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import { countDrop } from 'hearsay/core';
import type { AgentStats } from './agent-stats.js';

/** Lines of a run's output logged; the rest is read and thrown away (a handler must never block on a full pipe), and counted. */
const MAX_LOGGED_LINES = 100;
/** A logged line is cut to this many characters. */
const MAX_LINE_CHARS = 1000;
/** What a query's answer may hold; Serf's answers are limited to 1024 bytes anyway. */
export const MAX_ANSWER_BYTES = 4096;

export interface HandlerRun {
  readonly command: string;
  readonly env: Record<string, string>;
  readonly stdin: Uint8Array;
  readonly timeoutMs: number;
  /** Keep stdout (up to MAX_ANSWER_BYTES) as the answer rather than log it. */
  readonly captureStdout: boolean;
  /** Fields every logged line carries: which handler, which event. */
  readonly logFields: Record<string, unknown>;
}

export interface HandlerOutcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  /** Set when the process could not be started. */
  readonly error?: Error;
  readonly stdout: Buffer;
  /** The end of stderr, for the warning when the run failed. */
  readonly stderrTail: string;
}

/**
 * Runs one handler command through /bin/sh in a process group of its own (at the time limit the
 * shell and whatever it started are killed together, and `stopAll` kills every group at shutdown).
 * Its output is logged line by line, bounded; never throws.
 */
export class HandlerProcesses {
  readonly #log: Logger;
  readonly #stats: AgentStats;
  readonly #groups = new Set<number>();

  constructor(log: Logger, stats: AgentStats) {
    this.#log = log;
    this.#stats = stats;
  }

  stopAll(): void {
    for (const group of this.#groups) killGroup(group);
  }

  run(run: HandlerRun): Promise<HandlerOutcome> {
    return new Promise((resolve) => {
      let child: ReturnType<typeof spawn>;
      try {
        child = spawn('/bin/sh', ['-c', run.command], { detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...run.env } });
      } catch (error) {
        resolve({ code: null, signal: null, timedOut: false, error: error as Error, stdout: Buffer.alloc(0), stderrTail: '' });
        return;
      }
      const group = child.pid;
      if (group !== undefined) this.#groups.add(group);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        if (group !== undefined) killGroup(group);
      }, run.timeoutMs);
      const lines = new LineLogger(this.#log, this.#stats, run.logFields);
      const answer: Buffer[] = [];
      let answerBytes = 0;
      child.stdout!.on('data', (chunk: Buffer) => {
        if (!run.captureStdout) return lines.write('stdout', chunk);
        if (answerBytes < MAX_ANSWER_BYTES) answer.push(chunk);
        answerBytes += chunk.length;
      });
      let stderrTail = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        stderrTail = (stderrTail + chunk.toString()).slice(-500);
        lines.write('stderr', chunk);
      });
      child.stdin!.on('error', () => {}); // a command that does not read its stdin closes it early
      child.stdin!.end(run.stdin);
      let error: Error | undefined;
      child.on('error', (spawnError) => (error = spawnError));
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (group !== undefined) this.#groups.delete(group);
        lines.end();
        const stdout = Buffer.concat(answer).subarray(0, MAX_ANSWER_BYTES);
        resolve({ code, signal, timedOut, stdout, stderrTail, ...(error ? { error } : {}) });
      });
    });
  }
}

/** A run's output as log lines: each stream split at newlines, at most MAX_LOGGED_LINES in all, each cut to MAX_LINE_CHARS. */
class LineLogger {
  readonly #log: Logger;
  readonly #stats: AgentStats;
  readonly #fields: Record<string, unknown>;
  readonly #partial = { stdout: '', stderr: '' };
  #logged = 0;
  #cut = false;

  constructor(log: Logger, stats: AgentStats, fields: Record<string, unknown>) {
    this.#log = log;
    this.#stats = stats;
    this.#fields = fields;
  }

  write(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    if (this.#cut) return;
    const parts = (this.#partial[stream] + chunk.toString()).split('\n');
    this.#partial[stream] = parts.pop()!.slice(0, MAX_LINE_CHARS + 1);
    for (const line of parts) this.#line(stream, line);
  }

  end(): void {
    for (const stream of ['stdout', 'stderr'] as const) if (this.#partial[stream] !== '') this.#line(stream, this.#partial[stream]);
  }

  #line(stream: 'stdout' | 'stderr', line: string): void {
    if (this.#cut) return;
    if (this.#logged >= MAX_LOGGED_LINES) {
      this.#cut = true;
      countDrop(this.#stats, 'event-handler-output-cut');
      this.#log.warn(this.#fields, `event handler output beyond ${MAX_LOGGED_LINES} lines: the rest is not logged`);
      return;
    }
    this.#logged++;
    this.#log.info({ ...this.#fields, stream, line: line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line }, 'event handler output');
  }
}

function killGroup(group: number): void {
  try {
    process.kill(-group, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
