/**
 * Helpers for the cluster and members CLI tests: run the built CLI (dist/cli/main.js) with a
 * HEARSAY_HOME of its own, find free ports, poll them (CLI_POLL), and clean up every agent a test
 * started (by recorded PID only).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { portBusy } from '../../packages/agent/src/cli/cluster/ports.js';
import { agentRunning, commandLine } from '../../packages/agent/src/cli/cluster/spawn.js';
import type { ClusterState } from '../../packages/agent/src/cli/cluster/state.js';

export const CLI = fileURLToPath(new URL('../../packages/agent/dist/cli/main.js', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli/main.js …args` asynchronously (so servers in this process keep answering). */
export function hearsay(env: NodeJS.ProcessEnv, args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, ...env }, timeout: timeoutMs, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

export { sleep } from '../helpers/wait.js';

/** How the CLI tests poll (with `waitFor`): every 250 ms, an error (an agent not up yet) meaning “not yet”. */
export const CLI_POLL = { intervalMs: 250, retryErrors: true } as const;

/** A base port whose next `count` ports and their HTTP ports (+10000) are all free, probed. */
export async function freeBasePort(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 10_000);
    let free = true;
    for (let port = base; port < base + count && free; port++) {
      free = (await portBusy(port)) === null && (await portBusy(port + 10_000)) === null;
    }
    if (free) return base;
  }
  throw new Error(`no ${count} free consecutive ports (and their +10000) found in 20000…30000`);
}

/** A fresh HEARSAY_HOME that remembers every agent PID it saw recorded, to clean up after. */
export class TestHome {
  readonly dir = join(mkdtempSync(join(tmpdir(), 'hearsay-cluster-')), 'home');
  readonly env: NodeJS.ProcessEnv = { HEARSAY_HOME: this.dir };
  /** Every node ever recorded, by PID. */
  readonly seen = new Map<number, string>();

  run(...args: string[]): Promise<Run> {
    return hearsay(this.env, args).finally(() => this.remember());
  }

  state(): ClusterState | null {
    try {
      return JSON.parse(readFileSync(join(this.dir, 'cluster.json'), 'utf8')) as ClusterState;
    } catch {
      return null;
    }
  }

  remember(): void {
    for (const node of this.state()?.nodes ?? []) this.seen.set(node.pid, node.name);
  }

  /** `cluster down`, then SIGKILL any recorded agent still running, then remove the directory. */
  async cleanup(): Promise<void> {
    this.remember();
    await hearsay(this.env, ['cluster', 'down', '--grace', '3s']).catch(() => undefined);
    for (const [pid, name] of this.seen) {
      if (agentRunning(pid, name)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    rmSync(join(this.dir, '..'), { recursive: true, force: true });
  }
}

/** Whether a PID is gone: no such process, or a zombie waiting to be reaped. */
export const gone = (pid: number): boolean => commandLine(pid) === null;
