/**
 * Captures real Serf agent traffic on loopback and writes representative raw messages as hex
 * fixtures to test/fixtures/serf/ (one message per file), plus manifest.json (what each file is,
 * decoded by the small reference decoder below) and agent-facts.json (facts the codec must
 * honour, and every spec claim this run could check, with the outcome).
 *
 * Run (needs `serf` and `tshark` on PATH, and permission to capture on `lo`, e.g. root):
 *
 *   npx vite-node scripts/capture-serf-fixtures.ts [--out test/fixtures/serf] [--keep-pcap DIR]
 *
 * Not run in CI (tshark is not installed there). It reuses the interop harness
 * (test/interop/serf-harness.ts) to start agents on free 127.0.0.1 ports and kills every
 * process it starts (agents and tshark) by PID, also on failure.
 *
 * Scenario (plaintext agents a, b, c, f; encrypted agents d, e with TEST_KEY):
 *  1. a (tags role=web, dc=x) starts; b (tag role=db) and c (no tags) join a   → TCP join
 *     push/pulls, CRC-wrapped compound gossip (alive + Serf join intents), pings/acks.
 *  2. `serf event deploy v1` and a 400-byte repetitive event → user events, LZW-compressed UDP.
 *  3. `serf query` → Serf query (type 4) and query acks/responses (type 5).
 *  4. SIGSTOP c until a and b report it failed → indirect pings + nacks, TCP fallback ping,
 *     ping+suspect compound, suspect and dead gossip; then SIGCONT c → c refutes (alive inc 2+).
 *  5. `serf leave` on b → Serf leave intent and dead{From == Node}.
 *  6. SIGKILL c until failed; f joins a → push/pull reply listing left and dead members.
 *  7. d and e with -encrypt TEST_KEY: e joins d, an event, e leaves → AES-GCM UDP and TCP.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createDecipheriv } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, SERF_BIN, sleep, startSerfAgent, stopAllSerfAgents, type SerfAgent } from '../test/interop/serf-harness.js';

/** The fixed test key: 32 bytes of 0x01 (AES-256-GCM); base64 "AQEB…AQE=". */
export const TEST_KEY_BYTES: Buffer = Buffer.alloc(32, 1);
export const TEST_KEY: string = TEST_KEY_BYTES.toString('base64');

// =============================================================================================
// Reference decoder (independent of src/; written from the spec, for classification and checks)

/** A msgpack "raw" (str family or bin) value, kept as bytes, with the format byte it used. */
class Raw {
  constructor(
    readonly bytes: Buffer,
    readonly fmt: string,
  ) {}
  text(): string {
    return this.bytes.toString('utf8');
  }
}

/** A msgpack map, keys in wire order. */
class MpMap {
  constructor(
    readonly keys: Mp[],
    readonly values: Mp[],
  ) {}
}

type Mp = null | boolean | number | bigint | Raw | MpMap | Mp[];

interface Stats {
  /** Count of each msgpack format used, by name. */
  formats: Record<string, number>;
  /** Struct maps (all keys start uppercase) whose keys were not sorted bytewise. */
  unsortedStructs: string[];
  /** Integers not in their smallest unsigned form. */
  nonMinimalInts: string[];
  negativeInts: number;
}

const newStats = (): Stats => ({ formats: {}, unsortedStructs: [], nonMinimalInts: [], negativeInts: 0 });

class Reader {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    readonly stats: Stats,
  ) {}
  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error(`msgpack: truncated at ${this.pos} (+${n} > ${this.buf.length})`);
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  take(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  count(fmt: string): void {
    this.stats.formats[fmt] = (this.stats.formats[fmt] ?? 0) + 1;
  }
  value(): Mp {
    const b = this.u8();
    if (b <= 0x7f) {
      this.count('posfixint');
      return b;
    }
    if (b >= 0xe0) {
      this.count('negfixint');
      this.stats.negativeInts++;
      return b - 0x100;
    }
    if ((b & 0xf0) === 0x80) {
      this.count('fixmap');
      return this.map(b & 0x0f);
    }
    if ((b & 0xf0) === 0x90) {
      this.count('fixarray');
      return this.array(b & 0x0f);
    }
    if ((b & 0xe0) === 0xa0) {
      this.count('fixstr');
      return new Raw(this.take(b & 0x1f), 'fixstr');
    }
    const uint = (n: number, name: string, min: number): number | bigint => {
      this.count(name);
      const v = n === 8 ? this.take(8).readBigUInt64BE() : this.take(n).readUIntBE(0, n);
      if (BigInt(v) < BigInt(min)) this.stats.nonMinimalInts.push(`${name}(${v})`);
      return typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    };
    const sint = (n: number, name: string): number | bigint => {
      this.count(name);
      const v = n === 8 ? this.take(8).readBigInt64BE() : this.take(n).readIntBE(0, n);
      if (v < 0) this.stats.negativeInts++;
      return typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
    };
    switch (b) {
      case 0xc0:
        this.count('nil');
        return null;
      case 0xc2:
        this.count('false');
        return false;
      case 0xc3:
        this.count('true');
        return true;
      case 0xc4:
        this.count('bin8');
        return new Raw(this.take(this.u8()), 'bin8');
      case 0xc5:
        this.count('bin16');
        return new Raw(this.take(this.take(2).readUInt16BE()), 'bin16');
      case 0xc6:
        this.count('bin32');
        return new Raw(this.take(this.take(4).readUInt32BE()), 'bin32');
      case 0xca:
        this.count('float32');
        return this.take(4).readFloatBE();
      case 0xcb:
        this.count('float64');
        return this.take(8).readDoubleBE();
      case 0xcc:
        return uint(1, 'uint8', 0x80);
      case 0xcd:
        return uint(2, 'uint16', 0x100);
      case 0xce:
        return uint(4, 'uint32', 0x10000);
      case 0xcf:
        return uint(8, 'uint64', 0x100000000);
      case 0xd0:
        return sint(1, 'int8');
      case 0xd1:
        return sint(2, 'int16');
      case 0xd2:
        return sint(4, 'int32');
      case 0xd3:
        return sint(8, 'int64');
      case 0xd9:
        this.count('str8');
        return new Raw(this.take(this.u8()), 'str8');
      case 0xda:
        this.count('str16');
        return new Raw(this.take(this.take(2).readUInt16BE()), 'str16');
      case 0xdb:
        this.count('str32');
        return new Raw(this.take(this.take(4).readUInt32BE()), 'str32');
      case 0xdc:
        this.count('array16');
        return this.array(this.take(2).readUInt16BE());
      case 0xdd:
        this.count('array32');
        return this.array(this.take(4).readUInt32BE());
      case 0xde:
        this.count('map16');
        return this.map(this.take(2).readUInt16BE());
      case 0xdf:
        this.count('map32');
        return this.map(this.take(4).readUInt32BE());
      default:
        throw new Error(`msgpack: unsupported format 0x${b.toString(16)} at ${this.pos - 1}`);
    }
  }
  array(n: number): Mp[] {
    const out: Mp[] = [];
    for (let i = 0; i < n; i++) out.push(this.value());
    return out;
  }
  map(n: number): MpMap {
    const keys: Mp[] = [];
    const values: Mp[] = [];
    for (let i = 0; i < n; i++) {
      keys.push(this.value());
      values.push(this.value());
    }
    const names = keys.map((k) => (k instanceof Raw ? k.bytes.toString('latin1') : ''));
    if (names.length > 1 && names.every((k) => /^[A-Z]/.test(k))) {
      for (let i = 1; i < names.length; i++) {
        if (Buffer.compare(Buffer.from(names[i - 1]!, 'latin1'), Buffer.from(names[i]!, 'latin1')) >= 0) {
          this.stats.unsortedStructs.push(names.join(','));
          break;
        }
      }
    }
    return new MpMap(keys, values);
  }
}

/** Decodes one msgpack value at `r`. */
const mp = (r: Reader): Mp => r.value();

/** A struct (map with raw-string keys) as a record. */
function struct(v: Mp): Record<string, Mp> {
  if (!(v instanceof MpMap)) throw new Error('expected a msgpack map');
  const out: Record<string, Mp> = {};
  v.keys.forEach((k, i) => {
    if (!(k instanceof Raw)) throw new Error('non-string map key');
    out[k.bytes.toString('latin1')] = v.values[i]!;
  });
  return out;
}

/** JSON-friendly rendering: raws as text when printable ASCII, else {hex}; maps as objects. */
function show(v: Mp, binary = false): unknown {
  if (v instanceof Raw) {
    const printable = v.bytes.length > 0 && /^[\x20-\x7e]*$/.test(v.bytes.toString('latin1'));
    return printable && !binary ? v.text() : { hex: v.bytes.toString('hex'), fmt: v.fmt };
  }
  if (v instanceof MpMap) {
    const o: Record<string, unknown> = {};
    v.keys.forEach((k, i) => {
      const name = k instanceof Raw ? k.text() : String(k);
      o[name] = show(v.values[i]!, BINARY_FIELDS.has(name));
    });
    return o;
  }
  if (Array.isArray(v)) return v.map((x) => show(x));
  if (typeof v === 'bigint') return v.toString();
  return v;
}

const BINARY_FIELDS = new Set(['Addr', 'Meta', 'Vsn', 'Payload', 'Buf', 'SourceAddr', 'Target']);

// --- CRC32 (IEEE, reflected 0xEDB88320) -----------------------------------------------------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// --- LZW (Go compress/lzw, LSB order, 8-bit literals) ----------------------------------------

function lzwDecode(data: Buffer): Buffer {
  const CLEAR = 256;
  const EOF = 257;
  const INVALID = 0xffff;
  const prefix = new Uint16Array(4096);
  const suffix = new Uint8Array(4096);
  const out: number[] = [];
  let bits = 0;
  let nBits = 0;
  let pos = 0;
  let width = 9;
  let hi = EOF;
  let overflow = 512;
  let last = INVALID;
  const expand = (code: number): number[] => {
    const s: number[] = [];
    while (code >= CLEAR) {
      s.push(suffix[code]!);
      code = prefix[code]!;
    }
    s.push(code);
    return s.reverse();
  };
  for (;;) {
    while (nBits < width) {
      if (pos >= data.length) throw new Error('lzw: missing EOF code');
      bits |= data[pos++]! << nBits;
      nBits += 8;
    }
    const code = bits & ((1 << width) - 1);
    bits >>>= width;
    nBits -= width;
    if (code === CLEAR) {
      width = 9;
      hi = EOF;
      overflow = 512;
      last = INVALID;
      continue;
    }
    if (code === EOF) break;
    let first: number;
    if (code < CLEAR) {
      out.push(code);
      first = code;
    } else if (code <= hi) {
      let s: number[];
      if (code === hi && last !== INVALID) {
        const p = expand(last);
        s = [...p, p[0]!];
      } else if (code === hi) {
        throw new Error('lzw: code == hi with no previous code');
      } else {
        s = expand(code);
      }
      out.push(...s);
      first = s[0]!;
    } else {
      throw new Error(`lzw: invalid code ${code} (hi ${hi})`);
    }
    if (last !== INVALID) {
      suffix[hi] = first;
      prefix[hi] = last;
    }
    last = code;
    hi++;
    if (hi >= overflow) {
      if (width === 12) {
        last = INVALID;
        hi--;
      } else {
        width++;
        overflow <<= 1;
      }
    }
  }
  return Buffer.from(out);
}

