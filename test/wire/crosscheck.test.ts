/**
 * Opt-in cross-check against the real memberlist 0.2.2 Go code: HEARSAY_GO_CROSSCHECK=1 with Go
 * and Debian's golang-github-hashicorp-memberlist-dev (+ golang-github-sean--seed-dev) installed.
 * Random messages, packets (compound, LZW, CRC, AES-GCM) and streams (push/pull, user, error, all
 * wrappers) plus large LZW inputs are written to a fixture; go-crosscheck/run.sh decodes each the
 * way memberlist does and re-encodes it with memberlist's own encoder, expecting identical bytes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Keyring, compressMessage, encodeMessage, encodePacket, encodeStream } from '../../packages/hearsay/src/wire/index.js';
import { SEED, VSN, message, streamMessage, toHex } from './helpers.js';
import type { MemberProfile } from '../../packages/hearsay/src/core/types.js';
import type { Message } from '../../packages/hearsay/src/core/types.js';
import type { WireStreamMessage } from '../../packages/hearsay/src/wire/index.js';
import { lzwInputs } from './lzw-inputs.js';

/**
 * go-msgpack decodes an empty raw into a nil slice, which it re-encodes as nil (c0) where we wrote
 * a0; both mean "empty" to Go. Fixtures avoid empty Vsn and empty (non-nil) ack payloads.
 */
const goCanonicalProfile = (p: MemberProfile): MemberProfile => (p.vsn.length ? p : { ...p, vsn: VSN });
function goCanonical<T extends Message | WireStreamMessage>(m: T): T {
  if (m.type === 'ack' && m.payload?.length === 0) return { type: 'ack', seqNo: m.seqNo } as T;
  if (m.type === 'alive') return { ...m, profile: goCanonicalProfile(m.profile) };
  if (m.type === 'pushPull') return { ...m, states: m.states.map((s) => ({ ...s, profile: goCanonicalProfile(s.profile) })) };
  return m;
}
const goMessage = message.map(goCanonical);
const goStreamMessage = streamMessage.map(goCanonical);

const enabled = process.env.HEARSAY_GO_CROSSCHECK === '1';

describe.skipIf(!enabled)('cross-check with memberlist 0.2.2 (Go)', () => {
  it('memberlist re-encodes every fixture to the same bytes', () => {
    const cases: object[] = [];
    for (const m of fc.sample(goMessage, { seed: SEED, numRuns: 400 })) cases.push({ kind: 'message', hex: toHex(encodeMessage(m)) });
    for (const { input } of lzwInputs()) cases.push({ kind: 'lzw', input: toHex(input), hex: toHex(compressMessage(input)) });
    const options = fc.record({ crc: fc.boolean(), compress: fc.boolean(), key: fc.option(fc.constantFrom(16, 24, 32), { nil: undefined }) });
    for (const [messages, o] of fc.sample(fc.tuple(fc.array(goMessage, { minLength: 1, maxLength: 30 }), options), { seed: SEED, numRuns: 150 })) {
      const key = o.key ? new Uint8Array(o.key).fill(7) : undefined;
      const keyring = key ? new Keyring([key]) : undefined;
      cases.push({ kind: 'packet', hex: toHex(encodePacket(messages, { ...o, keyring })), key: key ? toHex(key) : '', leaves: messages.length });
    }
    for (const [m, o] of fc.sample(fc.tuple(goStreamMessage, options), { seed: SEED, numRuns: 150 })) {
      const key = o.key ? new Uint8Array(o.key).fill(9) : undefined;
      const keyring = key ? new Keyring([key]) : undefined;
      cases.push({ kind: 'stream', hex: toHex(encodeStream(m, { compress: o.compress, keyring })), key: key ? toHex(key) : '' });
    }
    const fixture = join(mkdtempSync(join(tmpdir(), 'hearsay-')), 'fixture.json');
    writeFileSync(fixture, JSON.stringify(cases));
    const output = execFileSync(join(import.meta.dirname, 'go-crosscheck', 'run.sh'), [fixture], { encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(output, output).toMatch(/--- PASS: TestHearsayCrosscheck/);
  });
});
