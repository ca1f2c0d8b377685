import type { MemberNode, Random } from '../core/index.js';
import { decodeCoordinatePayload, encodeCoordinatePayload } from '../wire/coordinate.js';
import type { Coordinate } from '../wire/coordinate.js';
import { CoordinateClient, DEFAULT_COORDINATE_CONFIG, distanceBetween } from './coordinate.js';

/**
 * This member's Vivaldi coordinate and its peers', as Serf keeps them: every direct ack carries
 * the member's coordinate (read from the `rtt` output's payload), which with the round trip
 * refines ours, and our acks carry ours (`ackPayload`).
 */
export class CoordinateTracker {
  readonly #core: MemberNode;
  readonly #client: CoordinateClient;
  /** Members' coordinates as their latest acks carried them. */
  readonly #members = new Map<string, Coordinate>();

  constructor(core: MemberNode, random: Random) {
    this.#core = core;
    this.#client = new CoordinateClient(DEFAULT_COORDINATE_CONFIG, random);
  }

  /** This member's coordinate. */
  get coordinate(): Coordinate {
    return this.#client.coordinate;
  }

  /** What this member's acks carry: its coordinate, as Serf agents (and hearsay nodes) read it. */
  ackPayload(): Uint8Array {
    return encodeCoordinatePayload(this.#client.coordinate);
  }

  /**
   * A member's coordinate from its ack, and the round trip it took: both refine ours. False when
   * the payload is no coordinate we can use (another application's payload, a zero RTT, a forged
   * value out of range): ours then stays as it was.
   */
  observe(member: string, payload: Uint8Array, ms: number): boolean {
    let theirs: Coordinate;
    try {
      theirs = decodeCoordinatePayload(payload);
      this.#client.update(member, theirs, ms / 1000);
    } catch {
      return false;
    }
    this.#members.set(member, theirs);
    // Members reaped from the table are forgotten here too, once they could outnumber the table.
    if (this.#members.size > this.#core.config.maxMembers) {
      for (const name of this.#members.keys()) if (!this.#core.member(name)) this.#forget(name);
    }
    return true;
  }

  /** A member's coordinate as its latest ack carried it (this member's own for itself); undefined if none came yet. */
  coordinateOf(name: string): Coordinate | undefined {
    if (name === this.#core.name) return this.coordinate;
    if (!this.#core.member(name)) {
      this.#forget(name);
      return undefined;
    }
    const coordinate = this.#members.get(name);
    return coordinate && { ...coordinate, vec: [...coordinate.vec] };
  }

  /** The round trip (ms) between two members estimated from their coordinates, as `serf rtt` does; undefined while either is unknown. */
  estimateRtt(a: string, b: string): number | undefined {
    const first = this.coordinateOf(a);
    const second = this.coordinateOf(b);
    return first && second ? distanceBetween(first, second) * 1000 : undefined;
  }

  #forget(name: string): void {
    this.#members.delete(name);
    this.#client.forgetNode(name);
  }
}