/** The docs/wire-format.md §5 encoder (byte-exact with Go 1.19 compress/lzw, as claimed). */
function lzwEncode(input: Buffer): Buffer {
  const CLEAR = 256;
  const EOF = 257;
  const out: number[] = [];
  let bits = 0;
  let nBits = 0;
  let width = 9;
  let hi = EOF;
  let overflow = 512;
  let table = new Map<number, number>();
  const write = (code: number): void => {
    bits |= code << nBits;
    nBits += width;
    while (nBits >= 8) {
      out.push(bits & 0xff);
      bits >>>= 8;
      nBits -= 8;
    }
  };
  /** Returns false when the table was reset (out of codes). */
  const incHi = (): boolean => {
    hi++;
    if (hi === overflow) {
      width++;
      overflow <<= 1;
    }
    if (hi === 4095) {
      write(CLEAR);
      width = 9;
      hi = EOF;
      overflow = 512;
      table = new Map();
      return false;
    }
    return true;
  };
  write(CLEAR);
  let saved = -1;
  for (const x of input) {
    if (saved < 0) {
      saved = x;
      continue;
    }
    const key = (saved << 8) | x;
    const found = table.get(key);
    if (found !== undefined) {
      saved = found;
      continue;
    }
    write(saved);
    saved = x;
    if (incHi()) table.set(key, hi);
  }
  if (saved >= 0) {
    write(saved);
    incHi();
  }
  write(EOF);
  if (nBits > 0) out.push(bits & 0xff);
  return Buffer.from(out);
}

/** msgpack raw header as go-msgpack writes it (fixstr / str16 / str32). */
function rawHeader(n: number): Buffer {
  if (n < 32) return Buffer.of(0xa0 | n);
  if (n < 65536) return Buffer.of(0xda, n >> 8, n & 0xff);
  const b = Buffer.alloc(5);
  b[0] = 0xdb;
  b.writeUInt32BE(n, 1);
  return b;
}

/** `09 {Algo: 0, Buf: lzw(payload)}` exactly as memberlist's compressPayload would produce it. */
function compressMessage(payload: Buffer): Buffer {
  const lzw = lzwEncode(payload);
  return Buffer.concat([Buffer.from('0982a4416c676f00a3427566', 'hex'), rawHeader(lzw.length), lzw]);
}

// --- AES-GCM ---------------------------------------------------------------------------------

function gcmOpen(key: Buffer, blob: Buffer, aad: Buffer): Buffer {
  if (blob.length < 29) throw new Error(`encrypted blob too short (${blob.length})`);
  if (blob[0] !== 1 && blob[0] !== 0) throw new Error(`unknown encryption version ${blob[0]}`);
  const nonce = blob.subarray(1, 13);
  const tag = blob.subarray(blob.length - 16);
  const ct = blob.subarray(13, blob.length - 16);
  const d = createDecipheriv(`aes-${key.length * 8}-gcm` as 'aes-256-gcm', key, nonce);
  if (aad.length > 0) d.setAAD(aad);
  d.setAuthTag(tag);
  let plain = Buffer.concat([d.update(ct), d.final()]);
  if (blob[0] === 0) plain = plain.subarray(0, plain.length - plain[plain.length - 1]!);
  return plain;
}

// --- memberlist / Serf message decoding ------------------------------------------------------

const ML_TYPES: Record<number, string> = {
  0: 'ping',
  1: 'indirectPing',
  2: 'ack',
  3: 'suspect',
  4: 'alive',
  5: 'dead',
  6: 'pushPull',
  7: 'compound',
  8: 'user',
  9: 'compress',
  10: 'encrypt',
  11: 'nack',
  12: 'hasCrc',
  13: 'err',
};

const SERF_TYPES: Record<number, string> = {
  0: 'leave',
  1: 'join',
  2: 'pushPull',
  3: 'userEvent',
  4: 'query',
  5: 'queryResponse',
  6: 'conflictResponse',
  7: 'keyRequest',
  8: 'keyResponse',
  9: 'relay',
};

/** One decoded layer/message. */
interface Node {
  /** memberlist type byte (or -1 for an encrypted UDP blob, -2 for Serf-only layers). */
  type: number;
  name: string;
  /** Byte length of this layer (with its type byte). */
  length: number;
  fields?: Record<string, unknown>;
  /** Field names in wire order (msgpack bodies). */
  keys?: string[];
  children?: Node[];
  /** Extra facts (crc ok, re-encoding matches, …). */
  notes?: Record<string, unknown>;
  /** Serf payload for `user` messages. */
  serf?: Node;
}

interface DecodeCtx {
  stats: Stats;
  key?: Buffer;
  /** Every leaf node, with the path of wrapper names leading to it. */
  leaves: { path: string[]; node: Node }[];
  path: string[];
  issues: string[];
}

function decodeStruct(buf: Buffer, ctx: DecodeCtx): { fields: Record<string, Mp>; keys: string[]; end: number } {
  const r = new Reader(buf, ctx.stats);
  const v = mp(r);
  const fields = struct(v);
  return { fields, keys: Object.keys(fields), end: r.pos };
}

function showFields(fields: Record<string, Mp>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) o[k] = show(v, BINARY_FIELDS.has(k));
  return o;
}

/** Serf Meta: 0xFF + msgpack map of tags; else legacy role string. */
function decodeMeta(meta: Mp, ctx: DecodeCtx): unknown {
  if (!(meta instanceof Raw)) return meta;
  const b = meta.bytes;
  if (b.length === 0 || b[0] !== 0xff) return { legacyRole: b.toString('latin1') };
  const tags = struct(mp(new Reader(b.subarray(1), ctx.stats)));
  const o: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) o[k] = v instanceof Raw ? v.text() : String(v);
  return { tags: o };
}

function decodeSerf(buf: Buffer, ctx: DecodeCtx): Node {
  const t = buf[0]!;
  const name = SERF_TYPES[t] ?? `serf-unknown-${t}`;
  const node: Node = { type: -2, name: `serf:${name}`, length: buf.length };
  try {
    const r = new Reader(buf.subarray(1), ctx.stats);
    const v = mp(r);
    const fields = struct(v);
    node.keys = Object.keys(fields);
    node.fields = showFields(fields);
    if (t === 9) {
      node.children = [decodeSerf(buf.subarray(1 + r.pos), ctx)];
    } else if (1 + r.pos !== buf.length) {
      node.notes = { trailingBytes: buf.length - 1 - r.pos };
    }
  } catch (error) {
    ctx.issues.push(`serf ${name}: ${String(error)}`);
  }
  return node;
}

/** Decodes one memberlist message (type byte + body) from a packet. */
function decodeMessage(buf: Buffer, ctx: DecodeCtx): Node {
  if (buf.length === 0) {
    ctx.issues.push('empty message');
    return { type: -3, name: 'empty', length: 0 };
  }
  const t = buf[0]!;
  const name = ML_TYPES[t] ?? `unknown-${t}`;
  const node: Node = { type: t, name, length: buf.length };
  const body = buf.subarray(1);
  const leaf = (): Node => {
    ctx.leaves.push({ path: [...ctx.path], node });
    return node;
  };
  const nested = (label: string, inner: Buffer[]): Node => {
    ctx.path.push(label);
    node.children = inner.map((b) => decodeMessage(b, ctx));
    ctx.path.pop();
    return node;
  };
  switch (t) {
    case 7: {
      const n = body[0]!;
      const lens: number[] = [];
      for (let i = 0; i < n; i++) lens.push(body.readUInt16BE(1 + 2 * i));
      let off = 1 + 2 * n;
      const parts: Buffer[] = [];
      for (const len of lens) {
        parts.push(body.subarray(off, off + len));
        off += len;
      }
      node.notes = { count: n, lengths: lens, trailingBytes: body.length - off };
      return nested('compound', parts);
    }
    case 12: {
      const crc = body.readUInt32BE(0);
      const msg = body.subarray(4);
      node.notes = { crc: crc.toString(16).padStart(8, '0'), crcOk: crc32(msg) === crc };
      if (crc32(msg) !== crc) ctx.issues.push('CRC mismatch');
      return nested('crc', [msg]);
    }
    case 9: {
      const { fields, keys, end } = decodeStruct(body, ctx);
      node.keys = keys;
      const buf2 = fields.Buf instanceof Raw ? fields.Buf.bytes : Buffer.alloc(0);
      const plain = lzwDecode(buf2);
      const reencoded = lzwEncode(plain);
      node.fields = { Algo: show(fields.Algo!), Buf: { hex: buf2.toString('hex'), fmt: (fields.Buf as Raw).fmt } };
      node.notes = {
        decompressedLength: plain.length,
        lzwReencodeMatches: reencoded.equals(buf2),
        trailingBytes: body.length - end,
      };
      return nested('compress', [plain]);
    }
    case 8: {
      // UDP user message: raw Serf bytes follow.
      node.serf = decodeSerf(body, ctx);
      return leaf();
    }
    default: {
      if (!(t in ML_TYPES)) {
        ctx.issues.push(`unknown memberlist type ${t}`);
        return leaf();
      }
      const { fields, keys, end } = decodeStruct(body, ctx);
      node.keys = keys;
      node.fields = showFields(fields);
      if (end !== body.length) node.notes = { trailingBytes: body.length - end };
      if (t === 4) node.fields.MetaDecoded = decodeMeta(fields.Meta ?? null, ctx);
      if (t === 2 && fields.Payload instanceof Raw && fields.Payload.bytes.length > 0) {
        const p = fields.Payload.bytes;
        node.fields.PayloadDecoded = {
          version: p[0],
          coordinate: show(mp(new Reader(p.subarray(1), ctx.stats))),
        };
      }
      return leaf();
    }
  }
}

/** A UDP datagram: decrypt (if a key is given), then the message tree. */
function decodeDatagram(buf: Buffer, ctx: DecodeCtx): { root: Node; plain: Buffer; encrypted: boolean } {
  if (ctx.key !== undefined) {
    const plain = gcmOpen(ctx.key, buf, Buffer.alloc(0));
    ctx.path.push('encrypted');
    const child = decodeMessage(plain, ctx);
    ctx.path.pop();
    return {
      root: { type: -1, name: 'encrypted', length: buf.length, notes: { version: buf[0], plaintextLength: plain.length }, children: [child] },
      plain,
      encrypted: true,
    };
  }
  return { root: decodeMessage(buf, ctx), plain: buf, encrypted: false };
}

