import { isIP } from 'node:net';
import { WireError } from './errors.js';

/*
 * memberlist carries addresses as raw IP bytes ([]byte fields, never net.IP objects): 4 bytes for
 * IPv4, 16 for IPv6 or for IPv4 in v4-mapped form. Peers compare those bytes exactly, so the 4- and
 * 16-byte forms of one IPv4 address are different addresses: the text form keeps the distinction
 * ("a.b.c.d" vs "::ffff:a.b.c.d") and the same bytes always decode to the same text.
 */

/** The raw bytes for a host in text form. Throws a RangeError for anything but an IP literal. */
export function encodeHost(host: string): Uint8Array {
  let bytes = hostBytes.get(host);
  if (!bytes) {
    bytes = parseHost(host);
    if (hostBytes.size >= HOST_CACHE_SIZE) hostBytes.clear();
    hostBytes.set(host, bytes);
  }
  return bytes;
}

/** Hosts repeat endlessly (every packet names its source): their bytes are kept, read-only. */
const HOST_CACHE_SIZE = 4096;
const hostBytes = new Map<string, Uint8Array>();

function parseHost(host: string): Uint8Array {
  const family = isIP(host);
  if (family === 4) return parseIPv4(host);
  if (family === 6 && !host.includes('%')) return parseIPv6(host);
  throw new RangeError(`not an IP address literal (zones are not allowed): ${JSON.stringify(host)}`);
}

/** The text form of 4 or 16 raw bytes; other lengths are malformed. */
export function decodeHost(bytes: Uint8Array, what: string): string {
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.length === 16) return formatIPv6(bytes);
  throw new WireError('malformed', `${what}: an IP address has 4 or 16 bytes, got ${bytes.length}`);
}

/** The form a host takes after a trip over the wire (e.g. "::FFFF:0a00:1" → "::ffff:10.0.0.1"). */
export function canonicalHost(host: string): string {
  return decodeHost(encodeHost(host), 'host');
}

function parseIPv4(text: string): Uint8Array {
  return Uint8Array.from(text.split('.'), Number);
}

/** Parses a literal that isIP has already accepted as IPv6 (so it is well formed). */
function parseIPv6(text: string): Uint8Array {
  const groups: number[] = [];
  const toGroups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const [a, b, c, d] = parseIPv4(piece);
        out.push((a! << 8) | b!, (c! << 8) | d!);
      } else {
        out.push(parseInt(piece, 16));
      }
    }
    return out;
  };
  const gap = text.indexOf('::');
  if (gap < 0) {
    groups.push(...toGroups(text));
  } else {
    const head = toGroups(text.slice(0, gap));
    const tail = toGroups(text.slice(gap + 2));
    groups.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  }
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

/** RFC 5952 text, except that v4-mapped addresses keep the dotted tail. */
function formatIPv6(bytes: Uint8Array): string {
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${bytes.subarray(12).join('.')}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // The longest run of two or more zero groups (the first on a tie) becomes "::".
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (list: number[]): string => list.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}
