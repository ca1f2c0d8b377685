import { Command, InvalidArgumentError, Option } from 'commander';
import { parseDuration, parsePositiveCount } from '../parse.js';
import type { Member } from './api.js';
import { diffEvents, followEvents, type MemberEvent } from './events.js';
import { failing } from './failure.js';
import { renderMatrix } from './matrix.js';
import { hearsayHome, readState, requireState, type NodeRecord } from './state.js';
import { Screen } from './screen.js';
import { baseUrl, fetchViews } from './views.js';

interface WatchFlags {
  interval: number;
  once?: boolean;
  events: number;
}

function parseInterval(text: string): number {
  const value = parseDuration(text);
  if (value < 50) throw new InvalidArgumentError(`"${text}" is too short: use at least 50ms`);
  return value;
}

export function watchCommand(): Command {
  return new Command('watch')
    .description('a live matrix of who sees whom how (rows: observers, columns: members) and recent events, until Ctrl-C')
    .addOption(new Option('--interval <duration>', 'refresh period').argParser(parseInterval).default(500, '500ms'))
    .option('--once', 'print one frame and exit')
    .addOption(new Option('--events <n>', 'how many recent events to show').argParser(parsePositiveCount).default(6))
    .action(failing((flags: WatchFlags) => (flags.once ? once(flags) : watch(flags))));
}

async function once(flags: WatchFlags): Promise<void> {
  const state = requireState(hearsayHome());
  const views = await fetchViews(state.nodes, Math.max(flags.interval, 1_000));
  const lines = renderMatrix({ views, events: [], now: Date.now(), intervalMs: flags.interval, eventLines: 0 });
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Events of each live node: its /v1/events stream, or the differences between polls while there is none. */
class EventFeed {
  readonly events: MemberEvent[] = [];
  private readonly streams = new Map<string, { abort: AbortController; open: boolean; retryAt: number }>();
  private readonly previous = new Map<string, Member[]>();

  constructor(private readonly keep: number) {}

  private push(event: MemberEvent): void {
    this.events.push(event);
    if (this.events.length > this.keep) this.events.splice(0, this.events.length - this.keep);
  }

  /** Opens a stream to each node that is up, closes those of nodes that are not. */
  follow(up: NodeRecord[]): void {
    const names = new Set(up.map((n) => n.name));
    for (const [name, stream] of this.streams) {
      if (!names.has(name)) {
        stream.abort.abort();
        this.streams.delete(name);
      }
    }
    for (const node of up) {
      const existing = this.streams.get(node.name);
      if (existing && (existing.open || Date.now() < existing.retryAt || !existing.abort.signal.aborted)) continue;
      const stream = { abort: new AbortController(), open: false, retryAt: 0 };
      this.streams.set(node.name, stream);
      const closed = () => {
        stream.open = false;
        stream.retryAt = Date.now() + 5_000; // without a stream, polls stand in; try again later
        stream.abort.abort();
      };
      followEvents(
        baseUrl(node),
        node.name,
        stream.abort.signal,
        (event) => this.push(event),
        () => (stream.open = true),
      ).then(closed, closed);
    }
  }

  /** A poll of one node: without an open stream, its differences from the last poll are the events. */
  polled(node: string, members: Member[] | null, at: number): void {
    const before = this.previous.get(node);
    if (members === null) {
      this.previous.delete(node);
      return;
    }
    if (before && !this.streams.get(node)?.open) for (const event of diffEvents(node, before, members, at)) this.push(event);
    this.previous.set(node, members);
  }

  close(): void {
    for (const stream of this.streams.values()) stream.abort.abort();
    this.streams.clear();
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function watch(flags: WatchFlags): Promise<void> {
  const home = hearsayHome();
  requireState(home);
  const feed = new EventFeed(200);
  const screen = new Screen(process.stdout);
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    while (!stopped) {
      const started = Date.now();
      const state = readState(home);
      if (!state) {
        screen.done();
        process.stdout.write(`The cluster is no longer recorded in ${home} (brought down?)\n`);
        return;
      }
      const views = await fetchViews(state.nodes, Math.max(flags.interval, 1_000));
      if (stopped) break;
      const now = Date.now();
      for (const view of views) feed.polled(view.node, view.up ? view.members : null, now);
      feed.follow(state.nodes.filter((_, i) => views[i]!.up));
      screen.draw(renderMatrix({ views, events: feed.events, now, intervalMs: flags.interval, eventLines: flags.events }));
      const rest = flags.interval - (Date.now() - started);
      for (let waited = 0; waited < rest && !stopped; waited += 50) await sleep(Math.min(50, rest - waited));
    }
  } finally {
    feed.close();
    screen.done();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
