/** What the agent attack tests share: agents on 127.0.0.1, a captured log, forged Serf queries over UDP. */
import { createSocket } from 'node:dgram';
import { pino, type Logger } from 'pino';
import { startAgent, type Agent, type AgentOptions } from '../../packages/agent/src/agent/agent.js';
import { encodeCompound, encodeMessage, encodeSerfQuery, QueryFlag } from '../../packages/hearsay/src/wire/index.js';
import { FAST } from '../helpers/timings.js';

/** A logger whose JSON lines the test can read. */
export function capturedLog(): { log: Logger; lines: () => { level: number; msg: string; [field: string]: unknown }[] } {
  const written: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void written.push(line) });
  return { log, lines: () => written.map((line) => JSON.parse(line)) };
}

export function start(options: AgentOptions, log: Logger = pino({ level: 'silent' })): Promise<Agent> {
  return startAgent({ bind: '127.0.0.1:0', http: '127.0.0.1:0', config: FAST, ...options }, log);
}

/** `hearsay_dropped_total{layer, reason}` from the agent's GET /metrics (0 when not there yet). */
export async function droppedMetric(agent: Agent, layer: string, reason: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${agent.http.port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`hearsay_dropped_total{layer="${layer}",reason="${reason}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

export async function gaugeMetric(agent: Agent, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${agent.http.port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ').pop());
}

export interface ForgedQuery {
  readonly ltime: number;
  readonly from: string;
  readonly name: string;
  readonly payload?: Uint8Array;
  readonly timeoutMs?: number;
}

/**
 * A Serf query as one memberlist user message, as any host that can reach the gossip port can
 * send it: from a member name of its choosing, answers to a port nobody listens on, not to be
 * gossiped on.
 */
export function forgedQuery(query: ForgedQuery): Uint8Array {
  const serf = encodeSerfQuery({
    ltime: BigInt(query.ltime),
    id: query.ltime,
    host: '127.0.0.1',
    port: 9,
    sourceNode: query.from,
    filters: [],
    flags: QueryFlag.noBroadcast,
    relayFactor: 0,
    timeoutMs: query.timeoutMs ?? 5000,
    name: query.name,
    payload: query.payload ?? new Uint8Array(0),
  });
  return encodeMessage({ type: 'user', payload: serf });
}

/** Sends datagrams to a gossip port, each a compound of the messages given (or one bare message). */
export async function sendDatagrams(port: number, datagrams: readonly (readonly Uint8Array[])[], afterEach?: (index: number) => Promise<void>): Promise<void> {
  const socket = createSocket('udp4');
  try {
    for (const [index, messages] of datagrams.entries()) {
      const bytes = messages.length === 1 ? messages[0]! : encodeCompound([...messages]);
      await new Promise<void>((resolve, reject) => socket.send(bytes, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
      await afterEach?.(index);
    }
  } finally {
    socket.close();
  }
}
