/**
 * The codec against bytes captured from real Serf agents (test/fixtures/serf/): every fixture
 * decodes, and re-encoding what was decoded gives back Serf's bytes exactly (for encrypted ones,
 * the plaintext inside; the nonce is random).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  decodePacket,
  decodeSerfMessage,
  decodeSerfQuery,
  decodeSerfQueryResponse,
  encodePacket,
  encodeSerfQuery,
  encodeSerfQueryResponse,
  encodeStream,
  Keyring,
  QueryFlag,
  StreamDecoder,
} from '../../packages/hearsay/src/wire/index.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'serf');
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as {
  testKeyHex: string;
  fixtures: { file: string; transport: 'udp' | 'tcp'; encrypted: boolean; plaintextHex?: string }[];
};
const keyring = new Keyring([Buffer.from(manifest.testKeyHex, 'hex')]);
const bytesOf = (file: string) => Buffer.from(readFileSync(join(DIR, file), 'utf8').trim(), 'hex');

describe.each(manifest.fixtures)('$file', ({ file, transport, encrypted, plaintextHex }) => {
  const bytes = bytesOf(file);
  const options = encrypted ? { keyring } : {};

  it('decodes and re-encodes to the same bytes', () => {
    if (transport === 'udp') {
      const messages = decodePacket(bytes, options);
      expect(messages.length).toBeGreaterThan(0);
      // Serf's own user messages read as Serf messages (intents and events decoded).
      for (const m of messages) if (m.type === 'user') expect(() => decodeSerfMessage(m.payload)).not.toThrow();
      const plain = encrypted ? Buffer.from(plaintextHex!, 'hex') : bytes;
      const crc = plain[0] === 12;
      const compressed = (crc ? plain[5] : plain[0]) === 9;
      const again = encodePacket(messages, { crc, compress: compressed });
      expect(Buffer.from(again).toString('hex')).toBe(plain.toString('hex'));
    } else {
      const decoder = new StreamDecoder(options);
      decoder.push(bytes);
      const message = decoder.next();
      expect(message).not.toBeNull();
      if (encrypted) {
        // The plaintext of the blob is the compressed stream body.
        const inner = Buffer.from(plaintextHex!, 'hex');
        expect(Buffer.from(encodeStream(message!, { compress: true })).toString('hex')).toBe(inner.toString('hex'));
      } else {
        expect(Buffer.from(encodeStream(message!, { compress: true })).toString('hex')).toBe(bytes.toString('hex'));
      }
    }
  });
});

describe('Serf queries captured from a real agent', () => {
  const userPayloads = (file: string) => decodePacket(bytesOf(file)).flatMap((m) => (m.type === 'user' ? [m.payload] : []));

  it('`serf query q hi` decodes and re-encodes to Serf’s bytes', () => {
    const [payload] = userPayloads('udp-user-query.hex').filter((p) => p[0] === 4);
    const query = decodeSerfQuery(payload!);
    expect(query).toMatchObject({ name: 'q', payload: Buffer.from('hi'), filters: [], flags: QueryFlag.ack });
    expect(query.timeoutMs).toBeGreaterThan(0);
    expect(Buffer.from(encodeSerfQuery(query)).toString('hex')).toBe(Buffer.from(payload!).toString('hex'));
  });

  it('the response Serf sent straight to the asker decodes and re-encodes to the same bytes', () => {
    const [payload] = userPayloads('udp-user-query-response.hex');
    const response = decodeSerfQueryResponse(payload!);
    expect(response.from.length).toBeGreaterThan(0);
    expect(Buffer.from(encodeSerfQueryResponse(response)).toString('hex')).toBe(Buffer.from(payload!).toString('hex'));
  });
});
