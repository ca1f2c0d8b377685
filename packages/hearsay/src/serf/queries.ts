import { encodeSerfQueryResponse, encodeSerfRelay, type SerfQuery, type SerfQueryResponse } from '../wire/index.js';
import { QueryError } from './errors.js';
import type { SerfHost } from './host.js';
import { tooOld } from './lamport.js';

/**
 * Serf's QueryBuffer: recent queries are remembered by LTime modulo this, and those older than
 * the clock minus this are refused.
 */
const QUERY_BUFFER = 512;
/** Distinct queries remembered at one LTime: Serf keeps any number, so one peer could grow a slot without end. */
const QUERIES_PER_LTIME = 256;
/** Relays one answer goes through at most (Consul's cap, and hearsay's own; Serf's CLI lets a query ask up to 255). */
const MAX_RELAY_FACTOR = 5;
/** How long a peer's query may keep an answer wanted (Go's Timeout reaches 292 years). */
const MAX_QUERY_TIMEOUT_MS = 3_600_000;

/** What a query asks for, beyond its name and payload. */
export interface QueryOptions {
  /** How long to collect answers, in ms (1 … 3 600 000); default gossipInterval × 16 × ceil(log10(n + 1)), as Serf. */
  readonly timeoutMs?: number;
  /** Only these members answer (by name); default: every member. */
  readonly nodes?: readonly string[];
  /** Only members whose tag matches the regular expression (RE2 syntax, as Go's, unanchored) answer; at most 16 filters, 256 characters each. An expression that does not compile is an OptionError. */
  readonly tags?: Readonly<Record<string, string>>;
  /** Members that pass the filters acknowledge receipt; default true, as `serf query` (Serf's Go library defaults to false). */
  readonly requestAck?: boolean;
  /** Each answer is also relayed through this many other members (0 … 5; default 0), for lossy networks. */
  readonly relayFactor?: number;
  /** Finish as soon as this many members have answered, rather than at the timeout; default: wait for the timeout. */
  readonly expectedResponses?: number;
}

/** Called for each ack and each answer to a query this node asked, until it is finished. */
export interface QueryCollector {
  /** Member `from` acknowledged the query. */
  onAck(from: string): void;
  /** Member `from` answered with `payload`. */
  onResponse(from: string, payload: Uint8Array): void;
}

/** A query this node asked: the application's own copy of it, and how to stop collecting answers. */
export interface AskedQuery {
  /** For this node's own 'query' listeners, when it passes its own filters. */
  readonly local: IncomingQuery | undefined;
  /** Stops collecting: later acks and answers are dropped. */
  readonly finish: () => void;
}

/** What sends a query's answer: the Serf layer, which checks the deadline and the size. */
export interface QueryResponder {
  respond(query: SerfQuery, deadline: number, payload: Uint8Array): void;
}

/** A query that reached this node, as 'query' listeners get it; `respond` answers it once, before its deadline. */
export class IncomingQuery {
  /** The query's name (Serf's; `serf query NAME`). */
  readonly name: string;
  /** What the asker sent with it. */
  readonly payload: Uint8Array;
  /** The member that asked (named in the query itself, whoever relayed it). */
  readonly from: string;
  /** The query's Lamport time: a Go uint64, hence a bigint (`String(ltime)` for JSON or an environment). */
  readonly ltime: bigint;
  /** The asker's random ID for the query: with `ltime`, what tells queries apart. */
  readonly id: number;
  /** Local time (ms) after which an answer is no longer wanted. */
  readonly deadline: number;
  readonly #responder: QueryResponder;
  readonly #query: SerfQuery;
  #responded = false;

  /** Made by the node for each query that reaches it; applications only receive them. */
  constructor(responder: QueryResponder, query: SerfQuery, now: number) {
    this.#responder = responder;
    this.#query = query;
    this.name = query.name;
    this.payload = query.payload;
    this.from = query.sourceNode;
    this.ltime = query.ltime;
    this.id = query.id;
    this.deadline = now + query.timeoutMs;
  }

  /** Answers the asker (at most 1024 bytes once encoded, as Serf allows). Throws a QueryError for a second answer, one past the deadline, or one too large. */
  respond(payload: Uint8Array): void {
    if (this.#responded) throw new QueryError(`query "${this.name}" has already been answered`);
    this.#responder.respond(this.#query, this.deadline, payload);
    this.#responded = true;
  }
}

/** The key a query (and its answers) is known by: its LTime and ID. */
export function queryKey(query: { ltime: bigint; id: number }): string {
  return `query:${query.ltime}:${query.id}`;
}

/** The query IDs seen at one LTime. */
interface QuerySlot {
  readonly ltime: bigint;
  readonly ids: number[];
}

/** Serf's handleQuery bookkeeping: recent queries by LTime, so that each is acted on once. */
export class QueryBuffer {
  readonly #slots: (QuerySlot | undefined)[] = new Array(QUERY_BUFFER);
  readonly #drop: (reason: string) => void;

  constructor(drop: (reason: string) => void) {
    this.#drop = drop;
  }

  /** Whether `query` is new here (and now remembered), given the query clock after witnessing it. */
  admit(query: { ltime: bigint; id: number }, clock: bigint): boolean {
    if (tooOld(query.ltime, clock, QUERY_BUFFER)) {
      this.#drop('query-too-old');
      return false;
    }
    const index = Number(query.ltime % BigInt(QUERY_BUFFER));
    let slot = this.#slots[index];
    if (slot?.ltime !== query.ltime) this.#slots[index] = slot = { ltime: query.ltime, ids: [] };
    if (slot.ids.includes(query.id)) return false;
    if (slot.ids.length >= QUERIES_PER_LTIME) {
      this.#drop('query-ltime-full');
      return false;
    }
    slot.ids.push(query.id);
    return true;
  }
}

/** The query as this node acts on it: at most Serf's 5 relays, an answer wanted for an hour at most. */
export function boundedQuery(query: SerfQuery, drop: (reason: string) => void): SerfQuery {
  if (query.relayFactor <= MAX_RELAY_FACTOR && query.timeoutMs <= MAX_QUERY_TIMEOUT_MS) return query;
  if (query.relayFactor > MAX_RELAY_FACTOR) drop('query-relay-factor');
  if (query.timeoutMs > MAX_QUERY_TIMEOUT_MS) drop('query-timeout');
  const relayFactor = Math.min(query.relayFactor, MAX_RELAY_FACTOR);
  return { ...query, relayFactor, timeoutMs: Math.min(query.timeoutMs, MAX_QUERY_TIMEOUT_MS) };
}

/** Sends an ack or answer straight to the asker, and through as many random members as the query asked to relay it. */
export function sendAnswer(host: SerfHost, query: SerfQuery, response: SerfQueryResponse, bytes: Uint8Array, drop: (reason: string) => void): void {
  const asker = { host: query.host, port: query.port };
  // A forged query naming someone else's address would turn every member into a reflector.
  if (!host.isMemberAddress(asker)) {
    drop('answer-to-stranger');
    return;
  }
  host.sendTo(asker, bytes);
  if (query.relayFactor === 0) return;
  const relayed = encodeSerfRelay(asker, query.sourceNode, encodeSerfQueryResponse(response));
  const peers = host.peers().filter((peer) => peer.name !== query.sourceNode);
  for (let i = 0; i < Math.min(query.relayFactor, peers.length); i++) {
    // A partial Fisher–Yates: relays through distinct random members.
    const j = i + Math.floor(host.random() * (peers.length - i));
    [peers[i], peers[j]] = [peers[j]!, peers[i]!];
    host.sendTo(peers[i]!.address, relayed);
  }
}
