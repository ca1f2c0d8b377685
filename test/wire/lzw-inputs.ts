/**
 * Deterministic LZW inputs that exercise width growth (9→12 bits) and table resets: random bytes,
 * text-like data and long zero runs, 0 B to 300 kB. lzw.test.ts pins the SHA-256 of Go's output
 * for each (checked with go-crosscheck); crosscheck.test.ts feeds them to Go again.
 */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['node', 'alive', 'suspect', 'serf', 'gossip', 'the', 'member', 'list', 'ping', 'ack', '\n', ' ', '{', '}', '"'];

export function lzwInputs(): { name: string; input: Uint8Array }[] {
  const out: { name: string; input: Uint8Array }[] = [];
  const sizes = [1, 2, 255, 256, 511, 512, 1000, 4000, 5000, 20_000, 100_000, 300_000];
  for (const size of sizes) {
    const random = mulberry32(size);
    out.push({ name: `random-${size}`, input: Uint8Array.from({ length: size }, () => Math.floor(random() * 256)) });
    const text = mulberry32(size + 1);
    let s = '';
    while (s.length < size) s += WORDS[Math.floor(text() * WORDS.length)];
    out.push({ name: `text-${size}`, input: new TextEncoder().encode(s.slice(0, size)) });
    out.push({ name: `zeros-${size}`, input: new Uint8Array(size) });
  }
  // Few distinct symbols: long dictionary chains.
  const few = mulberry32(99);
  out.push({ name: 'abc-200000', input: Uint8Array.from({ length: 200_000 }, () => 97 + Math.floor(few() * 3)) });
  return out;
}
