/**
 * Integrity of the captured Serf fixtures (test/fixtures/serf/, made by
 * scripts/capture-serf-fixtures.ts): every file is listed in manifest.json with its size, the
 * CRC wrappers are valid, the encrypted ones open with the test key to the recorded plaintext,
 * and the capture run refuted none of the spec claims it checked. Needs no Serf agent.
 */
import { createDecipheriv } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'serf');
const TEST_KEY = Buffer.alloc(32, 1);

interface FixtureEntry {
  file: string;
  transport: 'udp' | 'tcp';
  bytes: number;
  encrypted: boolean;
  plaintextHex?: string;
  outline: string;
}

const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as { fixtures: FixtureEntry[]; testKeyHex: string };
const facts = JSON.parse(readFileSync(join(DIR, 'agent-facts.json'), 'utf8')) as {
  vsnAdvertised: string[];
  ownAddrLength: number[];
  checks: { section: string; claim: string; outcome: string; evidence: string }[];
};

const hex = (file: string): Buffer => {
  const text = readFileSync(join(DIR, file), 'utf8').trim();
  expect(text).toMatch(/^([0-9a-f]{2})+$/);
  return Buffer.from(text, 'hex');
};

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function open(blob: Buffer, aad: Buffer): Buffer {
  const d = createDecipheriv('aes-256-gcm', TEST_KEY, blob.subarray(1, 13));
  if (aad.length > 0) d.setAAD(aad);
  d.setAuthTag(blob.subarray(blob.length - 16));
  return Buffer.concat([d.update(blob.subarray(13, blob.length - 16)), d.final()]);
}

describe('Serf fixtures', () => {
  it('manifest and files agree', () => {
    const files = readdirSync(DIR)
      .filter((f) => f.endsWith('.hex'))
      .sort();
    expect(manifest.fixtures.map((f) => f.file).sort()).toEqual(files);
    expect(manifest.testKeyHex).toBe(TEST_KEY.toString('hex'));
    for (const f of manifest.fixtures) expect(hex(f.file).length, f.file).toBe(f.bytes);
  });

  it('CRC-wrapped datagrams carry a valid CRC32 over the rest', () => {
    const wrapped = manifest.fixtures.filter((f) => f.transport === 'udp' && !f.encrypted && f.outline.startsWith('crc('));
    expect(wrapped.length).toBeGreaterThan(0);
    for (const f of wrapped) {
      const b = hex(f.file);
      expect(b[0], f.file).toBe(0x0c);
      expect(crc32(b.subarray(5)), f.file).toBe(b.readUInt32BE(1));
    }
  });

  it('encrypted fixtures open with the test key to the recorded plaintext', () => {
    const enc = manifest.fixtures.filter((f) => f.encrypted);
    expect(enc.some((f) => f.transport === 'udp')).toBe(true);
    expect(enc.some((f) => f.transport === 'tcp')).toBe(true);
    for (const f of enc) {
      const b = hex(f.file);
      let plain: Buffer;
      // UDP: the whole datagram, version 1, no AAD; TCP: an encrypt frame whose 5-byte header is the AAD.
      if (f.transport === 'udp') plain = open(b, Buffer.alloc(0));
      else {
        expect(b[0]).toBe(0x0a);
        expect(b.readUInt32BE(1)).toBe(b.length - 5);
        plain = open(b.subarray(5), b.subarray(0, 5));
      }
      expect(plain.toString('hex'), f.file).toBe(f.plaintextHex);
    }
  });

  it('the capture refuted no spec claim it checked, and recorded the agent facts', () => {
    expect(facts.checks.length).toBeGreaterThan(40);
    expect(facts.checks.filter((c) => c.outcome === 'refuted')).toEqual([]);
    expect(facts.vsnAdvertised).toEqual(['010502020505']);
    expect(facts.ownAddrLength).toEqual([4]);
  });
});