/** One direction of a TCP connection. */
function decodeStream(buf: Buffer, ctx: DecodeCtx): { root: Node; plain: Buffer; encrypted: boolean } {
  let encrypted = false;
  let plain = buf;
  let outer: Node | undefined;
  if (buf[0] === 10) {
    const len = buf.readUInt32BE(1);
    const blob = buf.subarray(5, 5 + len);
    if (ctx.key === undefined) throw new Error('encrypted stream but no key');
    plain = gcmOpen(ctx.key, blob, buf.subarray(0, 5));
    encrypted = true;
    outer = {
      type: 10,
      name: 'encrypt',
      length: buf.length,
      notes: {
        declaredLength: len,
        blobLength: blob.length,
        version: blob[0],
        trailingBytes: buf.length - 5 - blob.length,
        aad: buf.subarray(0, 5).toString('hex'),
      },
    };
  }
  let inner = plain;
  let compress: Node | undefined;
  if (inner[0] === 9) {
    const { fields, keys, end } = decodeStruct(inner.subarray(1), ctx);
    const b = (fields.Buf as Raw).bytes;
    const out = lzwDecode(b);
    compress = {
      type: 9,
      name: 'compress',
      length: inner.length,
      keys,
      fields: { Algo: show(fields.Algo!), Buf: { hex: b.toString('hex'), fmt: (fields.Buf as Raw).fmt } },
      notes: { decompressedLength: out.length, lzwReencodeMatches: lzwEncode(out).equals(b), trailingBytes: inner.length - 1 - end },
    };
    inner = out;
  }
  const t = inner[0]!;
  const body = inner.subarray(1);
  const msg: Node = { type: t, name: ML_TYPES[t] ?? `unknown-${t}`, length: inner.length };
  const r = new Reader(body, ctx.stats);
  if (t === 6) {
    const header = struct(mp(r));
    msg.keys = Object.keys(header);
    msg.fields = { header: showFields(header) };
    const nodes = Number(header.Nodes);
    const states: unknown[] = [];
    const stateKeys: string[][] = [];
    for (let i = 0; i < nodes; i++) {
      const s = struct(mp(r));
      stateKeys.push(Object.keys(s));
      const shown = showFields(s);
      shown.MetaDecoded = decodeMeta(s.Meta ?? null, ctx);
      states.push(shown);
    }
    msg.fields.states = states;
    msg.fields.stateKeys = stateKeys[0];
    const userLen = Number(header.UserStateLen);
    const user = body.subarray(r.pos, r.pos + userLen);
    msg.fields.userStateLength = user.length;
    if (user.length > 0) {
      const us = decodeSerf(user, ctx);
      msg.fields.userState = { serfType: user[0], keys: us.keys, fields: us.fields };
    }
    msg.notes = { trailingBytes: body.length - r.pos - userLen };
  } else if (t === 8) {
    const header = struct(mp(r));
    msg.keys = Object.keys(header);
    msg.fields = showFields(header);
    msg.serf = decodeSerf(body.subarray(r.pos), ctx);
  } else if (t in ML_TYPES) {
    const f = struct(mp(r));
    msg.keys = Object.keys(f);
    msg.fields = showFields(f);
    msg.notes = { trailingBytes: body.length - r.pos };
  }
  ctx.leaves.push({ path: [...(encrypted ? ['encrypt'] : []), ...(compress ? ['compress'] : [])], node: msg });
  let root: Node = msg;
  if (compress) root = { ...compress, children: [root] };
  if (outer) root = { ...outer, children: [root] };
  return { root, plain, encrypted };
}

/**
 * For the manifest: long, mostly-nil arrays (Serf's 512 event slots) become {length, nonNull},
 * and LZW Buf bytes (already in the fixture itself) become their length.
 */
function compact(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) {
    if (v.length > 16 && v.filter((x) => x === null).length > v.length / 2) {
      const nonNull: Record<string, unknown> = {};
      v.forEach((x, i) => {
        if (x !== null) nonNull[i] = compact(x);
      });
      return { length: v.length, nonNull };
    }
    return v.map((x) => compact(x));
  }
  if (v !== null && typeof v === 'object') {
    if (key === 'Buf' && 'hex' in v) {
      const h = v as { hex: string; fmt: string };
      return { bytes: h.hex.length / 2, fmt: h.fmt };
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, compact(x, k)]));
  }
  return v;
}

/** "crc(compound[alive(b#1),user(serf:join b)])" */
function outline(n: Node): string {
  const kids = (n.children ?? []).map(outline);
  switch (n.name) {
    case 'hasCrc':
      return `crc(${kids.join(',')})`;
    case 'compress':
      return `compress(${kids.join(',')})`;
    case 'compound':
      return `compound[${kids.join(',')}]`;
    case 'encrypted':
    case 'encrypt':
      return `encrypted(${kids.join(',')})`;
    case 'user':
      return `user(${n.serf?.name ?? '?'})`;
    case 'alive':
    case 'suspect':
    case 'dead': {
      const f = n.fields ?? {};
      return `${n.name}(${String(f.Node)}#${String(f.Incarnation)}${f.From !== undefined ? ` from ${String(f.From)}` : ''})`;
    }
    case 'pushPull': {
      const h = (n.fields?.header ?? {}) as Record<string, unknown>;
      return `pushPull(join=${String(h.Join)},nodes=${String(h.Nodes)},user=${String(h.UserStateLen)})`;
    }
    default:
      return n.name;
  }
}

/** The reference decoder against the spec's own vectors (§3.1, §3.3, §5, §6) before judging anything. */
function selfTest(): void {
  const eq = (what: string, got: string, want: string): void => {
    if (got !== want) throw new Error(`self-test ${what}: got ${got}, want ${want}`);
  };
  const ping = Buffer.from(
    '0085a44e6f6465a66e6f64652d62a55365714e6f07aa536f7572636541646472a40a000001aa536f757263654e6f6465a66e6f64652d61aa536f75726365506f7274cd1f0a',
    'hex',
  );
  eq('ping length', String(ping.length), '69');
  eq('crc32', crc32(ping).toString(16), '7553ccdb');
  eq(
    'lzw TOBEOR…',
    compressMessage(Buffer.from('TOBEORNOTTOBEORTOBEORNOT')).toString('hex'),
    '0982a4416c676f00a3427566b500a93c1152e48914274fa80824687061c183090302',
  );
  eq('lzw empty', lzwEncode(Buffer.alloc(0)).toString('hex'), '000302');
  const alive = Buffer.from(
    '0486a441646472a40a000001ab496e6361726e6174696f6e01a44d657461a2ff80a44e6f6465a66e6f64652d61a4506f7274cd1f0aa356736ea6010502020504',
    'hex',
  );
  eq('alive length', String(alive.length), '64');
  const lzwAlive =
    '0009182215840c1939a4140000106055123763c2c87113864e9a376e02906a52864e1851ff009172f2864c19536e4a9669118614943772e834fba0609495396e4c052820404001020101';
  eq('lzw alive', lzwEncode(alive).toString('hex'), lzwAlive);
  eq('lzw decode alive', lzwDecode(Buffer.from(lzwAlive, 'hex')).toString('hex'), alive.toString('hex'));
  for (const n of [0, 1, 1000, 70_000, 300_000]) {
    const x = Buffer.alloc(n);
    for (let i = 0; i < n; i++) x[i] = ((i * 7919) % 251) ^ (i >> 9);
    eq(`lzw roundtrip ${n}`, lzwDecode(lzwEncode(x)).toString('hex'), x.toString('hex'));
  }
  const key16 = Buffer.alloc(16, 1);
  const udp = Buffer.from(
    '01020202020202020202020202' +
      '5361b42da94a23daf98f6a519f83df083e3c075257582375bd106252cce8e99cac4aeff73cf7c03ff3ea8c01f16d7b76996da5d36456262880e2710331297375ce59b2fe8c' +
      '762c5e444a6a31dfb46cc31588a4f6c0',
    'hex',
  );
  eq('gcm udp', gcmOpen(key16, udp, Buffer.alloc(0)).toString('hex'), ping.toString('hex'));
  const tcpBlob = Buffer.concat([udp.subarray(0, udp.length - 16), Buffer.from('dcd23a9735fec0e59bd2f8997e77a43a', 'hex')]);
  eq('gcm tcp', gcmOpen(key16, tcpBlob, Buffer.from('0a00000062', 'hex')).toString('hex'), ping.toString('hex'));
}

// =============================================================================================
// Capture

interface UdpPacket {
  frame: number;
  time: number;
  src: number;
  dst: number;
  bytes: Buffer;
}

interface TcpDirection {
  stream: number;
  /** The connecting side's (ephemeral) port and the listening gossip port. */
  clientPort: number;
  serverPort: number;
  fromClient: boolean;
  firstFrame: number;
  time: number;
  bytes: Buffer;
}

function need(bin: string, args: string[]): void {
  const r = spawnSync(bin, args, { stdio: 'ignore' });
  if (r.error !== undefined || r.status !== 0) {
    console.error(`${bin} is required (${r.error?.message ?? `exit ${r.status}`})`);
    process.exit(2);
  }
}

function startTshark(ports: number[], file: string): Promise<ChildProcess> {
  const filter = ports.map((p) => `udp port ${p} or tcp port ${p}`).join(' or ');
  const child = spawn('tshark', ['-i', 'lo', '-f', filter, '-w', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolvePromise, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`tshark did not start capturing:\n${err}`)), 15_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('Capturing on')) {
        clearTimeout(timer);
        resolvePromise(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`tshark exited (${code}):\n${err}`)));
  });
}

async function stopTshark(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGINT');
  const done = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
  if (!done) {
    child.kill('SIGKILL');
    await exited;
  }
}

function readCapture(file: string): { udp: UdpPacket[]; tcp: TcpDirection[] } {
  const fields = [
    'frame.number',
    'frame.time_relative',
    'udp.srcport',
    'udp.dstport',
    'tcp.srcport',
    'tcp.dstport',
    'tcp.stream',
    'tcp.seq',
    'tcp.flags.syn',
    'tcp.flags.ack',
    'udp.payload',
    'tcp.payload',
  ];
  const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=/t', ...fields.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  if (r.status !== 0) throw new Error(`tshark -r failed: ${r.stderr}`);
  const udp: UdpPacket[] = [];
  const streams = new Map<number, { client: number; server: number; dirs: Map<boolean, { first: number; time: number; chunks: Map<number, Buffer> }> }>();
  for (const line of r.stdout.split('\n')) {
    if (line.trim() === '') continue;
    const [frame, time, usrc, udst, tsrc, tdst, stream, seq, syn, ack, upay, tpay] = line.split('\t');
    if (usrc) {
      udp.push({ frame: Number(frame), time: Number(time), src: Number(usrc), dst: Number(udst), bytes: Buffer.from((upay ?? '').replace(/:/g, ''), 'hex') });
      continue;
    }
    if (!tsrc) continue;
    const id = Number(stream);
    let s = streams.get(id);
    if (s === undefined) {
      // The first segment of a stream is the SYN from the client.
      const isSyn = syn === '1' && ack !== '1';
      s = { client: isSyn ? Number(tsrc) : Number(tdst), server: isSyn ? Number(tdst) : Number(tsrc), dirs: new Map() };
      streams.set(id, s);
    }
    if (!tpay) continue;
    const fromClient = Number(tsrc) === s.client;
    let d = s.dirs.get(fromClient);
    if (d === undefined) {
      d = { first: Number(frame), time: Number(time), chunks: new Map() };
      s.dirs.set(fromClient, d);
    }
    d.chunks.set(Number(seq), Buffer.from(tpay.replace(/:/g, ''), 'hex'));
  }
  const tcp: TcpDirection[] = [];
  for (const [id, s] of streams) {
    for (const [fromClient, d] of s.dirs) {
      const parts = [...d.chunks.entries()].sort((a, b) => a[0] - b[0]);
      let expect = parts[0]![0];
      const bufs: Buffer[] = [];
      for (const [seq, b] of parts) {
        if (seq !== expect) throw new Error(`tcp stream ${id}: gap/overlap at seq ${seq} (expected ${expect})`);
        bufs.push(b);
        expect = seq + b.length;
      }
      tcp.push({ stream: id, clientPort: s.client, serverPort: s.server, fromClient, firstFrame: d.first, time: d.time, bytes: Buffer.concat(bufs) });
    }
  }
  tcp.sort((a, b) => a.firstFrame - b.firstFrame);
  return { udp, tcp };
}

