/**
 * The sans-I/O core driven by hand: three `MemberNode`s wired by an in-memory list of
 * deliveries on a virtual clock. Each node takes inputs (a packet, a stream, a tick when its
 * deadline comes, a join) through `step(now, input)` and answers with outputs (packets and
 * streams to send, membership events); this loop is the whole "runtime". No sockets, no timers:
 * the same seeds give the same run. Nodes b and c join through a; then c crashes and the others
 * detect it.
 */
import { createRandom, DEFAULT_VSN, MemberNode, resolveConfig, type Address, type Input, type Output } from 'hearsay/core';

/** One-way network delay (ms). */
const LATENCY_MS = 1;
const CRASH_AT_MS = 20_000;

interface Delivery {
  readonly at: number;
  /** Keeps deliveries due at the same instant in the order they were sent. */
  readonly order: number;
  readonly host: string;
  readonly input: Input;
}

const config = resolveConfig('lan');
const nodes = new Map<string, MemberNode>();
for (const [index, name] of ['a', 'b', 'c'].entries()) {
  const host = `10.0.0.${index + 1}`;
  const profile = { name, host, port: 7946, meta: new Uint8Array(0), vsn: DEFAULT_VSN };
  nodes.set(host, new MemberNode({ profile, config, random: createRandom(index + 1), now: 0 }));
}
const nameOf = (host: string) => nodes.get(host)?.name ?? host;
const crashed = new Set<string>();
let deliveries: Delivery[] = [];
let order = 0;
let now = 0;
/** A stream as the receiver numbers it → who opened it and under which number. */
const streams = new Map<number, { readonly host: string; readonly stream: number }>();
let nextStream = 1;
/** When each survivor marked c failed. */
const failedAt = new Map<string, number>();

const seconds = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

function deliver(at: number, host: string, input: Input): void {
  deliveries.push({ at, order: order++, host, input });
}

/** Carries out what a node asked for: the only I/O there is, on the in-memory network. */
function carryOut(host: string, output: Output): void {
  const from: Address = { host, port: 7946 };
  switch (output.kind) {
    case 'packet':
      if (!crashed.has(output.to.host)) deliver(now + LATENCY_MS, output.to.host, { kind: 'packet', from, messages: output.messages });
      return;
    case 'openStream': {
      if (output.expectReply) deliver(now + output.timeoutMs, host, { kind: 'streamFailed', stream: output.stream, reason: 'timed out' });
      if (crashed.has(output.to.host)) return;
      const stream = nextStream++;
      streams.set(stream, { host, stream: output.stream });
      deliver(now + LATENCY_MS, output.to.host, { kind: 'stream', from, stream, message: output.message });
      return;
    }
    case 'reply': {
      const opener = streams.get(output.stream);
      streams.delete(output.stream);
      if (opener) deliver(now + LATENCY_MS, opener.host, { kind: 'streamReply', stream: opener.stream, message: output.message });
      return;
    }
    case 'joined':
      console.log(`${seconds(now)} ${nameOf(host)} joined: ${output.contacted} seed answered`);
      return;
    case 'event': {
      const { type, member } = output.event;
      console.log(`${seconds(now)} ${nameOf(host)}: ${type} ${member.name}`);
      if (type === 'failed' && member.name === 'c') failedAt.set(nameOf(host), now);
      return;
    }
    default:
      return;
  }
}

/** The next thing to happen by `until`: the earliest delivery, or the earliest deadline of a running node. */
function next(until: number): { at: number; host: string; input: Input } | undefined {
  let earliest: Delivery | undefined;
  for (const delivery of deliveries) {
    if (!earliest || delivery.at < earliest.at || (delivery.at === earliest.at && delivery.order < earliest.order)) earliest = delivery;
  }
  let tick: { at: number; host: string } | undefined;
  for (const [host, node] of nodes) {
    const at = node.nextDeadline();
    if (!crashed.has(host) && (!tick || at < tick.at)) tick = { at, host };
  }
  if (earliest && earliest.at <= until && (!tick || earliest.at <= tick.at)) {
    deliveries = deliveries.filter((delivery) => delivery !== earliest);
    return earliest;
  }
  return tick && tick.at <= until ? { ...tick, input: { kind: 'tick' } } : undefined;
}

/** Steps the nodes in time order until `until` (virtual ms) or until `done` holds. */
function run(until: number, done: () => boolean = () => false): void {
  for (let event = next(until); event; event = next(until)) {
    now = event.at;
    if (!crashed.has(event.host)) for (const output of nodes.get(event.host)!.step(now, event.input)) carryOut(event.host, output);
    if (done()) return;
  }
  now = until;
}

// What the nodes produced while being constructed (their own 'join' event).
for (const [host, node] of nodes) for (const output of node.drain()) carryOut(host, output);
// Joins are inputs too: b and c ask a for its member list (a push/pull over a stream).
const seed: Address = { host: '10.0.0.1', port: 7946 };
deliver(0, '10.0.0.2', { kind: 'join', request: 1, seeds: [seed] });
deliver(0, '10.0.0.3', { kind: 'join', request: 1, seeds: [seed] });
run(CRASH_AT_MS);
for (const node of nodes.values()) {
  const view = node
    .members()
    .map((member) => `${member.name} ${member.status}`)
    .sort();
  console.log(`at ${seconds(now)} ${node.name} sees: ${view.join(', ')}`);
}

// A crash is silence: c takes no more inputs, and packets to it are lost.
crashed.add('10.0.0.3');
console.log(`${seconds(now)} c crashes`);
run(CRASH_AT_MS + 60_000, () => failedAt.size === 2);
for (const [name, at] of failedAt) console.log(`${name} marked c failed ${seconds(at - CRASH_AT_MS)} after the crash`);
if (failedAt.size < 2) throw new Error('the crash of c was not detected by both a and b within 60 s');
