/**
 * Feeds one input to every decoder it reaches and records what goes wrong. A decoder may refuse
 * its input only with its documented error: WireError from the packet, stream, Serf message,
 * query and tag decoders, RangeError from the coordinate decoder. Anything else, anywhere, is a
 * crash: in the node it would escape the decoder's caller. What decodes must also encode again
 * (a node forwards what it heard), and no input may take long to refuse.
 */
import type { Address, Message } from '../../packages/hearsay/src/core/index.js';
import {
  decodeCoordinatePayload,
  decodePacket,
  decodeSerfKeyRequest,
  decodeSerfKeyResponse,
  decodeSerfMessage,
  decodeSerfQuery,
  decodeSerfQueryResponse,
  decodeSerfRelay,
  decodeTags,
  encodeMessage,
  encodeStreamBody,
  type Keyring,
  parseSerfUserState,
  SerfMessageType,
  StreamDecoder,
  WireError,
  type WireStreamMessage,
} from '../../packages/hearsay/src/wire/index.js';

export interface Finding {
  /** What failed: a decoder that threw something undocumented, or an encoder refusing a decoded message. */
  readonly where: string;
  readonly error: string;
  /** The first input that showed it, as hex. */
  readonly input: string;
  count: number;
}

/** An input slower than this to refuse is reported (an algorithmic-complexity attack). */
const SLOW_MS = 250;

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

function time(run: () => void): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

export class Probe {
  /** Undocumented exceptions and re-encoding failures, by decoder and error message. */
  readonly findings = new Map<string, Finding>();
  readonly slow: { ms: number; input: string }[] = [];
  /** Every address a decoded input named (targets, sources, members, query askers, relays). */
  addresses: Address[] = [];
  inputs = 0;
  /** Inputs that decoded to at least one message. */
  accepted = 0;
  #current: Uint8Array = new Uint8Array(0);

  constructor(private readonly keyring: Keyring) {}

  #record(where: string, error: unknown): void {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const key = `${where}: ${message.replace(/\d+/g, 'N').slice(0, 160)}`;
    const seen = this.findings.get(key);
    if (seen) seen.count++;
    else this.findings.set(key, { where, error: error instanceof Error ? (error.stack ?? message) : message, input: hex(this.#current), count: 1 });
  }

  /** Runs `decode`, recording any exception that is not `allowed`. */
  #guard<T>(where: string, allowed: (error: unknown) => boolean, decode: () => T): T | undefined {
    try {
      return decode();
    } catch (error) {
      if (!allowed(error)) this.#record(where, error);
      return undefined;
    }
  }

  #timed(input: Uint8Array, run: () => void): void {
    this.#current = input;
    this.inputs++;
    const attempt = () => {
      this.addresses = [];
      return time(run);
    };
    let ms = attempt();
    // A slow input is timed twice more and counts only if it is slow every time: a GC pause or a
    // loaded machine does not repeat, an algorithmic-complexity attack does.
    for (let again = 0; again < 2 && ms > SLOW_MS; again++) ms = Math.min(ms, attempt());
    if (ms > SLOW_MS) this.slow.push({ ms, input: hex(input) });
  }

