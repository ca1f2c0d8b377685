import type { Output } from './types.js';

/** A round trip measured to `member`, with the ack's payload when it carried one. */
export function rttOutput(member: string, ms: number, payload: Uint8Array | undefined): Output {
  return payload && payload.length > 0 ? { kind: 'rtt', member, ms, payload } : { kind: 'rtt', member, ms };
}
