/** The core's size arithmetic (src/core/message-size.ts) must agree with the encoder byte for byte. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compoundOverhead, memberlistSize, streamSize } from '../../packages/hearsay/src/core/message-size.js';
import type { StreamMessage } from '../../packages/hearsay/src/core/types.js';
import { encodeMessage, encodePacket, encodeStreamBody } from '../../packages/hearsay/src/wire/index.js';
import { RUNS, message, streamMessage } from './helpers.js';

describe('sizes', () => {
  it('memberlistSize(m) === encodeMessage(m).length', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(encodeMessage(m).length).toBe(memberlistSize(m));
      }),
      { ...RUNS, numRuns: 2000 },
    );
  });

  it('a compound is the parts plus compoundOverhead', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 2, maxLength: 40 }), (messages) => {
        const total = messages.reduce((sum, m) => sum + memberlistSize(m), 0);
        expect(encodePacket(messages, { crc: false, compress: false }).length).toBe(total + compoundOverhead(messages.length));
      }),
      RUNS,
    );
  });

  it('streamSize(m) === the uncompressed stream encoding length', () => {
    const coreStream = streamMessage.filter((m): m is StreamMessage => m.type !== 'user');
    fc.assert(
      fc.property(coreStream, (m) => {
        expect(encodeStreamBody(m).length).toBe(streamSize(m));
      }),
      { ...RUNS, numRuns: 1000 },
    );
  });
});
