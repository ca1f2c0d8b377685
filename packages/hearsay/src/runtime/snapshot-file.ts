import type { EventEmitter } from 'node:events';
import { createReadStream } from 'node:fs';
import { chmod, type FileHandle, open, rename, rm, stat } from 'node:fs/promises';
import { OptionError } from '../core/errors.js';
import {
  aliveLine,
  clockLines,
  LEAVE_LINE,
  notAliveLine,
  renderSnapshot,
  type RestoredSnapshot,
  type SerfClocks,
  type SerfLayer,
  SnapshotReader,
  shouldCompact,
  writableName,
} from '../serf/index.js';
import { formatAddress } from '../wire/host-port.js';
import { NameConflictError } from './errors.js';
import type { HearsayNode } from './node.js';
import type { Member } from './types.js';

/** How often the clocks are looked at between member events (Serf's clock update interval). */
const CLOCK_CHECK_MS = 500;
/** Lines waiting for the disk past this are dropped: the next compaction rewrites the whole state from memory instead. */
const MAX_QUEUED_BYTES = 256 * 1024;
/** How long a shutdown waits for the last lines to reach the file. */
const SHUTDOWN_FLUSH_MS = 1000;
/** Notices held for a listener that may never come: the reading's warnings fit, a long run's write errors are cut. */
const MAX_UNTOLD = 64;
/** Serf's name for the compacted file before it is renamed over the snapshot. */
const COMPACT_SUFFIX = '.compact';

/**
 * A node's snapshot file (Serf's `-snapshot`): read at start, then appended to as members come
 * and go and the Lamport clocks move, compacted (a new file renamed over it) when it outgrows
 * the members it holds, synced at a leave and flushed at shutdown. Mode 0600. Never throws
 * once open: a write that fails is reported as a notice, and the next compaction rewrites the
 * state, which is kept in memory.
 */
export class SnapshotFile {
  readonly path: string;
  /** What the file said at start. */
  readonly restored: RestoredSnapshot;
  readonly #rejoinAfterLeave: boolean;
  readonly #alive: Map<string, string>;
  #written: SerfClocks;
  #handle: FileHandle;
  #fileBytes: number;
  #queue: string[] = [];
  #queuedBytes = 0;
  /** Lines were lost (queue overflow, a failed write): only a compaction makes the file whole again. */
  #lost = false;
  #leaving = false;
  /** Closing: nothing more is recorded. */
  #stopped = false;
  #closing: Promise<void> | undefined;
  #writing: Promise<void> | undefined;
  #failing = false;
  #timer: NodeJS.Timeout | undefined;
  #layer: SerfLayer | undefined;
  #node: HearsayNode | undefined;
  /** Notices held until the node has a notice listener. */
  #untold: [level: 'debug' | 'warn', text: string][] | undefined = [];

  private constructor(path: string, restored: RestoredSnapshot, handle: FileHandle, fileBytes: number, rejoinAfterLeave: boolean) {
    this.path = path;
    this.restored = restored;
    this.#handle = handle;
    this.#fileBytes = fileBytes;
    this.#rejoinAfterLeave = rejoinAfterLeave;
    this.#alive = new Map(restored.alive);
    this.#written = restored.clocks;
  }

