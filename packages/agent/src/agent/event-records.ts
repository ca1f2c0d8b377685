import type { HearsayNode, IncomingQuery, Member, Protocol } from 'hearsay';
import { memberJson, protocolJson } from './http-api.js';

/** The node's membership events, each an event type of the same name. */
export const MEMBER_EVENTS = ['join', 'update', 'suspect', 'alive', 'failed', 'left', 'reap'] as const;

/**
 * One event of the node as the agent hands it on: the SSE stream GET /v1/events, the recent-event
 * log GET /v1/events/recent and the webhooks all send it, so it is made (and encoded) once.
 */
export interface EventRecord {
  /** 1, 2, … in the order the agent saw the events, since it started. */
  readonly id: number;
  readonly type: string;
  /** When the agent saw it, ISO 8601. */
  readonly time: string;
  /** The event's data as JSON (a member, a protocol switch, …): what an SSE `data:` line carries. */
  readonly dataJson: string;
  /** The whole record as JSON, `{"id", "type", "time", "data"}`: what the log and the webhooks send. */
  readonly json: string;
}

/** Serf's clocks are uint64: numbers while a JSON reader keeps them exact, decimal strings beyond. */
function exactClocks(_key: string, value: unknown): unknown {
  if (typeof value !== 'bigint') return value;
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

export function eventRecord(id: number, type: string, data: object, at: Date): EventRecord {
  const time = at.toISOString();
  const dataJson = JSON.stringify(data, exactClocks);
  // The data is encoded once; the record around it needs no second pass over it.
  const json = `{"id":${id},"type":${JSON.stringify(type)},"time":"${time}","data":${dataJson}}`;
  return { id, type, time, dataJson, json };
}

/**
 * Calls `emit` with the type and data of each membership, protocol, user-event, query and
 * degraded-pair event of the node until the returned function detaches it.
 */
export function watchNodeEvents(node: HearsayNode, emit: (type: string, data: object) => void): () => void {
  const members = MEMBER_EVENTS.map((type) => [type, (member: Member) => emit(type, memberJson(member))] as const);
  for (const [type, listener] of members) node.on(type, listener);
  const onProtocol = (protocol: Protocol, epoch: number, origin: string) => emit('protocol', protocolJson(protocol, epoch, origin));
  // A user event names no sender (Serf's has no field for it), and the member that relayed it is nobody's concern: none is shown.
  const onMessage = (payload: Uint8Array, name: string) =>
    emit('user', { name, payload: Buffer.from(payload).toString('utf8'), payloadBase64: Buffer.from(payload).toString('base64') });
  const onQuery = (query: IncomingQuery) =>
    emit('query', { name: query.name, from: query.from, ltime: query.ltime, payload: Buffer.from(query.payload).toString('utf8') });
  // A degraded pair (this node reaches the member only through helpers or TCP) and its end, with when it started.
  const degradedSince = new Map<string, string>();
  const onDegraded = (name: string, degraded: boolean) => {
    const since = degradedSince.get(name) ?? new Date().toISOString();
    if (degraded) degradedSince.set(name, since);
    else degradedSince.delete(name);
    emit('degraded', { name, degraded, since });
  };
  node.on('protocol', onProtocol);
  node.on('message', onMessage);
  node.on('query', onQuery);
  node.on('degraded', onDegraded);
  return () => {
    node.off('degraded', onDegraded);
    for (const [type, listener] of members) node.off(type, listener);
    node.off('protocol', onProtocol);
    node.off('message', onMessage);
    node.off('query', onQuery);
  };
}