  /** A datagram, as the node decodes it (with the keyring, or without one: then encrypted input is noise). */
  packet(bytes: Uint8Array, withKeyring: boolean): void {
    this.#timed(bytes, () => {
      const onDrop = (error: unknown) => {
        if (!(error instanceof WireError)) this.#record('decodePacket onDrop', error);
      };
      const options = withKeyring ? { keyring: this.keyring, onDrop } : { onDrop };
      const messages = this.#guard('decodePacket', isWireError, () => decodePacket(bytes, options));
      if (!messages || messages.length === 0) return;
      this.accepted++;
      for (const message of messages) this.#message(message);
    });
  }

  #message(m: Message): void {
    this.#guard(
      `encodeMessage(${m.type})`,
      () => false,
      () => encodeMessage(m),
    );
    switch (m.type) {
      case 'ping':
        if (m.source?.host) this.addresses.push(m.source);
        return;
      case 'indirectPing':
        this.addresses.push(m.target);
        if (m.source?.host) this.addresses.push(m.source);
        return;
      case 'ack':
        if (m.payload?.length)
          this.#guard(
            'decodeCoordinatePayload',
            (e) => e instanceof RangeError,
            () => decodeCoordinatePayload(m.payload!),
          );
        return;
      case 'alive':
        this.addresses.push(m.profile);
        this.#guard('decodeTags(alive)', isWireError, () => decodeTags(m.profile.meta));
        return;
      case 'heartbeats':
        for (const entry of m.entries) {
          this.addresses.push(entry.profile);
          this.#guard('decodeTags(heartbeats)', isWireError, () => decodeTags(entry.profile.meta));
        }
        return;
      case 'user':
        this.#serf(m.payload, 0);
        return;
      default:
    }
  }

  /** A memberlist user payload read as Serf reads it. */
  #serf(payload: Uint8Array, depth: number): void {
    this.#guard('decodeSerfMessage', isWireError, () => decodeSerfMessage(payload));
    switch (payload[0]) {
      case SerfMessageType.pushPull:
        this.#guard(
          'parseSerfUserState',
          () => false,
          () => parseSerfUserState(payload),
        );
        return;
      case SerfMessageType.query: {
        const query = this.#guard('decodeSerfQuery', isWireError, () => decodeSerfQuery(payload));
        if (query) this.addresses.push(query);
        return;
      }
      case SerfMessageType.queryResponse:
        this.#guard('decodeSerfQueryResponse', isWireError, () => decodeSerfQueryResponse(payload));
        return;
      case SerfMessageType.relay: {
        const relay = this.#guard('decodeSerfRelay', isWireError, () => decodeSerfRelay(payload));
        if (relay) {
          this.addresses.push(relay);
          if (depth < 4) this.#serf(relay.inner, depth + 1);
        }
        return;
      }
      case SerfMessageType.keyRequest:
        this.#guard('decodeSerfKeyRequest', isWireError, () => decodeSerfKeyRequest(payload));
        return;
      case SerfMessageType.keyResponse:
        this.#guard('decodeSerfKeyResponse', isWireError, () => decodeSerfKeyResponse(payload));
        return;
      default:
    }
  }

  /**
   * A stream, pushed in `chunks` pieces (as TCP may cut it), read until the decoder wants more,
   * then closed, as the node reads one.
   */
  stream(bytes: Uint8Array, withKeyring: boolean, cuts: readonly number[]): void {
    this.#timed(bytes, () => {
      const decoder = this.#guard(
        'new StreamDecoder',
        () => false,
        () => new StreamDecoder(withKeyring ? { keyring: this.keyring } : {}),
      );
      if (!decoder) return;
      let from = 0;
      let decoded = false;
      for (const cut of [...cuts, bytes.length]) {
        this.#guard(
          'StreamDecoder.push',
          () => false,
          () => decoder.push(bytes.subarray(from, cut)),
        );
        from = cut;
        for (let reads = 0; reads < 4; reads++) {
          const message = this.#guard('StreamDecoder.next', isWireError, () => decoder.next());
          if (!message) break;
          decoded = true;
          this.#streamMessage(message);
        }
      }
      this.#guard('StreamDecoder.end', isWireError, () => decoder.end());
      if (decoded) this.accepted++;
    });
  }

  #streamMessage(m: WireStreamMessage): void {
    this.#guard(
      `encodeStreamBody(${m.type})`,
      () => false,
      () => encodeStreamBody(m),
    );
    if (m.type === 'user') this.#serf(m.payload, 0);
    if (m.type === 'ping' && m.source?.host) this.addresses.push(m.source);
    if (m.type !== 'pushPull') return;
    for (const state of m.states) {
      this.addresses.push(state.profile);
      this.#guard('decodeTags(pushPull)', isWireError, () => decodeTags(state.profile.meta));
    }
    this.#guard(
      'parseSerfUserState',
      () => false,
      () => parseSerfUserState(m.userState),
    );
  }
}

function isWireError(error: unknown): boolean {
  return error instanceof WireError;
}

/** Findings as text for a failure message and the notes: where, how often, the error, a reproducer. */
export function describeFindings(findings: Iterable<Finding>): string {
  return [...findings].map((f) => `- ${f.where} (${f.count}×): ${f.error.split('\n').slice(0, 4).join(' | ')}\n  input: ${f.input.slice(0, 600)}`).join('\n');
}