// =============================================================================================
// Main

interface Decoded {
  kind: 'udp' | 'tcp';
  frame: number;
  time: number;
  from: string;
  to: string;
  fromPort: number;
  toPort: number;
  bytes: Buffer;
  plain: Buffer;
  encrypted: boolean;
  root: Node;
  outline: string;
  leaves: { path: string[]; node: Node }[];
  issues: string[];
  /** TCP only. */
  stream?: number;
  fromClient?: boolean;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface CaptureRun {
  pcap: string;
  port: Record<string, number>;
  timings: Record<string, number>;
  serfVersion: string;
  capturedAt: string;
}

/** Runs the scenario under tshark and returns where the capture is. Kills everything it starts. */
async function capture(pcap: string): Promise<CaptureRun> {
  need(SERF_BIN, ['version']);
  need('tshark', ['--version']);
  const serfVersion = spawnSync(SERF_BIN, ['version'], { encoding: 'utf8' }).stdout.trim();
  const timings: Record<string, number> = {};
  const capturedAt = new Date().toISOString();

  // Ports first, so the capture filter covers every agent from its first packet.
  const names = ['a', 'b', 'c', 'f', 'd', 'e'] as const;
  const port: Record<string, number> = {};
  for (const n of names) port[n] = await freePort();
  let tshark: ChildProcess | undefined;
  const agents: Record<string, SerfAgent> = {};
  const cleanup = (): void => {
    if (tshark?.pid !== undefined && tshark.exitCode === null) {
      try {
        process.kill(tshark.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  };
  process.on('exit', cleanup);

  try {
    tshark = await startTshark(Object.values(port), pcap);
    console.log(`capturing ports ${JSON.stringify(port)} → ${pcap}`);
    const plain = async (name: string, extra: { tags?: Record<string, string>; join?: string[] } = {}): Promise<SerfAgent> =>
      (agents[name] = await startSerfAgent({ name, port: port[name]!, rpcPort: await freePort(), ...extra }));

    // 1. Cluster a, b, c.
    const a = await plain('a', { tags: { role: 'web', dc: 'x' } });
    await sleep(500);
    const b = await plain('b', { tags: { role: 'db' }, join: [a.addr] });
    const c = await plain('c', { join: [a.addr] });
    for (const x of [a, b, c]) await x.waitFor((ms) => ms.filter((m) => m.status === 'alive').length === 3, 20_000, '3 alive');
    await sleep(3000);

    // 2. Events.
    await a.event('deploy', 'v1');
    await sleep(1500);
    await a.event('big', 'x'.repeat(400));
    await sleep(1500);

    // 3. A query (acks + responses).
    await a.cli(['query', '-timeout', '2s', 'q', 'hi'], 10_000);
    await sleep(500);

    // 4. Pause c until failed, then resume: suspicion, dead, refutation.
    let t0 = Date.now();
    process.kill(c.pid, 'SIGSTOP');
    await Promise.all([a.waitForStatus('c', 'failed', 40_000), b.waitForStatus('c', 'failed', 40_000)]);
    timings.sigstopToFailedMs = Date.now() - t0;
    await sleep(1000);
    t0 = Date.now();
    process.kill(c.pid, 'SIGCONT');
    await a.waitForStatus('c', 'alive', 40_000);
    timings.sigcontToAliveAgainMs = Date.now() - t0;
    await sleep(1500);

    // 5. b leaves gracefully.
    t0 = Date.now();
    await b.leave({ waitForExit: false });
    await a.waitForStatus('b', 'left', 15_000);
    timings.leaveToLeftMs = Date.now() - t0;
    await b.exited;
    await sleep(1000);

    // 6. Kill c; f joins and gets a list with left and dead members.
    t0 = Date.now();
    await c.kill('SIGKILL');
    await a.waitForStatus('c', 'failed', 40_000);
    timings.sigkillToFailedMs = Date.now() - t0;
    const f = await plain('f', { join: [a.addr] });
    await f.waitFor((ms) => ms.some((m) => m.name === 'a' && m.status === 'alive'), 10_000, 'sees a');
    await sleep(1500);
    // Wait (bounded) for one periodic push/pull (Join = false): a never joins anyone, so any
    // "Initiating push/pull sync" in its log is periodic; f's first one is its join.
    const syncs = (ag: SerfAgent): number => ag.log().split('Initiating push/pull sync').length - 1;
    t0 = Date.now();
    while (syncs(a) < 1 && syncs(f) < 2 && Date.now() - t0 < 35_000) await sleep(250);

    // 7. Encrypted pair.
    const d = await startSerfAgent({ name: 'd', port: port.d!, rpcPort: await freePort(), encryptKey: TEST_KEY });
    agents.d = d;
    const e = await startSerfAgent({ name: 'e', port: port.e!, rpcPort: await freePort(), encryptKey: TEST_KEY, join: [d.addr] });
    agents.e = e;
    await d.waitFor((ms) => ms.filter((m) => m.status === 'alive').length === 2, 15_000, '2 alive');
    await sleep(2500);
    await d.event('enc', 'hello');
    await sleep(1500);
    await e.leave({ waitForExit: false });
    await d.waitForStatus('e', 'left', 15_000);
    await sleep(500);
  } catch (error) {
    for (const ag of Object.values(agents)) console.error(`--- ${ag.name} log tail ---\n${ag.logTail(30)}`);
    throw error;
  } finally {
    for (const ag of Object.values(agents)) {
      try {
        process.kill(ag.pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    await stopAllSerfAgents();
    if (tshark !== undefined) await stopTshark(tshark);
  }

  return { pcap, port, timings, serfVersion, capturedAt };
}

async function main(): Promise<void> {
  selfTest();
  if (process.argv.includes('--self-test')) {
    console.log('self-test passed');
    return;
  }
  const outDir = resolve(arg('--out') ?? 'test/fixtures/serf');
  const fromPcap = arg('--from-pcap');
  const keepPcap = arg('--keep-pcap');
  const work = mkdtempSync(join(tmpdir(), 'serf-capture-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  let run: CaptureRun;
  if (fromPcap !== undefined) {
    run = JSON.parse(readFileSync(join(fromPcap, 'capture.json'), 'utf8')) as CaptureRun;
    run.pcap = join(fromPcap, 'serf.pcapng');
  } else {
    run = await capture(join(work, 'serf.pcapng'));
  }
  const { port, timings, serfVersion } = run;
  const pcap = run.pcap;
  const names = Object.keys(port);
  const nameOf = new Map<number, string>(Object.entries(port).map(([n, p]) => [p, n]));
  const encryptedNodes = new Set(['d', 'e']);

  // ------------------------------------------------------------------------------------------
  // Decode everything.
  const { udp, tcp } = readCapture(pcap);
  const allStats = newStats();
  const decoded: Decoded[] = [];
  const decodeFailures: string[] = [];
  const label = (p: number): string => nameOf.get(p) ?? `:${p}`;
  for (const p of udp) {
    const enc = encryptedNodes.has(label(p.src)) || encryptedNodes.has(label(p.dst));
    const ctx: DecodeCtx = { stats: allStats, leaves: [], path: [], issues: [], ...(enc ? { key: TEST_KEY_BYTES } : {}) };
    try {
      const { root, plain, encrypted } = decodeDatagram(p.bytes, ctx);
      decoded.push({
        kind: 'udp',
        frame: p.frame,
        time: p.time,
        from: label(p.src),
        to: label(p.dst),
        fromPort: p.src,
        toPort: p.dst,
        bytes: p.bytes,
        plain,
        encrypted,
        root,
        outline: outline(root),
        leaves: ctx.leaves,
        issues: ctx.issues,
      });
    } catch (error) {
      decodeFailures.push(`udp frame ${p.frame} ${label(p.src)}→${label(p.dst)}: ${String(error)} ${p.bytes.toString('hex').slice(0, 80)}`);
    }
  }
  for (const s of tcp) {
    const server = label(s.serverPort);
    const fromPort = s.fromClient ? s.clientPort : s.serverPort;
    const toPort = s.fromClient ? s.serverPort : s.clientPort;
    const enc = encryptedNodes.has(server);
    const ctx: DecodeCtx = { stats: allStats, leaves: [], path: [], issues: [], ...(enc ? { key: TEST_KEY_BYTES } : {}) };
    try {
      const { root, plain, encrypted } = decodeStream(s.bytes, ctx);
      decoded.push({
        kind: 'tcp',
        frame: s.firstFrame,
        time: s.time,
        from: s.fromClient ? `client→${server}` : server,
        to: s.fromClient ? server : `client of ${server}`,
        fromPort,
        toPort,
        bytes: s.bytes,
        plain,
        encrypted,
        root,
        outline: outline(root),
        leaves: ctx.leaves,
        issues: ctx.issues,
        stream: s.stream,
        fromClient: s.fromClient,
      });
    } catch (error) {
      decodeFailures.push(
        `tcp stream ${s.stream} (${s.fromClient ? 'request' : 'reply'}) server ${server}: ${String(error)} ${s.bytes.toString('hex').slice(0, 80)}`,
      );
    }
  }
  decoded.sort((x, y) => x.frame - y.frame);

  // Name the TCP connecting side where the content tells: a join request lists only the joiner
  // itself (Nodes = 1); a TCP ping carries SourceNode. Otherwise it stays "client→server".
  for (const dd of decoded) {
    if (dd.kind !== 'tcp' || !dd.fromClient) continue;
    const pp = dd.leaves.find((l) => l.node.name === 'pushPull');
    const states = (pp?.node.fields?.states ?? []) as { Name?: string }[];
    const ping = dd.leaves.find((l) => l.node.name === 'ping');
    let who = (states.length === 1 ? states[0]!.Name : undefined) ?? (ping?.node.fields?.SourceNode as string | undefined);
    if (who === undefined) {
      // Otherwise: the only other agent of the same group that sent UDP within ±2 s.
      const server = dd.to;
      const group = encryptedNodes.has(server);
      const near = new Set(
        decoded
          .filter(
            (u) => u.kind === 'udp' && Math.abs(u.time - dd.time) <= 2 && u.from !== server && encryptedNodes.has(u.from) === group && names.includes(u.from),
          )
          .map((u) => u.from),
      );
      if (near.size === 1) who = [...near][0]!;
    }
    if (who !== undefined) {
      dd.from = who;
      for (const r of decoded) if (r.kind === 'tcp' && r.stream === dd.stream && !r.fromClient) r.to = who;
    }
  }

  if (process.argv.includes('--dump')) {
    for (const d of decoded) {
      console.log(`${String(d.frame).padStart(5)} ${d.time.toFixed(3).padStart(8)} ${d.kind} ${d.from} → ${d.to} ${d.bytes.length}B ${d.outline}`);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Pick fixtures.
  const leafNames = (d: Decoded): string[] => d.leaves.map((l) => (l.node.name === 'user' ? (l.node.serf?.name ?? 'user') : l.node.name));
  const has = (d: Decoded, name: string): boolean => leafNames(d).includes(name);
  const top = (d: Decoded): Node => (d.encrypted ? d.root.children![0]! : d.root);
  /** The messages of a datagram after decryption, CRC and compression, compound parts flattened. */
  const partsOf = (d: Decoded): Node[] => {
    let n = top(d);
    if (n.name === 'hasCrc') n = n.children![0]!;
    if (n.name === 'compress') n = n.children![0]!;
    return n.name === 'compound' ? n.children! : [n];
  };
  /**
   * A probe ping that went unanswered: its sender later reused the same SeqNo in an indirect
   * ping request or a TCP ping (memberlist does that only for its own probes).
   */
  const isFailedProbePing = (d: Decoded): boolean => {
    const seq = partsOf(d)[0]?.fields?.SeqNo;
    return decoded.some(
      (u) =>
        u.from === d.from &&
        u.time >= d.time &&
        u !== d &&
        u.leaves.some(
          (l) =>
            (l.node.name === 'indirectPing' || (u.kind === 'tcp' && l.node.name === 'ping')) && l.node.fields?.SeqNo === seq && l.node.fields?.Node === d.to,
        ),
    );
  };
  /**
   * A ping sent to relay an indirect ping request: the sender received an indirectPing for the
   * same target within the previous 100 ms. (It looks like a probe, piggybacked gossip included,
   * but goes out by address: no CRC.)
   */
  const isRelayPing = (d: Decoded): boolean =>
    d.kind === 'udp' &&
    partsOf(d)[0]?.name === 'ping' &&
    !isFailedProbePing(d) &&
    decoded.some(
      (u) =>
        u.kind === 'udp' &&
        u.to === d.from &&
        u.time <= d.time &&
        d.time - u.time < 0.1 &&
        partsOf(u).some((x) => x.name === 'indirectPing' && x.fields?.Node === d.to),
    );
  /** Shaped like memberlist's probe of a suspect node: exactly [ping{Node: T}, suspect{Node: T, From: sender}] to T. */
  const looksLikeSuspectProbe = (d: Decoded): boolean => {
    const ps = partsOf(d);
    return (
      d.kind === 'udp' &&
      ps.length === 2 &&
      ps[0]!.name === 'ping' &&
      ps[1]!.name === 'suspect' &&
      ps[0]!.fields?.Node === d.to &&
      ps[1]!.fields?.Node === d.to &&
      ps[1]!.fields?.From === d.from
    );
  };
  /** …and confirmed a probe (not a relay with the same piggyback) by its SeqNo being reused later. */
  const isSuspectProbe = (d: Decoded): boolean => looksLikeSuspectProbe(d) && isFailedProbePing(d);
  const smallest = (xs: Decoded[]): Decoded | undefined => [...xs].sort((x, y) => x.bytes.length - y.bytes.length || x.frame - y.frame)[0];
  const plainUdp = decoded.filter((d) => d.kind === 'udp' && !d.encrypted);
  const encUdp = decoded.filter((d) => d.kind === 'udp' && d.encrypted);
  const plainTcp = decoded.filter((d) => d.kind === 'tcp' && !d.encrypted);
  const encTcp = decoded.filter((d) => d.kind === 'tcp' && d.encrypted);
  const leafOf = (d: Decoded, name: string): Node | undefined => d.leaves.find((l) => l.node.name === name)?.node;

  const picks: { file: string; what: string; d: Decoded | undefined }[] = [];
  const pick = (file: string, what: string, d: Decoded | undefined): void => {
    picks.push({ file, what, d });
  };
  pick('udp-ping.hex', 'bare ping (no CRC, no piggyback), Serf → Serf', smallest(plainUdp.filter((d) => d.outline === 'ping')));
  pick('udp-ack-with-coordinate.hex', "bare ack whose Payload is Serf's coordinate (01 + msgpack)", smallest(plainUdp.filter((d) => d.outline === 'ack')));
  pick(
    'udp-ping-piggyback.hex',
    'compound [ping, piggybacked broadcasts…] (no CRC)',
    smallest(plainUdp.filter((d) => top(d).name === 'compound' && top(d).children?.[0]?.name === 'ping' && !has(d, 'suspect'))),
  );
  pick(
    'udp-ack-piggyback.hex',
    'compound [ack, piggybacked broadcasts…] (no CRC)',
    smallest(plainUdp.filter((d) => top(d).name === 'compound' && top(d).children?.[0]?.name === 'ack')),
  );
  pick(
    'udp-crc-wrapped.hex',
    'the smallest CRC-wrapped datagram (a single gossip message)',
    smallest(plainUdp.filter((d) => top(d).name === 'hasCrc' && partsOf(d).length === 1 && !d.outline.includes('compress'))),
  );
  {
    const compounds = plainUdp.filter((d) => /^crc\(compound\[/.test(d.outline) && has(d, 'alive') && has(d, 'serf:join'));
    const most = Math.max(0, ...compounds.map((d) => partsOf(d).length));
    pick(
      'udp-compound-gossip.hex',
      'CRC-wrapped, uncompressed compound gossip with alive messages and Serf join intents (most parts seen)',
      smallest(compounds.filter((d) => partsOf(d).length === most)),
    );
    const bursts = plainUdp.filter((d) => /^crc\(compress\(compound\[/.test(d.outline) && partsOf(d).filter((x) => x.name === 'alive').length >= 3);
    const mostB = Math.max(0, ...bursts.map((d) => partsOf(d).length));
    pick(
      'udp-compressed-join-burst.hex',
      'the join burst: CRC-wrapped LZW-compressed compound of alive messages (incl. a with tags) and join intents',
      smallest(bursts.filter((d) => partsOf(d).length === mostB)),
    );
  }
  pick(
    'udp-compressed.hex',
    'CRC-wrapped LZW compress message (the 400-byte event gossip)',
    smallest(plainUdp.filter((d) => d.outline.startsWith('crc(compress(') && has(d, 'serf:userEvent'))) ??
      smallest(plainUdp.filter((d) => d.outline.includes('compress('))),
  );
  pick(
    'udp-user-join-intent.hex',
    'Serf join intents (08 01) piggybacked on a ping or ack (compound, no CRC)',
    smallest(plainUdp.filter((d) => /^compound\[(ping|ack),/.test(d.outline) && has(d, 'serf:join'))) ??
      smallest(plainUdp.filter((d) => has(d, 'serf:join') && !d.outline.includes('compress'))),
  );
  pick(
    'udp-user-event.hex',
    'gossip carrying a Serf user event (08 03, `serf event deploy v1`)',
    smallest(plainUdp.filter((d) => d.leaves.some((l) => l.node.serf?.name === 'serf:userEvent' && l.node.serf.fields?.Name === 'deploy'))),
  );
  pick(
    'udp-user-query.hex',
    'gossip carrying a Serf query (08 04, `serf query q hi`)',
    smallest(plainUdp.filter((d) => d.leaves.some((l) => l.node.serf?.name === 'serf:query' && l.node.serf.fields?.Name === 'q'))),
  );
  pick(
    'udp-user-query-response.hex',
    'a Serf query response/ack sent straight to the querier (08 05)',
    smallest(plainUdp.filter((d) => has(d, 'serf:queryResponse') && d.from !== d.to)) ?? smallest(plainUdp.filter((d) => has(d, 'serf:queryResponse'))),
  );
  pick('udp-indirect-ping.hex', 'indirect ping request (type 1) with Nack = true', smallest(plainUdp.filter((d) => has(d, 'indirectPing'))));
  pick('udp-nack.hex', 'nack (type 11) from an indirect-ping relay', smallest(plainUdp.filter((d) => has(d, 'nack'))));
  pick(
    'udp-ping-suspect.hex',
    'probe of a suspect node: CRC-wrapped compound [ping, suspect{From = prober}] sent to that node',
    smallest(plainUdp.filter(isSuspectProbe)),
  );
  pick('udp-suspect.hex', 'gossip carrying a suspect message (type 3)', smallest(plainUdp.filter((d) => has(d, 'suspect') && !d.outline.includes('ping'))));
  pick(
    'udp-dead.hex',
    'gossip carrying a dead message (type 5, From ≠ Node: failure)',
    smallest(plainUdp.filter((d) => d.leaves.some((l) => l.node.name === 'dead' && l.node.fields?.From !== l.node.fields?.Node))),
  );
  pick(
    'udp-alive-refute.hex',
    'gossip carrying the refuting alive (Incarnation > 1) of the resumed node',
    smallest(plainUdp.filter((d) => d.leaves.some((l) => l.node.name === 'alive' && l.node.fields?.Node === 'c' && Number(l.node.fields?.Incarnation) > 1))),
  );
  pick('udp-user-leave-intent.hex', 'gossip carrying a Serf leave intent (08 00) from `serf leave`', smallest(plainUdp.filter((d) => has(d, 'serf:leave'))));
  pick(
    'udp-dead-leave.hex',
    'gossip carrying dead with From == Node (memberlist leave)',
    smallest(plainUdp.filter((d) => d.leaves.some((l) => l.node.name === 'dead' && l.node.fields?.From === l.node.fields?.Node))),
  );
  const joinReq = plainTcp.find((d) => d.fromClient && d.from === 'b' && d.to === 'a' && has(d, 'pushPull'));
  pick('tcp-pushpull-request-compressed.hex', 'b → a join push/pull request (09 compress → 06 pushPull, Join = true)', joinReq);
  pick(
    'tcp-pushpull-reply-compressed.hex',
    'a → b join push/pull reply',
    plainTcp.find((d) => joinReq !== undefined && d.stream === joinReq.stream && !d.fromClient),
  );
  const fReq = plainTcp.find((d) => d.fromClient && d.from === 'f' && has(d, 'pushPull'));
  pick(
    'tcp-pushpull-reply-left-dead.hex',
    'a → f join reply whose states include b (left, State 3) and c (dead, State 2)',
    plainTcp.find((d) => fReq !== undefined && d.stream === fReq.stream && !d.fromClient),
  );
  const periodic = plainTcp.find(
    (d) => d.fromClient && has(d, 'pushPull') && (leafOf(d, 'pushPull')?.fields?.header as Record<string, unknown>)?.Join === false,
  );
  pick('tcp-pushpull-periodic-request.hex', 'periodic (Join = false) push/pull request, if one happened during the run', periodic);
  pick(
    'tcp-ping-compressed.hex',
    'TCP fallback ping (09 compress → 00 ping) to the SIGSTOPped node',
    smallest(plainTcp.filter((d) => has(d, 'ping') && d.fromClient)),
  );
  pick(
    'tcp-ack-compressed.hex',
    'TCP ack reply (09 → 02 ack), if the resumed node answered one',
    smallest(plainTcp.filter((d) => has(d, 'ack') && !d.fromClient)),
  );
  pick('udp-encrypted-ping.hex', 'AES-GCM UDP datagram whose plaintext is a bare ping', smallest(encUdp.filter((d) => d.outline === 'encrypted(ping)')));
  pick('udp-encrypted-ack.hex', 'AES-GCM UDP datagram whose plaintext is a bare ack', smallest(encUdp.filter((d) => d.outline === 'encrypted(ack)')));
  pick(
    'udp-encrypted-compressed.hex',
    'AES-GCM UDP datagram whose plaintext is a compress message (no CRC: a ping/ack-led packet)',
    smallest(encUdp.filter((d) => d.outline.startsWith('encrypted(compress('))),
  );
  pick(
    'udp-encrypted-gossip.hex',
    'AES-GCM UDP datagram whose plaintext is CRC-wrapped gossip (alive messages if seen)',
    smallest(encUdp.filter((d) => d.outline.startsWith('encrypted(crc(') && has(d, 'alive'))) ??
      smallest(encUdp.filter((d) => d.outline.startsWith('encrypted(crc('))),
  );
  const encReq = encTcp.find((d) => d.fromClient && d.from === 'e' && has(d, 'pushPull'));
  pick('tcp-encrypted-pushpull-request.hex', 'e → d join push/pull: 0a + len + AES-GCM(09 compress → 06 pushPull)', encReq);
  pick(
    'tcp-encrypted-pushpull-reply.hex',
    'd → e join push/pull reply, encrypted',
    encTcp.find((d) => encReq !== undefined && d.stream === encReq.stream && !d.fromClient),
  );

  // ------------------------------------------------------------------------------------------
  // Facts and checks.
  const leavesAll = decoded.flatMap((d) => d.leaves.map((l) => ({ d, ...l })));
  const alives = leavesAll.filter((l) => l.node.name === 'alive');
  const ppStates = decoded.flatMap((d) => (leafOf(d, 'pushPull')?.fields?.states ?? []) as Record<string, unknown>[]);
  const hexOf = (v: unknown): string => (v !== null && typeof v === 'object' && 'hex' in v ? String((v as { hex: string }).hex) : String(v));
  const vsnSeen = [...new Set([...alives.map((l) => hexOf(l.node.fields?.Vsn)), ...ppStates.map((s) => hexOf(s.Vsn))])];
  const addrSeen = [...new Set([...alives.map((l) => hexOf(l.node.fields?.Addr)), ...ppStates.map((s) => hexOf(s.Addr))])];
  const metaByNode: Record<string, string[]> = {};
  for (const l of alives) {
    const k = String(l.node.fields?.Node);
    const m = hexOf(l.node.fields?.Meta);
    const metas = metaByNode[k] ?? [];
    metaByNode[k] = metas;
    if (!metas.includes(m)) metas.push(m);
  }
  for (const s of ppStates) {
    const k = String(s.Name);
    const m = hexOf(s.Meta);
    const metas = metaByNode[k] ?? [];
    metaByNode[k] = metas;
    if (!metas.includes(m)) metas.push(m);
  }
  // Gossip = what the gossip loop sends: only broadcasts (alive/suspect/dead and Serf user
  // broadcasts). Query responses are user messages too but are sent directly (no Node record).
  const isGossipPacket = (d: Decoded): boolean =>
    partsOf(d).every(
      (p) => ['alive', 'suspect', 'dead'].includes(p.name) || (p.name === 'user' && !['serf:queryResponse', 'serf:relay'].includes(p.serf?.name ?? '')),
    );
  const gossipPackets = decoded.filter((d) => d.kind === 'udp' && isGossipPacket(d));
  const gossipCrc = gossipPackets.filter((d) => top(d).name === 'hasCrc');
  const pingAckPackets = decoded.filter((d) => d.kind === 'udp' && ['ping', 'ack'].includes(partsOf(d)[0]?.name ?? '') && !looksLikeSuspectProbe(d));
  const pingAckCrc = pingAckPackets.filter((d) => top(d).name === 'hasCrc');
  const otherDirect = decoded.filter((d) => d.kind === 'udp' && ['indirectPing', 'nack'].includes(partsOf(d)[0]?.name ?? ''));
  const otherDirectCrc = otherDirect.filter((d) => top(d).name === 'hasCrc');
  const queryRespPackets = decoded.filter((d) => d.kind === 'udp' && has(d, 'serf:queryResponse'));
  const tcpDirs = decoded.filter((d) => d.kind === 'tcp');
  const tcpCompressed = tcpDirs.filter((d) => d.plain[0] === 9);
  const compressNodes = decoded.flatMap((d) => {
    const out: Node[] = [];
    const walk = (n: Node): void => {
      if (n.name === 'compress') out.push(n);
      n.children?.forEach(walk);
    };
    walk(d.root);
    return out;
  });
  // UDP compression only when strictly shorter: check both ways on the plaintext after the CRC.
  const udpAfterCrc = decoded
    .filter((d) => d.kind === 'udp')
    .map((d) => {
      let b = d.plain;
      if (b[0] === 12) b = b.subarray(5);
      return { d, b };
    });
  const uncompressedButShorter = udpAfterCrc.filter(({ b }) => b[0] !== 9 && compressMessage(b).length < b.length);
  const compressedUdp = udpAfterCrc.filter(({ b }) => b[0] === 9);
  const compressedNotShorter = compressedUdp.filter(({ b }) => {
    const { fields } = decodeStruct(b.subarray(1), { stats: newStats(), leaves: [], path: [], issues: [] });
    return lzwDecode((fields.Buf as Raw).bytes).length <= b.length;
  });
  const maxUdp = Math.max(...decoded.filter((d) => d.kind === 'udp').map((d) => d.bytes.length));
  const pings = leavesAll.filter((l) => l.node.name === 'ping');
  const acks = leavesAll.filter((l) => l.node.name === 'ack');
  const ackPayloads = acks.map((l) => hexOf(l.node.fields?.Payload));
  const ppHeaders = tcpDirs
    .map((d) => ({ d, h: leafOf(d, 'pushPull')?.fields?.header as Record<string, unknown> | undefined }))
    .filter((x) => x.h !== undefined);
  const joinFlagsMatch = ppHeaders
    .filter((x) => x.d.fromClient)
    .every((req) => {
      const rep = ppHeaders.find((y) => y.d.stream === req.d.stream && !y.d.fromClient);
      return rep === undefined || rep.h!.Join === req.h!.Join;
    });
  const encUdpAll = decoded.filter((d) => d.kind === 'udp' && d.encrypted);
  const encTcpAll = decoded.filter((d) => d.kind === 'tcp' && d.encrypted);
  const allIssues = decoded.flatMap((d) => d.issues.map((i) => `${d.kind} frame ${d.frame}: ${i}`));
  const compoundNodes = decoded.flatMap((d) => {
    const out: Node[] = [];
    const walk = (n: Node): void => {
      if (n.name === 'compound') out.push(n);
      n.children?.forEach(walk);
    };
    walk(d.root);
    return out;
  });
  const suspectProbe = decoded.filter(isSuspectProbe);
  const indirect = leavesAll.filter((l) => l.node.name === 'indirectPing');
  const deadLeave = leavesAll.filter((l) => l.node.name === 'dead' && l.node.fields?.From === l.node.fields?.Node);
  const fReply = picks.find((p) => p.file === 'tcp-pushpull-reply-left-dead.hex')?.d;
  const fStates = ((fReply && leafOf(fReply, 'pushPull')?.fields?.states) ?? []) as Record<string, unknown>[];
  const encUdpFirstBytes = [...new Set(encUdpAll.map((d) => d.bytes[0]))];
  const encTcpOk = encTcpAll.every((d) => {
    const n = d.root.notes ?? {};
    return n.declaredLength === n.blobLength && n.trailingBytes === 0;
  });
  const userStateLens = ppHeaders.map((x) => Number(x.h!.UserStateLen));

  type Outcome = 'held' | 'refuted' | 'not observed';
  const checks: { section: string; claim: string; outcome: Outcome; evidence: string }[] = [];
  const check = (section: string, claim: string, ok: boolean | undefined, evidence: string): void => {
    checks.push({ section, claim, outcome: ok === undefined ? 'not observed' : ok ? 'held' : 'refuted', evidence });
  };
  const fmt = allStats.formats;
  const n0 = (k: string): number => fmt[k] ?? 0;

  check(
    '§1.1',
    'every plaintext message starts with a known type byte (0–13)',
    allIssues.filter((i) => /unknown memberlist type/.test(i)).length === 0 && decodeFailures.length === 0,
    `${decoded.length} datagrams/stream directions decoded, ${decodeFailures.length} failures, issues: ${allIssues.length}`,
  );
  check(
    '§1.1',
    'encrypted UDP packets have no type byte; the datagram starts with the encryption version byte',
    encUdpAll.length > 0 ? encUdpFirstBytes.every((b) => b === 1) : undefined,
    `${encUdpAll.length} encrypted datagrams, first bytes ${JSON.stringify(encUdpFirstBytes)}; all decrypted with the key and empty AAD`,
  );
  check(
    '§2',
    'structs are maps with Go field names, keys sorted bytewise',
    allStats.unsortedStructs.length === 0,
    `unsorted struct maps: ${allStats.unsortedStructs.length}${allStats.unsortedStructs.length ? ` e.g. ${allStats.unsortedStructs[0]}` : ''}`,
  );
  check(
    '§2',
    'the encoder never emits str8 (d9) nor bin8/16/32 (c4–c6)',
    n0('str8') + n0('bin8') + n0('bin16') + n0('bin32') === 0,
    `format counts: ${JSON.stringify(fmt)}`,
  );
  check(
    '§2',
    'map header fixmap for < 16 entries (0xde only beyond); 0xdf never',
    n0('map32') === 0,
    `fixmap ${n0('fixmap')}, map16 ${n0('map16')}, map32 ${n0('map32')}`,
  );
  check(
    '§2',
    'non-negative integers use the smallest unsigned form',
    allStats.nonMinimalInts.length === 0,
    `non-minimal: ${allStats.nonMinimalInts.slice(0, 5).join(', ') || 'none'}; signed int forms seen: ${['int8', 'int16', 'int32', 'int64', 'negfixint'].map((k) => `${k} ${n0(k)}`).join(', ')}`,
  );
  check('§2', 'negative values never occur', allStats.negativeInts === 0, `${allStats.negativeInts} negative integers`);
  check(
    '§2',
    'Vsn is a 6-byte raw string (a6 …), not an array',
    vsnSeen.every((v) => v.length === 12),
    `Vsn values: ${vsnSeen.join(', ')}`,
  );
  check(
    '§2',
    "bound to a specific IPv4 address, Serf's own Addr is 4 bytes",
    addrSeen.every((a) => a.length === 8),
    `Addr values: ${addrSeen.join(', ')}`,
  );
  check(
    '§2',
    'Serf ack payloads contain float64 (cb) and arrays',
    n0('float64') > 0 && n0('fixarray') > 0,
    `float64 ${n0('float64')}, fixarray ${n0('fixarray')}`,
  );
  check(
    '§3',
    'ping fields in wire order Node, SeqNo, SourceAddr, SourceNode, SourcePort',
    pings.length > 0
      ? pings.every((l) => JSON.stringify(l.node.keys) === JSON.stringify(['Node', 'SeqNo', 'SourceAddr', 'SourceNode', 'SourcePort']))
      : undefined,
    `${pings.length} pings; key sets: ${[...new Set(pings.map((l) => l.node.keys?.join(',')))].join(' | ')}`,
  );
  check(
    '§3',
    'ack fields Payload, SeqNo; Serf ack Payload = 01 + msgpack {Adjustment, Error, Height, Vec[8]}',
    acks.length > 0
      ? acks.every((l) => l.node.keys?.join(',') === 'Payload,SeqNo') && ackPayloads.filter((p) => p !== 'null').every((p) => p.startsWith('01'))
      : undefined,
    `${acks.length} acks; payload starts: ${[...new Set(ackPayloads.map((p) => p.slice(0, 4)))].join(', ')}; coordinate keys: ${JSON.stringify(Object.keys((acks.find((l) => l.node.fields?.PayloadDecoded)?.node.fields?.PayloadDecoded as { coordinate?: object } | undefined)?.coordinate ?? {}))}`,
  );
  check(
    '§3',
    'relayed acks carry a nil Payload (c0)',
    acks.some((l) => l.node.fields?.Payload === null) ? true : undefined,
    `${acks.filter((l) => l.node.fields?.Payload === null).length} acks with nil payload`,
  );
  check(
    '§3',
    'indirectPing fields Nack, Node, Port, SeqNo, SourceAddr, SourceNode, SourcePort, Target; Nack true to PMax ≥ 4 peers',
    indirect.length > 0
      ? indirect.every((l) => l.node.keys?.join(',') === 'Nack,Node,Port,SeqNo,SourceAddr,SourceNode,SourcePort,Target' && l.node.fields?.Nack === true)
      : undefined,
    `${indirect.length} indirect pings`,
  );
  check(
    '§3',
    'nack is {SeqNo}',
    leavesAll.some((l) => l.node.name === 'nack')
      ? leavesAll.filter((l) => l.node.name === 'nack').every((l) => l.node.keys?.join(',') === 'SeqNo')
      : undefined,
    `${leavesAll.filter((l) => l.node.name === 'nack').length} nacks`,
  );
  check(
    '§3',
    'suspect/dead fields From, Incarnation, Node',
    leavesAll.filter((l) => ['suspect', 'dead'].includes(l.node.name)).every((l) => l.node.keys?.join(',') === 'From,Incarnation,Node'),
    `${leavesAll.filter((l) => l.node.name === 'suspect').length} suspect, ${leavesAll.filter((l) => l.node.name === 'dead').length} dead`,
  );
  check(
    '§3',
    'alive fields Addr, Incarnation, Meta, Node, Port, Vsn',
    alives.every((l) => l.node.keys?.join(',') === 'Addr,Incarnation,Meta,Node,Port,Vsn'),
    `${alives.length} alive messages`,
  );
  check(
    '§3',
    'compress fields Algo (0 = LZW), Buf',
    compressNodes.every((n) => n.keys?.join(',') === 'Algo,Buf' && n.fields?.Algo === 0),
    `${compressNodes.length} compress messages`,
  );
  check(
    '§3.2',
    'compound = 07 | N | N×u16 BE lengths | parts, with no trailing bytes and no empty parts',
    compoundNodes.every((n) => n.notes?.trailingBytes === 0 && (n.notes.lengths as number[]).every((x) => x > 0)),
    `${compoundNodes.length} compounds, max parts ${Math.max(0, ...compoundNodes.map((n) => Number(n.notes?.count)))}`,
  );
  check(
    '§3.3',
    'CRC wrapper 0c | CRC32-IEEE (BE) over the rest; always valid',
    allIssues.filter((i) => /CRC/.test(i)).length === 0,
    `${decoded.filter((d) => top(d).name === 'hasCrc').length} CRC-wrapped packets, all CRCs valid`,
  );
  check(
    '§3.3',
    'gossip to a PMax-5 node arrives CRC-wrapped',
    gossipPackets.length > 0 ? gossipCrc.length === gossipPackets.length : undefined,
    `${gossipCrc.length}/${gossipPackets.length} gossip-only datagrams CRC-wrapped`,
  );
  check(
    '§3.3',
    'the ping+suspect compound used to probe a suspect node is CRC-wrapped',
    suspectProbe.length > 0 ? suspectProbe.every((d) => top(d).name === 'hasCrc') : undefined,
    `${suspectProbe.length} such probes`,
  );
  check(
    '§3.3',
    'plain pings and acks are sent without the CRC',
    pingAckPackets.length > 0 ? pingAckCrc.length === 0 : undefined,
    `${pingAckCrc.length}/${pingAckPackets.length} ping/ack(-led) datagrams CRC-wrapped`,
  );
  check(
    '§3.3',
    'a CRC wrapper is only ever the outermost plaintext layer',
    decoded.every((d) => !d.leaves.some((l) => l.path.filter((x) => x !== 'encrypted').indexOf('crc') > 0)),
    `${decoded.filter((d) => d.kind === 'udp' && d.plain[0] === 12).length} datagrams with 0c as the outer plaintext layer; no 0c inside a compress or compound`,
  );
  {
    const relays = decoded.filter(isRelayPing);
    check(
      '§3',
      'a relayed indirect ping is an ordinary ping by address (own SeqNo, Source* = relay), piggyback allowed, no CRC',
      relays.length > 0 ? relays.every((d) => top(d).name !== 'hasCrc' && partsOf(d)[0]!.fields?.SourceNode === d.from) : undefined,
      `${relays.length} relay pings: ${[...new Set(relays.map((d) => d.outline))].join(' | ')}`,
    );
  }
  check(
    '§3.3',
    'indirect pings and nacks (sent by address, no Node record) carry no CRC',
    otherDirect.length > 0 ? otherDirectCrc.length === 0 : undefined,
    `${otherDirectCrc.length}/${otherDirect.length} indirect-ping/nack(-led) datagrams CRC-wrapped`,
  );
  check(
    '§3.4',
    'pings and acks are compressed (09) when that is strictly shorter, e.g. acks with coordinates',
    decoded.some((d) => d.kind === 'udp' && ['ping', 'ack'].includes(partsOf(d)[0]?.name ?? '') && d.outline.includes('compress(')) ? true : undefined,
    `${decoded.filter((d) => d.kind === 'udp' && ['ping', 'ack'].includes(partsOf(d)[0]?.name ?? '') && d.outline.includes('compress(')).length} compressed ping/ack(-led) datagrams`,
  );
  check(
    '§3.4',
    'UDP: compressed only when strictly shorter (never shorter-but-uncompressed, never compressed-but-not-shorter)',
    uncompressedButShorter.length === 0 && compressedNotShorter.length === 0,
    `${compressedUdp.length} compressed datagrams; ${uncompressedButShorter.length} uncompressed ones would have been shorter compressed; ${compressedNotShorter.length} compressed ones are not shorter`,
  );
  check(
    '§3.4',
    'order compress → CRC → encrypt (CRC covers the compressed bytes)',
    compressedUdp.length > 0
      ? decoded
          .filter((d) => d.kind === 'udp' && d.outline.includes('compress'))
          .every((d) => /^(encrypted\()?crc\(compress\(/.test(d.outline) || /^(encrypted\()?compress\(/.test(d.outline))
      : undefined,
    `${compressedUdp.length} compressed datagrams: ${[...new Set(decoded.filter((d) => d.kind === 'udp' && d.outline.includes('compress')).map((d) => d.outline.replace(/\(.*/, '(…')))].join(', ')}`,
  );
  check('§3.4', 'datagrams stay near the 1400-byte budget', maxUdp <= 1400 + 5 + 29, `largest datagram ${maxUdp} bytes`);
  check(
    '§3.4',
    'Serf user broadcasts are parts 08 <serf bytes>',
    leavesAll.some((l) => l.node.name === 'user')
      ? leavesAll.filter((l) => l.node.name === 'user').every((l) => l.node.serf !== undefined && !l.node.serf.name.startsWith('serf:serf-unknown'))
      : undefined,
    `${leavesAll.filter((l) => l.node.name === 'user').length} user parts`,
  );
  check(
    '§4.1',
    'streams from Serf are always compressed (09) when compression is on',
    tcpDirs.length > 0 ? tcpCompressed.length === tcpDirs.length : undefined,
    `${tcpCompressed.length}/${tcpDirs.length} stream directions start (after decryption) with 09`,
  );
  check(
    '§4.1',
    'no outer length framing on plaintext streams; one exchange per connection, no trailing bytes',
    tcpDirs.every((d) => (d.root.notes?.trailingBytes ?? 0) === 0 && (d.root.children?.[0]?.notes?.trailingBytes ?? 0) === 0),
    `${tcpDirs.length} stream directions fully consumed by one message`,
  );
  check(
    '§4.1',
    'there is never a CRC wrapper on streams',
    tcpDirs.every((d) => d.plain[0] !== 12),
    'no stream starts with 0c',
  );
  check(
    '§4.2',
    'the TCP fallback ping is sent (to a node not answering UDP) as 09 → 00 ping',
    decoded.some((d) => d.kind === 'tcp' && has(d, 'ping')) ? true : undefined,
    `${decoded.filter((d) => d.kind === 'tcp' && has(d, 'ping')).length} TCP pings`,
  );
  {
    const tcpPings = decoded.filter((d) => d.kind === 'tcp' && d.fromClient && has(d, 'ping'));
    const matched = tcpPings.filter((t) => {
      const seq = leafOf(t, 'ping')?.fields?.SeqNo;
      return decoded.some(
        (u) =>
          u.kind === 'udp' && u.from === t.from && u.to === t.to && u.time <= t.time && partsOf(u)[0]?.name === 'ping' && partsOf(u)[0]!.fields?.SeqNo === seq,
      );
    });
    check(
      '§8.2',
      'the TCP fallback ping carries the same SeqNo as the failed UDP probe',
      tcpPings.length > 0 ? matched.length === tcpPings.length : undefined,
      `${matched.length}/${tcpPings.length} TCP pings match an earlier UDP ping's SeqNo`,
    );
  }
  check(
    '§4.3',
    'pushPullHeader keys Join, Nodes, UserStateLen; states keyed Addr, Incarnation, Meta, Name, Port, State, Vsn',
    ppHeaders.length > 0
      ? ppHeaders.every(
          (x) =>
            leafOf(x.d, 'pushPull')?.keys?.join(',') === 'Join,Nodes,UserStateLen' &&
            leafOf(x.d, 'pushPull')?.fields?.stateKeys !== undefined &&
            (leafOf(x.d, 'pushPull')!.fields!.stateKeys as string[]).join(',') === 'Addr,Incarnation,Meta,Name,Port,State,Vsn',
        )
      : undefined,
    `${ppHeaders.length} push/pull messages`,
  );
  check(
    '§4.2',
    'the responder replies with the same Join flag',
    ppHeaders.length > 0 ? joinFlagsMatch : undefined,
    `${ppHeaders.filter((x) => x.d.fromClient).length} exchanges`,
  );
  check(
    '§4.3',
    'a sender includes every node it knows, left (State 3) and dead (State 2) ones too',
    fStates.length > 0 ? fStates.some((s) => s.State === 3) && fStates.some((s) => s.State === 2) : undefined,
    `a → f reply states: ${fStates.map((s) => `${String(s.Name)}=${String(s.State)}`).join(', ')}`,
  );
  check(
    '§5',
    'LZW: every Buf decodes (LSB, 8-bit literals, CLEAR 256, EOF 257, ends in EOF)',
    compressNodes.length > 0 ? true : undefined,
    `${compressNodes.length} LZW streams decoded`,
  );
  check(
    '§5',
    "LZW encoder of §5 is byte-exact with Go: re-encoding the decompressed bytes reproduces Serf's Buf",
    compressNodes.length > 0 ? compressNodes.every((n) => n.notes?.lzwReencodeMatches === true) : undefined,
    `${compressNodes.filter((n) => n.notes?.lzwReencodeMatches === true).length}/${compressNodes.length} re-encodings identical`,
  );
  check(
    '§6',
    'UDP: the whole datagram is version 1 | nonce 12 | ciphertext | tag 16, AES-256-GCM with a 32-byte key, empty AAD',
    encUdpAll.length > 0 ? true : undefined,
    `${encUdpAll.length} datagrams decrypted`,
  );
  check(
    '§6',
    'TCP: 0a | L u32 BE | blob, L = blob length, AAD = the 5 header bytes',
    encTcpAll.length > 0 ? encTcpOk : undefined,
    `${encTcpAll.length} stream directions decrypted with AAD = 0a|L`,
  );
  check(
    '§6',
    'encrypted TCP plaintext starts with the inner type byte (09)',
    encTcpAll.length > 0 ? encTcpAll.every((d) => d.plain[0] === 9) : undefined,
    `first plaintext bytes ${JSON.stringify([...new Set(encTcpAll.map((d) => d.plain[0]))])}`,
  );
  check(
    '§6',
    'the UDP plaintext is the §3.4 step-4 buffer (CRC/compress/compound/plain message)',
    encUdpAll.length > 0 ? encUdpAll.every((d) => [0, 2, 7, 9, 12, 1, 11, 8, 4, 3, 5].includes(d.plain[0]!)) : undefined,
    `first plaintext bytes ${JSON.stringify([...new Set(encUdpAll.map((d) => d.plain[0]))])}`,
  );
  check(
    '§8.1',
    'the local incarnation starts at 1',
    alives.filter((l) => ['a', 'b', 'f', 'd', 'e'].includes(String(l.node.fields?.Node))).every((l) => l.node.fields?.Incarnation === 1),
    `alive incarnations by node: ${JSON.stringify(Object.fromEntries([...new Set(alives.map((l) => String(l.node.fields?.Node)))].map((n) => [n, [...new Set(alives.filter((l) => l.node.fields?.Node === n).map((l) => l.node.fields?.Incarnation))]])))}`,
  );
  check(
    '§8.5',
    'a resumed node declared dead refutes with a higher incarnation',
    alives.some((l) => l.node.fields?.Node === 'c' && Number(l.node.fields?.Incarnation) > 1) ? true : undefined,
    `c alive incarnations ${JSON.stringify([...new Set(alives.filter((l) => l.node.fields?.Node === 'c').map((l) => l.node.fields?.Incarnation))])}`,
  );
  check(
    '§8.9',
    'a leaving node broadcasts dead{Node = self, From = self}',
    deadLeave.length > 0 ? true : undefined,
    `${deadLeave.length} such messages (nodes ${[...new Set(deadLeave.map((l) => String(l.node.fields?.Node)))].join(',')})`,
  );
  check(
    '§9.1',
    'Serf advertises Vsn [1,5,2,2,5,5]',
    vsnSeen.length > 0 ? vsnSeen.every((v) => v === '010502020505') : undefined,
    `Vsn seen: ${vsnSeen.join(', ')}`,
  );
  check(
    '§9.2',
    'Meta = ff + msgpack map of tags; ff80 for no tags',
    metaByNode.c !== undefined ? metaByNode.c.every((m) => m === 'ff80') && (metaByNode.a ?? []).every((m) => m.startsWith('ff82')) : undefined,
    `Meta by node: ${JSON.stringify(metaByNode)}`,
  );
  check(
    '§9.3',
    'Serf intents/events/queries travel as compound parts 08 0x',
    leavesAll.some((l) => l.node.serf !== undefined) ? true : undefined,
    `serf types seen: ${JSON.stringify([...new Set(leavesAll.filter((l) => l.node.serf).map((l) => l.node.serf!.name))])}`,
  );
  {
    const want: Record<string, string> = {
      'serf:leave': 'LTime,Node,Prune',
      'serf:join': 'LTime,Node',
      'serf:userEvent': 'CC,LTime,Name,Payload',
      'serf:query': 'Addr,Filters,Flags,ID,LTime,Name,Payload,Port,RelayFactor,SourceNode,Timeout',
      'serf:queryResponse': 'Flags,From,ID,LTime,Payload',
    };
    const serfMsgs = leavesAll.filter((l) => l.node.serf !== undefined).map((l) => l.node.serf!);
    const bad = serfMsgs.filter((m) => want[m.name] !== undefined && m.keys?.join(',') !== want[m.name]);
    check(
      '§9.3',
      'Serf message field sets: leave {LTime, Node, Prune}, join {LTime, Node}, event {CC, LTime, Name, Payload}, query {Addr … Timeout, 11 keys}, response {Flags, From, ID, LTime, Payload}',
      serfMsgs.length > 0 ? bad.length === 0 : undefined,
      `${serfMsgs.length} Serf messages; mismatches: ${
        bad
          .map((m) => `${m.name}=${m.keys?.join(',')}`)
          .slice(0, 3)
          .join('; ') || 'none'
      }`,
    );
  }
  check(
    '§9.3',
    'query responses come as direct UDP user messages',
    queryRespPackets.length > 0 ? true : undefined,
    `${queryRespPackets.length} datagrams: ${[...new Set(queryRespPackets.map((d) => d.outline))].join(' | ')}`,
  );
  check(
    '§9.4',
    'push/pull user state = 02 + msgpack {EventLTime, Events, LTime, LeftMembers, QueryLTime, StatusLTimes}',
    ppHeaders.length > 0
      ? ppHeaders.every((x) => {
          const us = leafOf(x.d, 'pushPull')?.fields?.userState as { serfType?: number; keys?: string[] } | undefined;
          return us?.serfType === 2 && us.keys?.join(',') === 'EventLTime,Events,LTime,LeftMembers,QueryLTime,StatusLTimes';
        })
      : undefined,
    `UserStateLen values: ${JSON.stringify(userStateLens)}`,
  );
  check(
    '§9.4',
    'Serf sends the same state regardless of the Join flag (Events is an array of 512 slots)',
    ppHeaders.length > 0
      ? ppHeaders.every((x) => {
          const us = leafOf(x.d, 'pushPull')?.fields?.userState as { fields?: Record<string, unknown> } | undefined;
          return Array.isArray(us?.fields?.Events) && (us!.fields!.Events as unknown[]).length === 512;
        })
      : undefined,
    'Events array lengths checked',
  );

  // ------------------------------------------------------------------------------------------
  // Write.
  mkdirSync(outDir, { recursive: true });
  for (const f of readdirSync(outDir)) if (f.endsWith('.hex')) rmSync(join(outDir, f));
  const manifest: Record<string, unknown>[] = [];
  let total = 0;
  for (const p of picks) {
    if (p.d === undefined) {
      console.log(`  (not captured) ${p.file}: ${p.what}`);
      continue;
    }
    const hex = p.d.bytes.toString('hex');
    writeFileSync(join(outDir, p.file), `${hex}\n`);
    total += hex.length + 1;
    manifest.push({
      file: p.file,
      what: p.what,
      transport: p.d.kind,
      from: p.d.from,
      to: p.d.to,
      ...(p.d.kind === 'tcp' ? { direction: p.d.fromClient ? 'request (connecting side)' : 'reply (listening side)' } : {}),
      bytes: p.d.bytes.length,
      encrypted: p.d.encrypted,
      ...(p.d.encrypted ? { key: 'TEST_KEY (32 × 0x01)', plaintextHex: p.d.plain.toString('hex') } : {}),
      outline: p.d.outline,
      decoded: compact(p.d.root),
    });
    console.log(`  ${p.file.padEnd(40)} ${String(p.d.bytes.length).padStart(5)} B  ${p.d.outline.slice(0, 110)}`);
  }
  const meta = {
    capturedAt: run.capturedAt,
    serfVersion,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ${Version} is dpkg-query's field syntax, not a JavaScript template
    serfPackage: spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'serf'], { encoding: 'utf8' }).stdout.trim() || 'unknown',
    tshark: spawnSync('tshark', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0],
    nodes: Object.fromEntries(names.map((n) => [n, { port: port[n], encrypted: encryptedNodes.has(n) }])),
    tags: { a: { role: 'web', dc: 'x' }, b: { role: 'db' }, c: {}, f: {}, d: {}, e: {} },
    testKeyBase64: TEST_KEY,
    testKeyHex: TEST_KEY_BYTES.toString('hex'),
  };
  writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify({ ...meta, fixtures: manifest }, null, 1)}\n`);
  const facts = {
    ...meta,
    vsnAdvertised: vsnSeen,
    ownAddrBytes: addrSeen,
    ownAddrLength: [...new Set(addrSeen.map((a) => a.length / 2))],
    metaByNode,
    udpGossipCrcWrapped: { crcWrapped: gossipCrc.length, gossipDatagrams: gossipPackets.length },
    udpPingAckCrcWrapped: { crcWrapped: pingAckCrc.length, pingAckDatagrams: pingAckPackets.length },
    udpQueryResponseFraming: [...new Set(queryRespPackets.map((d) => d.outline))],
    tcpAlwaysCompressed: { compressed: tcpCompressed.length, streamDirections: tcpDirs.length },
    udpCompressed: compressedUdp.length,
    largestDatagram: maxUdp,
    ackPayload: {
      coordinate01: ackPayloads.filter((p) => p.startsWith('01')).length,
      nil: ackPayloads.filter((p) => p === 'null').length,
      other: ackPayloads.filter((p) => p !== 'null' && !p.startsWith('01')).length,
    },
    firstPingSeqNo: Math.min(...pings.map((l) => Number(l.node.fields?.SeqNo))),
    pingsWithSourceFields: `${pings.filter((l) => l.node.keys?.includes('SourceNode')).length}/${pings.length}`,
    queryResponsesToSelf: queryRespPackets.filter((d) => d.from === d.to).length,
    udpCompressedPingAckLed: decoded.filter((d) => d.kind === 'udp' && ['ping', 'ack'].includes(partsOf(d)[0]?.name ?? '') && d.outline.includes('compress('))
      .length,
    pushPullUserStateLen: userStateLens,
    msgpackFormats: fmt,
    timings,
    checks,
    decodeFailures,
    issues: allIssues,
  };
  writeFileSync(join(outDir, 'agent-facts.json'), `${JSON.stringify(facts, null, 1)}\n`);
  console.log(`\nwrote ${manifest.length} fixtures (${total} bytes of hex), manifest.json, agent-facts.json to ${outDir}`);
  console.log('\nchecks:');
  for (const c of checks) console.log(`  [${c.outcome}] ${c.section} ${c.claim} — ${c.evidence}`);
  if (decodeFailures.length) console.log(`\ndecode failures:\n  ${decodeFailures.join('\n  ')}`);
  if (allIssues.length) console.log(`\nissues:\n  ${allIssues.slice(0, 20).join('\n  ')}`);
  console.log('\ntimings:', timings);
  if (keepPcap !== undefined && fromPcap === undefined) {
    mkdirSync(keepPcap, { recursive: true });
    spawnSync('cp', [pcap, join(keepPcap, 'serf.pcapng')]);
    writeFileSync(join(keepPcap, 'capture.json'), `${JSON.stringify({ ...run, pcap: 'serf.pcapng' }, null, 1)}\n`);
  }
  rmSync(work, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