  /** Reads the file (a missing one is an empty snapshot) and opens it to append; an OptionError if it cannot be used. */
  static async open(path: string, options: { rejoinAfterLeave?: boolean } = {}): Promise<SnapshotFile> {
    const reader = new SnapshotReader(path, options);
    let fileBytes = 0;
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new OptionError(`snapshot ${path} is not a file`);
      fileBytes = info.size;
      // Membership and clocks are not secrets, but Serf's file sits beside the keyring: it is kept as private.
      if ((info.mode & 0o077) !== 0) await chmod(path, 0o600);
      for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 64 * 1024 })) reader.push(chunk as string);
    } catch (error) {
      if (error instanceof OptionError) throw error;
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new OptionError(`cannot read snapshot ${path}: ${(error as Error).message}`);
    }
    let handle: FileHandle;
    try {
      handle = await open(path, 'a', 0o600);
    } catch (error) {
      throw new OptionError(`cannot write snapshot ${path}: ${(error as Error).message}`);
    }
    return new SnapshotFile(path, reader.end(), handle, fileBytes, options.rejoinAfterLeave ?? false);
  }

  /**
   * Starts recording `node`: its Serf layer resumes the saved clocks (before it hears anyone),
   * member events and clock moves are appended from now on, and what could not be read is told
   * as notices once the node has a notice listener. Returns this file.
   */
  attach(node: HearsayNode, layer: SerfLayer): this {
    this.#node = node;
    this.#layer = layer;
    layer.restoreClocks(this.restored.clocks);
    for (const warning of this.restored.warnings) this.tell('warn', warning);
    const unsaid = this.restored.skippedLines - this.restored.warnings.length;
    if (unsaid > 0) this.tell('warn', `${this.path}: ${unsaid} more lines skipped`);
    const up = (member: Member) => this.#memberUp(member);
    for (const type of ['join', 'alive', 'update'] as const) node.on(type, up);
    for (const type of ['failed', 'left'] as const) node.on(type, (member) => this.#memberDown(member.name));
    // Told once someone listens: the node reads the file, and rejoins, before its creator can add a listener.
    const emitter = node as EventEmitter;
    const onListener = (event: string | symbol) => {
      if (event !== 'notice') return;
      emitter.off('newListener', onListener);
      setImmediate(() => {
        const untold = this.#untold ?? [];
        this.#untold = undefined;
        for (const [level, text] of untold) node.emit('notice', level, text);
      });
    };
    emitter.on('newListener', onListener);
    this.#timer = setInterval(() => this.#noteClocks(), CLOCK_CHECK_MS);
    this.#timer.unref();
    this.#kick();
    return this;
  }

  /** A notice from the node, held until it has a listener. */
  tell(level: 'debug' | 'warn', text: string): void {
    if (this.#untold) {
      if (this.#untold.length < MAX_UNTOLD) this.#untold.push([level, text]);
    } else this.#node?.emit('notice', level, text);
  }

  /** Members the file knows alive, but `self`: whom a restart with rejoin joins through. */
  knownMembers(self: string): string[] {
    return [...this.#alive].filter(([name]) => name !== self).map(([, address]) => address);
  }

  /** A graceful leave (Serf's `leave` line): the members are forgotten, so that a restart does not rejoin, and nothing more is recorded. */
  async leave(): Promise<void> {
    if (this.#leaving || this.#stopped) return;
    this.#noteClocks();
    this.#leaving = true;
    if (!this.#rejoinAfterLeave) this.#alive.clear();
    this.#append(LEAVE_LINE);
    await this.#flush();
    await this.#handle.sync().catch(() => {});
  }

  /** Writes the clocks and what is queued (waiting at most {@link SHUTDOWN_FLUSH_MS}) and closes the file. */
  close(): Promise<void> {
    if (!this.#closing) {
      clearInterval(this.#timer);
      this.#noteClocks();
      this.#stopped = true;
      this.#closing = this.#finish();
    }
    return this.#closing;
  }

  async #finish(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_FLUSH_MS)));
    await Promise.race([this.#flush(), late]);
    clearTimeout(timer);
    await this.#handle.close().catch(() => {});
  }

  #memberUp(member: Member): void {
    const address = formatAddress({ host: member.address, port: member.port });
    if (this.#leaving || !writableName(member.name) || this.#alive.get(member.name) === address) return;
    this.#alive.set(member.name, address);
    this.#append(aliveLine(member.name, address));
  }

  #memberDown(name: string): void {
    if (this.#leaving || !this.#alive.delete(name)) return;
    this.#append(notAliveLine(name));
  }

  #noteClocks(): void {
    if (!this.#layer || this.#stopped) return;
    const now = this.#layer.clocks;
    const lines = clockLines(this.#written, now);
    if (lines === '') return;
    this.#written = now;
    this.#append(lines);
  }

  #append(text: string): void {
    if (this.#stopped) return;
    if (this.#queuedBytes + text.length > MAX_QUEUED_BYTES) {
      this.#queue = [];
      this.#queuedBytes = 0;
      this.#lost = true;
    } else {
      this.#queue.push(text);
      this.#queuedBytes += text.length;
    }
    this.#kick();
  }

  /** Starts the writer unless it runs: one write or compaction at a time, in order. */
  #kick(): void {
    this.#writing ??= this.#write().finally(() => {
      this.#writing = undefined;
      if (!this.#failing && (this.#queue.length > 0 || this.#lost)) this.#kick();
    });
  }

  async #flush(): Promise<void> {
    this.#kick();
    while (this.#writing) await this.#writing;
  }

  async #write(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#lost) {
        const text = this.#queue.join('');
        this.#queue = [];
        this.#queuedBytes = 0;
        await this.#handle.write(text);
        this.#fileBytes += Buffer.byteLength(text);
      }
      if (this.#lost || shouldCompact(this.#fileBytes, this.#alive.size)) await this.#compact();
      this.#failing = false;
    } catch (error) {
      this.#lost = true;
      if (!this.#failing)
        this.tell(
          'warn',
          `cannot write snapshot ${this.path}: ${(error as Error).message} (retried at the next change; not said again until a write succeeds)`,
        );
      this.#failing = true;
    }
  }

  /** Rewrites the file from the state in memory: a new file, synced, renamed over the old one (a crash leaves one or the other, whole). */
  async #compact(): Promise<void> {
    const temporary = `${this.path}${COMPACT_SUFFIX}`;
    const text = renderSnapshot({ alive: this.#alive, clocks: this.#written, left: this.#leaving && !this.#rejoinAfterLeave });
    // The state rendered holds what was queued so far; what comes during the rewrite is appended after it.
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#lost = false;
    await rm(temporary, { force: true });
    const file = await open(temporary, 'wx', 0o600);
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, this.path);
    const previous = this.#handle;
    this.#handle = await open(this.path, 'a', 0o600);
    await previous.close().catch(() => {});
    this.#fileBytes = Buffer.byteLength(text);
  }
}

/** Members a rejoin joins through at once (chosen at random among those saved alive): a few answering are enough. */
const REJOIN_SEEDS = 8;

/**
 * Joins through members the snapshot saved alive (Serf's `-rejoin`), with a notice saying how it
 * went; never throws: a node nobody answers runs alone until someone joins it.
 */
export async function rejoinKnownMembers(node: HearsayNode, snapshot: SnapshotFile): Promise<void> {
  const known = snapshot.knownMembers(node.name);
  if (known.length === 0) {
    const why = snapshot.restored.left ? 'it left gracefully last time' : 'the snapshot knows no other member';
    snapshot.tell('debug', `not rejoining: ${why} (${snapshot.path})`);
    return;
  }
  for (let i = known.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [known[i], known[j]] = [known[j]!, known[i]!];
  }
  const seeds = known.slice(0, REJOIN_SEEDS);
  try {
    const contacted = await node.join(seeds);
    snapshot.tell('debug', `rejoined: ${contacted} of ${seeds.length} members saved in ${snapshot.path} answered`);
  } catch (error) {
    if (error instanceof NameConflictError) throw error;
    snapshot.tell('warn', `none of ${seeds.length} members saved in ${snapshot.path} answered; running alone: ${(error as Error).message}`);
  }
}
