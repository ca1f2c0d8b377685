import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UsageError } from '../usage-error.js';
import { CommandFailure } from './failure.js';

/** Every agent of a local cluster listens on this host. */
export const HOST = '127.0.0.1';
/** An agent's HTTP API listens on its gossip port plus this. */
export const HTTP_OFFSET = 10_000;

/** One agent started by `cluster up` or `cluster add`. */
export interface NodeRecord {
  name: string;
  pid: number;
  /** Gossip port (UDP and TCP) on 127.0.0.1. */
  port: number;
  /** HTTP API address, host:port. */
  http: string;
  /** Absolute path of its log file (stdout and stderr). */
  log: string;
  /** The gossip address it joined through (null for the first node). */
  seed: string | null;
  /** Killed by `cluster kill`; the record is kept. */
  down: boolean;
  started_at: string;
  down_at?: string;
}

/** $HEARSAY_HOME/cluster.json. */
export interface ClusterState {
  version: 1;
  host: string;
  base_port: number;
  /** Agent flags given to `cluster up`, passed to every agent (also those `cluster add` starts). */
  agent_flags: string[];
  nodes: NodeRecord[];
}

/** The state directory: $HEARSAY_HOME, or ./.hearsay. */
export function hearsayHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.HEARSAY_HOME && env.HEARSAY_HOME.trim() !== '' ? env.HEARSAY_HOME : '.hearsay');
}

export const statePath = (home: string): string => join(home, 'cluster.json');
export const logDir = (home: string): string => join(home, 'logs');
export const logPath = (home: string, name: string): string => join(logDir(home), `${name}.log`);
export const keyringDir = (home: string): string => join(home, 'keys');
/** Each agent's keyring file, when the cluster is encrypted: key rotations rewrite it. */
export const keyringPath = (home: string, name: string): string => join(keyringDir(home), `${name}.json`);

/** The recorded cluster, or null if none is recorded. */
export function readState(home: string): ClusterState | null {
  const path = statePath(home);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CommandFailure(`cannot read ${path}: ${(error as Error).message}`);
  }
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch (error) {
    throw new CommandFailure(`${path} is not valid JSON (${(error as Error).message}): remove it, and stop any agent it recorded by hand`);
  }
  if (!isState(state)) {
    throw new CommandFailure(`${path} is not a hearsay cluster state (expected {version: 1, nodes: [...]}): remove it, and stop any agent it recorded by hand`);
  }
  return state;
}

/** The recorded cluster; a failure saying how to start one if none is recorded. */
export function requireState(home: string): ClusterState {
  const state = readState(home);
  if (!state) {
    throw new CommandFailure(`no cluster is recorded in ${home}: start one with \`hearsay cluster up --size N\` (or set HEARSAY_HOME)`);
  }
  return state;
}

/** Writes the state atomically (a temporary file renamed over the old one). */
export function writeState(home: string, state: ClusterState): void {
  mkdirSync(home, { recursive: true });
  const path = statePath(home);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temporary, path);
}

/**
 * Removes cluster.json, the agents' keyring files and, unless kept, the log files of the
 * recorded nodes; then the folders and the state directory if nothing else is left in them. Never removes files it did
 * not create, so a HEARSAY_HOME that holds other things survives.
 */
export function removeState(home: string, state: ClusterState | null, keepLogs = false): void {
  rmSync(statePath(home), { force: true });
  if (!keepLogs) {
    const ours = new Set((state?.nodes ?? []).map((node) => node.log));
    if (existsSync(logDir(home))) {
      for (const file of readdirSync(logDir(home))) {
        const path = join(logDir(home), file);
        if (ours.has(path) || /^node-\d+\.log$/.test(basename(file))) rmSync(path, { force: true });
      }
    }
  }
  if (existsSync(keyringDir(home))) {
    for (const file of readdirSync(keyringDir(home))) if (/^node-\d+\.json$/.test(file)) rmSync(join(keyringDir(home), file), { force: true });
  }
  removeIfEmpty(logDir(home));
  removeIfEmpty(keyringDir(home));
  removeIfEmpty(home);
}

function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // Missing or not empty: leave it.
  }
}

/** node-0 → 0; other names → -1. */
export function nodeIndex(name: string): number {
  const match = /^node-(\d+)$/.exec(name);
  return match ? Number(match[1]) : -1;
}

/** The name `cluster add` gives the next node: one past the highest recorded index. */
export function nextNodeName(state: ClusterState): string {
  return `node-${Math.max(-1, ...state.nodes.map((node) => nodeIndex(node.name))) + 1}`;
}

/** Orders names naturally: node-2 before node-10. */
export function byName(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** A node by name, or a usage error listing the recorded names. */
export function findNode(state: ClusterState, name: string): NodeRecord {
  const node = state.nodes.find((n) => n.name === name);
  if (!node) {
    throw new UnknownNodeError(
      name,
      state.nodes.map((n) => n.name),
    );
  }
  return node;
}

/** Asked for a node the state does not record: a usage error (exit code 2). */
export class UnknownNodeError extends UsageError {
  override name = 'UnknownNodeError';
  constructor(
    readonly node: string,
    readonly known: string[],
  ) {
    super(`no node named "${node}" in the cluster: its nodes are ${known.join(', ') || 'none'}`);
  }
}

function isState(value: unknown): value is ClusterState {
  if (typeof value !== 'object' || value === null) return false;
  const state = value as Partial<ClusterState>;
  return (
    state.version === 1 &&
    Array.isArray(state.nodes) &&
    Array.isArray(state.agent_flags) &&
    state.nodes.every(
      (node) =>
        typeof node === 'object' &&
        node !== null &&
        typeof node.name === 'string' &&
        Number.isInteger(node.pid) &&
        Number.isInteger(node.port) &&
        typeof node.http === 'string' &&
        typeof node.log === 'string',
    )
  );
}
