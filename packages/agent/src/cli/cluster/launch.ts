import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fetchSelf } from './api.js';
import { CommandFailure } from './failure.js';
import { logTail, spawnAgent, stopAgent } from './spawn.js';
import { HOST, HTTP_OFFSET, keyringDir, keyringPath, logPath, type NodeRecord } from './state.js';

/** An agent just started, not yet known to be ready. */
export interface Launched {
  record: NodeRecord;
  child: ChildProcess;
  /** Set when the process exits before it is ready. */
  exit?: string;
}

/**
 * An encrypted cluster's key goes to each agent as a keyring file of its own rather than as
 * `--encrypt`: a rotation (`hearsay keys`) rewrites the files, and an agent added later starts
 * from its peer's current keys instead of the key the cluster was started with.
 */
function keyringFlags(home: string, name: string, flags: string[], peer: string | undefined): string[] {
  const at = flags.indexOf('--encrypt');
  if (at < 0 || flags.includes('--keyring-file')) return flags;
  const path = keyringPath(home, name);
  mkdirSync(keyringDir(home), { recursive: true, mode: 0o700 });
  const peerFile = peer === undefined ? undefined : keyringPath(home, peer);
  if (peerFile && existsSync(peerFile)) copyFileSync(peerFile, path);
  else writeFileSync(path, `${JSON.stringify([flags[at + 1]])}\n`, { mode: 0o600 });
  return [...flags.slice(0, at), ...flags.slice(at + 2), '--keyring-file', path];
}

/** Starts one agent, printing `Starting node: NAME ADDR with peers [SEEDS]` like the seed tool. */
export function launchNode(home: string, name: string, port: number, seeds: string[], flags: string[], peer?: string): Launched {
  const bind = `${HOST}:${port}`;
  const http = `${HOST}:${port + HTTP_OFFSET}`;
  const log = logPath(home, name);
  process.stdout.write(`Starting node: ${name} ${bind} with peers [${seeds.join(' ')}]\n`);
  const child = spawnAgent({ name, bind, http, join: seeds, flags: keyringFlags(home, name, flags, peer), log });
  if (child.pid === undefined) throw new CommandFailure(`could not start ${name}: ${process.execPath} did not start`);
  const launched: Launched = {
    record: { name, pid: child.pid, port, http, log, seed: seeds[0] ?? null, down: false, started_at: new Date().toISOString() },
    child,
  };
  child.once('exit', (code, signal) => {
    launched.exit = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  });
  child.once('error', (error) => {
    launched.exit = `could not be started: ${error.message}`;
  });
  return launched;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Waits until every agent answers GET /v1/self, up to the deadline (epoch ms). Returns the first
 * that exited or did not answer in time, with why, or null when all are ready.
 */
export async function waitReady(nodes: Launched[], deadline: number): Promise<{ node: Launched; why: string } | null> {
  const pending = new Set(nodes);
  while (pending.size > 0) {
    for (const node of pending) {
      if (node.exit) return { node, why: node.exit };
    }
    await Promise.all(
      [...pending].map(async (node) => {
        try {
          await fetchSelf(`http://${node.record.http}`, 1_000);
          pending.delete(node);
        } catch {
          // not listening yet
        }
      }),
    );
    if (pending.size === 0) break;
    if (Date.now() >= deadline) {
      const node = [...pending][0]!;
      return { node, why: node.exit ?? `did not answer GET http://${node.record.http}/v1/self in time` };
    }
    await sleep(100);
  }
  return null;
}

/** The failure message for an agent that did not start: why, and the tail of its log. */
export function startFailure(node: Launched, why: string): string {
  return `${node.record.name} (pid ${node.record.pid}) did not start: it ${why}\nlast lines of ${node.record.log}:\n${logTail(node.record.log)}`;
}

/** Stops agents started by this command (after a failure), in parallel. */
export async function stopStarted(nodes: Launched[]): Promise<void> {
  await Promise.all(nodes.map((node) => stopAgent(node.record.pid, node.record.name, 3_000)));
}
