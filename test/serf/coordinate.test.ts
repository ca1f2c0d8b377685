/**
 * The Vivaldi coordinate client (src/serf/coordinate.ts) against Serf's coordinate package:
 * hand-computed steps, a trajectory recorded from Serf 0.9.4 itself, the latency filter, the
 * input checks and the NaN defence, Serf's own simulation scenarios, and a convergence property.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRandom, deriveSeed, type Random } from '../../packages/hearsay/src/core/index.js';
import {
  CoordinateClient,
  DEFAULT_COORDINATE_CONFIG,
  distanceBetween,
  isCompatible,
  isValidCoordinate,
  newCoordinate,
  MAX_COORDINATE_SECONDS,
  MAX_FILTERED_NODES,
  type Coordinate,
  type CoordinateConfig,
} from '../../packages/hearsay/src/serf/index.js';

const CONFIG = DEFAULT_COORDINATE_CONFIG;

/** An 8-dimensional vector with the given leading components. */
const vec8 = (...head: number[]): number[] => [...head, ...new Array<number>(8 - head.length).fill(0)];

const coord = (vec: number[], fields: Partial<Omit<Coordinate, 'vec'>> = {}): Coordinate => ({
  vec,
  error: fields.error ?? 1.5,
  adjustment: fields.adjustment ?? 0,
  height: fields.height ?? 10e-6,
});

/** A random source that must not be drawn from. */
const NO_RANDOM: Pick<Random, 'float'> = {
  float: () => {
    throw new Error('random source used unexpectedly');
  },
};

/** A random source replaying `values` (then 0.5), counting the draws. */
function scripted(values: number[]): { float(): number; draws: number } {
  let i = 0;
  return {
    draws: 0,
    float() {
      this.draws++;
      return i < values.length ? values[i++]! : 0.5;
    },
  };
}

describe('coordinates', () => {
  it('the defaults are Serf’s, and a new coordinate sits at the origin, fully unsure', () => {
    expect(CONFIG).toEqual({
      dimensionality: 8,
      vivaldiErrorMax: 1.5,
      vivaldiCE: 0.25,
      vivaldiCC: 0.25,
      adjustmentWindowSize: 20,
      heightMin: 10e-6,
      latencyFilterSize: 3,
      gravityRho: 150,
    });
    expect(newCoordinate(CONFIG)).toEqual({ vec: [0, 0, 0, 0, 0, 0, 0, 0], error: 1.5, adjustment: 0, height: 10e-6 });
    expect(newCoordinate({ ...CONFIG, dimensionality: 3 }).vec).toEqual([0, 0, 0]);
    expect(new CoordinateClient(CONFIG, NO_RANDOM).coordinate).toEqual(newCoordinate(CONFIG));
  });

  it('distance: Euclidean part + both heights + both adjustments, in seconds', () => {
    // |(1, 2) − (4, 6)| ms = 5 ms (a 3-4-5 triangle); heights 0.5 + 0.3 ms; adjustments 0.2 − 0.1 ms.
    const a = coord(vec8(0.001, 0.002), { height: 0.0005, adjustment: 0.0002 });
    const b = coord(vec8(0.004, 0.006), { height: 0.0003, adjustment: -0.0001 });
    expect(distanceBetween(a, b)).toBeCloseTo(0.005 + 0.0008 + 0.0001, 15); // 5.9 ms
    expect(distanceBetween(b, a)).toBe(distanceBetween(a, b));
    expect(distanceBetween(a, a)).toBeCloseTo(0.001 + 0.0004, 15); // a node is its own 2 heights + 2 adjustments away

    // Serf's own example: |(-0.5, 1.3, 2.4) − (1.2, -2.3, 3.4)| = sqrt(1.7² + 3.6² + 1²) = sqrt(16.85).
    const c1 = { vec: [-0.5, 1.3, 2.4], error: 1.5, adjustment: 0, height: 0 };
    const c2 = { vec: [1.2, -2.3, 3.4], error: 1.5, adjustment: 0, height: 0 };
    expect(distanceBetween(c1, c2)).toBeCloseTo(4.104875150354758, 12);
    expect(distanceBetween({ ...c1, height: 0.7, adjustment: 0.1 }, { ...c2, height: 0.1, adjustment: 0.2 })).toBeCloseTo(4.104875150354758 + 0.8 + 0.3, 12);
  });

  it('distance falls back to the raw distance when the adjusted one is not positive', () => {
    const a = coord(vec8(0.001, 0.002), { height: 0.0005, adjustment: -0.004 });
    const b = coord(vec8(0.004, 0.006), { height: 0.0003, adjustment: -0.002 });
    // raw 5.8 ms, adjusted 5.8 − 6 = −0.2 ms ≤ 0 → raw.
    expect(distanceBetween(a, b)).toBeCloseTo(0.0058, 15);
    // Exactly zero counts as "not positive" too.
    const zero = { vec: [0, 0], error: 1, adjustment: -1, height: 0 };
    expect(distanceBetween(zero, { vec: [3, 4], error: 1, adjustment: -4, height: 0 })).toBe(5);
    // A huge negative adjustment on one side is ignored the same way (Serf's test).
    expect(distanceBetween(coord(vec8(0.003, 0.004), { height: 0, adjustment: -1e6 }), coord(vec8(), { height: 0 }))).toBeCloseTo(0.005, 15);
  });

  it('distance between different dimensionalities is a RangeError', () => {
    expect(() => distanceBetween(coord(vec8()), coord([0, 0, 0]))).toThrow(RangeError);
    expect(() => distanceBetween(coord(vec8()), coord([0, 0, 0]))).toThrow(/dimensionality/);
  });

  it('compatibility is equal dimensionality', () => {
    expect(isCompatible(coord(vec8()), coord(vec8(1, 2)))).toBe(true);
    expect(isCompatible(coord([0, 0, 0]), coord(vec8()))).toBe(false);
    expect(isCompatible(coord([]), coord([]))).toBe(true);
  });

  it('validity: every component finite and the right dimensionality', () => {
    const base = newCoordinate(CONFIG);
    expect(isValidCoordinate(base)).toBe(true);
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (let i = 0; i < 8; i++) {
        const c = newCoordinate(CONFIG);
        c.vec[i] = bad;
        expect(isValidCoordinate(c), `vec[${i}] = ${bad}`).toBe(false);
      }
      for (const key of ['error', 'adjustment', 'height'] as const) {
        expect(isValidCoordinate({ ...base, [key]: bad }), `${key} = ${bad}`).toBe(false);
      }
    }
    expect(isValidCoordinate(coord([0, 0, 0]))).toBe(false); // Serf's 8 by default
    expect(isValidCoordinate(coord([0, 0, 0]), 3)).toBe(true);
    expect(isValidCoordinate(coord([0, 0, 0]), null)).toBe(true); // any dimensionality
    expect(isValidCoordinate({ ...base, vec: [...base.vec.slice(1), '0' as unknown as number] })).toBe(false);
    expect(isValidCoordinate(null as unknown as Coordinate)).toBe(false);
  });
});

describe('CoordinateClient.update', () => {
  it('one step from the origin, computed by hand from Serf’s formulas', () => {
    const client = new CoordinateClient(CONFIG, NO_RANDOM);
    // We: origin, error 1.5, adjustment 0, height 10 µs. The other: 5 ms away at (3, 4) ms, error
    // 0.5, height 1 ms. The measured RTT is 10 ms, so we are predicted too close.
    const other = coord(vec8(0.003, 0.004), { error: 0.5, height: 0.001 });
    const c = client.update('other', other, 0.01);

    // 1. Vivaldi.
    //    predicted  = 5 ms + 0.01 ms + 1 ms                        = 0.00601 s
    //    relErr     = |0.00601 − 0.01| / 0.01                      = 0.399
    //    weight     = 1.5 / (1.5 + 0.5)                            = 0.75
    //    error      = 0.25·0.75·0.399 + 1.5·(1 − 0.25·0.75)        = 0.0748125 + 1.21875 = 1.2935625
    //    force      = 0.25·0.75·(0.01 − 0.00601)                   = 0.000748125 s (pushes us away)
    //    unit       = (origin − other)/5 ms                        = (−0.6, −0.8)
    //    vec        = unit · force                                 = (−0.000448875, −0.0005985)
    //    height     = 10 µs + force·(10 µs + 1 ms)/5 ms            = 0.00001 + 0.00015112125 = 0.00016112125
    // 2. Adjustment (raw distance, window of 20, 19 zeros).
    //    raw        = (5 ms + force) + height + 1 ms               = 0.005748125 + 0.00016112125 + 0.001 = 0.00690924625
    //    residual   = 0.01 − raw                                   = 0.00309075375
    //    adjustment = residual / (2·20)                            = 0.00007726884375
    // 3. Gravity toward the origin (the origin's height is 10 µs; our adjustment counts).
    //    d          = |vec| + height + 10 µs + adjustment          = 0.000748125 + 0.00016112125 + 0.00001 + 0.00007726884375
    //    g          = (d / 150)²                                   ≈ 4.4135e-11 s, pulling along −unit
    //    vec       += g·(0.6, 0.8);  height −= g·(height + 10 µs)/|vec|
    const d = 0.000748125 + 0.00016112125 + 0.00001 + 0.00007726884375;
    const g = (d / 150) ** 2;
    expect(c.error).toBeCloseTo(1.2935625, 15);
    expect(c.adjustment).toBeCloseTo(0.00007726884375, 17);
    expect(c.vec[0]).toBeCloseTo(-0.000448875 + 0.6 * g, 17);
    expect(c.vec[1]).toBeCloseTo(-0.0005985 + 0.8 * g, 17);
    expect(c.vec.slice(2)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(c.height).toBeCloseTo(0.00016112125 - (g * (0.00016112125 + 0.00001)) / 0.000748125, 17);
    // Gravity is tiny at this scale but there: without it the vector would be off by 0.6·g.
    expect(Math.abs(c.vec[0]! - -0.000448875)).toBeGreaterThan(1e-11);
    // The returned coordinate is the client's, as a copy.
    expect(client.coordinate).toEqual(c);
    c.vec[0] = 42;
    expect(client.coordinate.vec[0]).not.toBe(42);
    expect(client.distanceTo(other)).toBe(distanceBetween(client.coordinate, other));
  });

  it('follows the trajectory Serf 0.9.4 computes for the same observations', () => {
    // Four nodes at the corners of a 30 × 40 ms rectangle, started at spread-out coordinates
    // (SetCoordinate), updated 60 times in a fixed order with ±10/20% jitter on the RTT. The
    // expected values were printed by hashicorp/serf 0.9.4's coordinate package (Debian's
    // golang-github-hashicorp-serf-dev) running this same schedule. Serf truncates distances to
    // whole nanoseconds (time.Duration) where we keep float seconds; that accounts for the
    // remaining ~1e-9 s differences (emulating the truncation gives identical bits).
    const positions = [
      [0, 0],
      [0.03, 0],
      [0, 0.04],
      [0.03, 0.04],
    ] as const;
    const n = positions.length;
    const clients = positions.map((_, i) => {
      const client = new CoordinateClient(CONFIG, NO_RANDOM);
      const start = newCoordinate(CONFIG);
      start.vec = start.vec.map((_, d) => 0.001 * (((i * 7 + d * 3) % 11) - 5));
      client.setCoordinate(start);
      return client;
    });
    for (let s = 0; s < 60; s++) {
      const i = s % n;
      const j = (i + 1 + (Math.trunc(s / n) % (n - 1))) % n;
      const [xi, yi] = positions[i]!;
      const [xj, yj] = positions[j]!;
      const truth = Math.hypot(xi - xj, yi - yj) * (1 + 0.1 * (((s * 13) % 5) - 2));
      clients[i]!.update(`n${j}`, clients[j]!.coordinate, Math.round(truth * 1e9) / 1e9);
    }
    const serf: Coordinate[] = [
      {
        vec: [
          -0.014692855946344143, -0.002348779587366909, -0.0003807814328075118, 0.009420745612361444, -0.004348746146330672, -0.0023807479917712726,
          0.0006192018466743684, 0.010420728891843319,
        ],
        error: 0.34730754451345464,
        adjustment: 0.004348501242148555,
        height: 3.877058324220772e-5,
      },
      {
        vec: [
          0.0017059427196439263, 0.008578273605429156, -0.008740710105865917, 0.004173996983550376, 0.00657830798018162, -0.010740675731113454,
          -0.00774072729324215, 0.005173979796174142,
        ],
        error: 0.3569198144155688,
        adjustment: 0.004236852792575921,
        height: 3.0221765059775888e-5,
      },
      {
        vec: [
          -0.0015401738943396136, 0.0010635552051627105, 0.008131961643464304, -0.009726135175936176, -0.0009364179017161776, 0.006131988536585414,
          0.00913194819690375, -0.008726148622496734,
        ],
        error: 0.34601807527210543,
        adjustment: 0.0037720743040955606,
        height: 2.8712799388572998e-5,
      },
      {
        vec: [
          0.018014130949965054, -0.005708800877943638, 0.0009887452269228103, 5.240240783804916e-5, -0.007708767456879451, -0.001011221352013002,
          0.0019887285163907174, 0.0010523856973059555,
        ],
        error: 0.3831209173336356,
        adjustment: 0.004610034908150321,
        height: 4.316176159975701e-5,
      },
    ];
    clients.forEach((client, i) => {
      const ours = client.coordinate;
      const theirs = serf[i]!;
      const pairs: [number, number][] = [
        ...ours.vec.map((x, d): [number, number] => [x, theirs.vec[d]!]),
        [ours.adjustment, theirs.adjustment],
        [ours.height, theirs.height],
      ];
      for (const [x, y] of pairs) expect(Math.abs(x - y), `node ${i}`).toBeLessThan(1e-8);
      expect(Math.abs(ours.error - theirs.error) / theirs.error).toBeLessThan(1e-6);
    });
  });

  it('a node on top of us is pushed off in a random direction drawn from the random source', () => {
    const random = scripted([0.9, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    const client = new CoordinateClient(CONFIG, random);
    // Both at the origin: predicted 20 µs (two heights), RTT 10 ms, weight 1.5/3 = 0.5,
    // force = 0.25·0.5·(0.01 − 0.00002) = 0.0012475 along the drawn direction (0.4, 0, …)/0.4.
    const c = client.update('twin', newCoordinate(CONFIG), 0.01);
    expect(random.draws).toBe(8); // one draw per dimension; gravity then has a direction of its own
    expect(c.vec[0]).toBeCloseTo(0.0012475, 9);
    expect(c.vec.slice(1)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    // Coincident points leave the height alone (there is no span to share the force along).
    expect(c.height).toBeCloseTo(10e-6, 12);

    // A degenerate draw (all components 0.5 − 0.5 = 0) falls back to the first axis.
    const flat = new CoordinateClient(CONFIG, scripted([]));
    expect(flat.update('twin', newCoordinate(CONFIG), 0.01).vec[0]).toBeCloseTo(0.0012475, 9);
  });

  it('c_e steers the error and c_c the force; no adjustment window, no adjustment', () => {
    const client = new CoordinateClient({ ...CONFIG, adjustmentWindowSize: 0, vivaldiCE: 0.5, vivaldiCC: 0.1 }, NO_RANDOM);
    const c = client.update('other', coord(vec8(0.003, 0.004), { error: 0.5, height: 0.001 }), 0.01);
    expect(c.adjustment).toBe(0);
    // As in the step above with c_e = 0.5: 0.5·0.75·0.399 + 1.5·(1 − 0.5·0.75) = 0.149625 + 0.9375.
    expect(c.error).toBeCloseTo(1.087125, 15);
    // With c_c = 0.1: force = 0.1·0.75·0.00399 = 0.00029925 along (−0.6, −0.8), less a little gravity.
    expect(c.vec[0]).toBeCloseTo(-0.6 * 0.00029925, 10);
    expect(c.vec[1]).toBeCloseTo(-0.8 * 0.00029925, 10);
  });
});

describe('latency filter', () => {
  // The filter is observed through its effect: a client fed samples for one node must end up
  // exactly where a twin does that is fed only the expected median, each time for a node it has
  // never heard of (so the twin's filter passes the value straight through).
  const other = coord(vec8(0.1), { error: 0.8, height: 0.002 });
  const twins = () => [new CoordinateClient(CONFIG, NO_RANDOM), new CoordinateClient(CONFIG, NO_RANDOM)] as const;
  let fresh = 0;
  const check = (a: CoordinateClient, b: CoordinateClient, node: string, sample: number, median: number) => {
    a.update(node, other, sample);
    b.update(`fresh-${fresh++}`, other, median);
    expect(a.coordinate, `${node} ${sample} → ${median}`).toEqual(b.coordinate);
  };

  it('takes the (upper) median of the last 3 samples per node', () => {
    const [a, b] = twins();
    // Serf's own sequence (client_test.go, TestClient_latencyFilter).
    check(a, b, 'alice', 0.201, 0.201);
    check(a, b, 'alice', 0.2, 0.201); // two samples: the upper one of the middle pair
    check(a, b, 'alice', 0.207, 0.201);
    check(a, b, 'alice', 1.9, 0.207); // the glitch is medianed out, never seen by Vivaldi
    check(a, b, 'alice', 0.203, 0.207);
    check(a, b, 'alice', 0.199, 0.203); // 1.9 has aged out: [0.203, 0.199] + … → 0.203
    check(a, b, 'alice', 0.211, 0.203);
    // Nodes have separate filters.
    check(a, b, 'bob', 0.31, 0.31);
  });

  it('forgetNode clears a node’s samples', () => {
    const [a, b] = twins();
    check(a, b, 'alice', 0.009, 0.009);
    check(a, b, 'alice', 0.008, 0.009);
    a.forgetNode('alice');
    a.forgetNode('never-seen'); // harmless
    check(a, b, 'alice', 0.001, 0.001);

    // Control: without forgetNode the old samples would have won.
    const [c, d] = twins();
    check(c, d, 'alice', 0.009, 0.009);
    check(c, d, 'alice', 0.008, 0.009);
    check(c, d, 'alice', 0.001, 0.008);
  });
});

describe('checks', () => {
  const other = coord(vec8(0.003, 0.004), { error: 0.5 });

  it('refuses an RTT that is not finite, not positive, or above 10 s, changing nothing', () => {
    const client = new CoordinateClient(CONFIG, NO_RANDOM);
    client.update('other', other, 0.02);
    const before = client.coordinate;
    for (const rtt of [NaN, Infinity, -Infinity, 0, -0, -0.035, 10.000001, 11, 1e300]) {
      expect(() => client.update('other', other, rtt), String(rtt)).toThrow(RangeError);
      expect(() => client.update('other', other, rtt), String(rtt)).toThrow(/round trip time/);
    }
    expect(() => client.update('other', other, '0.01' as unknown as number)).toThrow(RangeError);
    expect(client.coordinate).toEqual(before);
    expect(client.distanceTo(other)).toBe(distanceBetween(before, other));
    // Nor did the refused samples reach the filter: a twin fed the same good samples agrees.
    const twin = new CoordinateClient(CONFIG, NO_RANDOM);
    twin.update('other', other, 0.02);
    expect(client.update('other', other, 0.01)).toEqual(twin.update('other', other, 0.01));
    // 10 s exactly is still in range (Serf refuses only above it).
    expect(() => client.update('other', other, 10)).not.toThrow();
  });

  it('refuses an incompatible or invalid other coordinate', () => {
    const client = new CoordinateClient(CONFIG, NO_RANDOM);
    const before = client.coordinate;
    expect(() => client.update('x', coord([0, 0, 0.001]), 0.01)).toThrow(RangeError);
    expect(() => client.update('x', coord([0, 0, 0.001]), 0.01)).toThrow(/has 3 dimensions, expected 8/);
    expect(() => client.update('x', coord([...vec8(0.003, 0.004), 0]), 0.01)).toThrow(/has 9 dimensions/);
    for (const bad of [NaN, Infinity]) {
      expect(() => client.update('x', coord(vec8(bad)), 0.01)).toThrow(/invalid/);
      expect(() => client.update('x', { ...other, error: bad }, 0.01)).toThrow(RangeError);
      expect(() => client.update('x', { ...other, adjustment: bad }, 0.01)).toThrow(RangeError);
      expect(() => client.update('x', { ...other, height: bad }, 0.01)).toThrow(RangeError);
    }
    expect(() => client.update('x', null as unknown as Coordinate, 0.01)).toThrow(/not a coordinate/);
    expect(() => client.update('x', { vec: 'nope' } as unknown as Coordinate, 0.01)).toThrow(RangeError);
    // setCoordinate makes the same checks.
    expect(() => client.setCoordinate(coord(vec8(NaN)))).toThrow(RangeError);
    expect(() => client.setCoordinate(coord([1, 2]))).toThrow(RangeError);
    expect(client.coordinate).toEqual(before);
    expect(() => client.distanceTo(coord([1, 2]))).toThrow(RangeError);
  });

  it('refuses a config Serf could not run with', () => {
    expect(() => new CoordinateClient({ ...CONFIG, dimensionality: 0 }, NO_RANDOM)).toThrow(/dimensionality/);
    expect(() => new CoordinateClient({ ...CONFIG, latencyFilterSize: 0 }, NO_RANDOM)).toThrow(/latencyFilterSize/);
    expect(() => new CoordinateClient({ ...CONFIG, adjustmentWindowSize: 1.5 }, NO_RANDOM)).toThrow(RangeError);
    expect(() => new CoordinateClient({ ...CONFIG, gravityRho: 0 }, NO_RANDOM)).toThrow(/gravityRho/);
  });

  it('refuses a coordinate beyond ±100 s, or with a negative error or height, and counts it', () => {
    const client = new CoordinateClient(CONFIG, createRandom(1));
    client.update('n', coord(vec8(0.003, 0.004), { error: 0.5 }), 0.01);
    const before = client.coordinate;
    expect(MAX_COORDINATE_SECONDS).toBe(100);
    // Finite, so Serf would take them: 1e300 s away overflows the update, and a negative error
    // makes the spring's weight larger than one.
    const absurd = [
      coord(vec8(1e300), { error: 0.5 }),
      coord(vec8(101), { error: 0.5 }),
      coord(vec8(0.003), { error: 0.5, height: 1e6 }),
      coord(vec8(0.003), { error: 0.5, adjustment: -1e6 }),
      coord(vec8(0.003), { error: 1e9 }),
      coord(vec8(0.003), { error: -1.4 }),
      coord(vec8(0.003), { error: 0.5, height: -0.01 }),
    ];
    for (const other of absurd) {
      expect(isValidCoordinate(other)).toBe(true);
      expect(() => client.update('absurd', other, 0.01)).toThrow(RangeError);
    }
    expect(() => client.update('n', coord(vec8(NaN)), 0.01)).toThrow(RangeError);
    expect(() => client.update('n', coord(vec8(0.003)), 0)).toThrow(RangeError);
    expect(client.coordinate).toEqual(before);
    expect(client.stats).toEqual({ resets: 0, rejected: absurd.length + 2 });
    // The edge itself is taken.
    expect(() => client.update('edge', coord(vec8(MAX_COORDINATE_SECONDS), { error: 0.5 }), 0.01)).not.toThrow();
  });

  it('keeps latency samples for at most MAX_FILTERED_NODES nodes, forgetting the least recently sampled', () => {
    const client = new CoordinateClient(CONFIG, createRandom(1));
    const other = coord(vec8(0.003, 0.004), { error: 0.5 });
    for (let i = 0; i < MAX_FILTERED_NODES + 100; i++) client.update(`n${i}`, other, 0.01);
    expect(client.filteredNodes).toBe(MAX_FILTERED_NODES);
    client.forgetNode('n100');
    expect(client.filteredNodes).toBe(MAX_FILTERED_NODES - 1);
  });

  it('an update that still overflows to a non-finite coordinate resets it and counts', () => {
    // Only an absurd tuning can overflow now: a force constant of 1e308 throws the coordinate
    // 1e305 s away, and the gravity step after it squares that to Infinity. (Gravity finds no
    // direction from a NaN vector and draws a random one, as Serf's does.)
    const client = new CoordinateClient({ ...CONFIG, vivaldiCC: 1e308 }, createRandom(1));
    const c = client.update('n', coord(vec8(0.003, 0.004), { error: 0.5 }), 0.01);
    expect(c).toEqual(newCoordinate(CONFIG));
    expect(client.stats).toEqual({ resets: 1, rejected: 0 });
    // stats is a snapshot.
    const stats = client.stats as { resets: number };
    stats.resets = 99;
    expect(client.stats.resets).toBe(1);
  });

  it('a stream of good samples around a NaN and a 1e300 one leaves the same coordinate as without them', () => {
    const poisoned = new CoordinateClient(CONFIG, createRandom(1));
    const clean = new CoordinateClient(CONFIG, createRandom(1));
    const sample = (client: CoordinateClient, k: number) =>
      client.update(`n${k % 4}`, coord(vec8(0.003 * (k % 4), 0.004), { error: 0.5 }), 0.01 + 0.001 * (k % 3));
    for (let k = 0; k < 30; k++) {
      sample(clean, k);
      sample(poisoned, k);
      if (k === 10) expect(() => poisoned.update('n1', coord(vec8(NaN)), 0.01)).toThrow(RangeError);
      if (k === 20) expect(() => poisoned.update('n2', coord(vec8(1e300)), 0.01)).toThrow(RangeError);
    }
    expect(poisoned.coordinate).toEqual(clean.coordinate);
    expect(poisoned.stats).toEqual({ resets: 0, rejected: 2 });
  });
});

// ---------------------------------------------------------------------------------------------
// Simulations, in the manner of Serf's performance_test.go: every cycle each node observes the
// true RTT to one node picked at random and updates; then estimated against true distances.

function simulate(clients: CoordinateClient[], truth: number[][], cycles: number, random: Random): void {
  const n = clients.length;
  for (let cycle = 0; cycle < cycles; cycle++) {
    for (let i = 0; i < n; i++) {
      const j = random.int(n);
      if (j !== i) clients[i]!.update(`n${j}`, clients[j]!.coordinate, truth[i]![j]!);
    }
  }
}

/** Relative errors of the estimates over all pairs. */
function relativeErrors(clients: CoordinateClient[], truth: number[][]): number[] {
  const errors: number[] = [];
  for (let i = 0; i < clients.length; i++) {
    for (let j = i + 1; j < clients.length; j++) {
      errors.push(Math.abs(clients[i]!.distanceTo(clients[j]!.coordinate) - truth[i]![j]!) / truth[i]![j]!);
    }
  }
  return errors;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const clientsFor = (n: number, config: CoordinateConfig, seed: number) =>
  Array.from({ length: n }, (_, i) => new CoordinateClient(config, createRandom(deriveSeed(seed, i))));

describe('simulated networks (after Serf’s performance tests)', () => {
  it('a 5 × 5 grid with 10 ms spacing is learnt almost exactly', () => {
    const side = 5;
    const truth = Array.from({ length: side * side }, (_, i) =>
      Array.from({ length: side * side }, (_, j) => 0.01 * Math.hypot((i % side) - (j % side), Math.trunc(i / side) - Math.trunc(j / side))),
    );
    const clients = clientsFor(truth.length, CONFIG, 7);
    simulate(clients, truth, 1000, createRandom(7));
    const errors = relativeErrors(clients, truth);
    // Serf asks for avg < 0.0015 and max < 0.022 with its RNG; we allow twice that for ours.
    expect(mean(errors)).toBeLessThan(0.003);
    expect(Math.max(...errors)).toBeLessThan(0.044);
  });

  it('a node equidistant from a ring rises above it on its height', () => {
    // Serf's TestPerformance_Height: 2 dimensions, 24 nodes evenly on a circle of radius 100 ms,
    // node 0 at 200 ms from all of them. Only a height can represent node 0.
    const n = 25;
    const radius = 0.1;
    const angle = (i: number) => (2 * Math.PI * i) / n;
    const truth = Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j) => {
        if (i === j) return 0;
        if (i === 0 || j === 0) return 2 * radius;
        return radius * Math.hypot(Math.cos(angle(i)) - Math.cos(angle(j)), Math.sin(angle(i)) - Math.sin(angle(j)));
      }),
    );
    const clients = clientsFor(n, { ...CONFIG, dimensionality: 2 }, 5);
    simulate(clients, truth, 1000, createRandom(5));
    expect(clients[0]!.coordinate.height).toBeGreaterThan(0.97 * radius);
    for (const client of clients.slice(1)) expect(client.coordinate.height).toBeLessThan(0.05 * radius);
    const errors = relativeErrors(clients, truth);
    expect(mean(errors)).toBeLessThan(0.005);
    expect(Math.max(...errors)).toBeLessThan(0.08);
  });

  it('gravity pulls a drifted constellation back toward the origin', () => {
    // Serf's TestPerformance_Drift: four nodes in a 500 ms square placed up in the first
    // quadrant; after a settling run, 10 000 more cycles must bring the centre of their bounding
    // box closer to the origin. Without gravity it stays where it is.
    const side = 0.5;
    const truth = Array.from({ length: 4 }, (_, i) =>
      Array.from({ length: 4 }, (_, j) => (i === j ? 0 : i % 2 === 0 && j % 2 === 0 ? Math.SQRT2 * side : side)),
    );
    const run = (gravityRho: number) => {
      const clients = clientsFor(4, { ...CONFIG, dimensionality: 2, gravityRho }, 3);
      const start = [
        [0, 0],
        [0, side],
        [side, side],
        [side, side],
      ];
      clients.forEach((client, i) => {
        client.setCoordinate({ ...client.coordinate, vec: start[i]! });
      });
      const centre = () => {
        const mid = [0, 1].map((k) => {
          const xs = clients.map((c) => c.coordinate.vec[k]!);
          return (Math.min(...xs) + Math.max(...xs)) / 2;
        });
        return Math.hypot(mid[0]!, mid[1]!);
      };
      const random = createRandom(1003);
      simulate(clients, truth, 1000, random);
      const baseline = centre();
      simulate(clients, truth, 10_000, random);
      return centre() / baseline;
    };
    expect(run(150)).toBeLessThan(0.85); // Serf: ≤ 0.8 with its RNG; ours lands at ≈ 0.78
    expect(run(1e12)).toBeGreaterThan(0.95);
  });

  it('property: random 2-D networks of 4–8 nodes converge to within ~20% of the true RTTs', () => {
    // Nodes on a 100 × 100 ms plane (2 ms grid), at least 2 ms apart; true RTT = Euclidean
    // distance; 400 rounds in which every node pings one other node picked at random.
    //
    // Vivaldi with heights can settle a tiny network (4 or 5 nodes, few constraints) in a local
    // optimum where a couple of nodes carry a height instead of a position, which leaves some of
    // its pairs 20–40% off (Serf behaves the same: its own tests use 10–25 nodes). So: in every
    // network the median pair is within 30%; in at least 90% of the networks at least 80% of
    // the pairs are within 20%; and over all networks at least 90% of the pairs are within 20%.
    // (Over several seeds: ≥ 97% of pairs, and at most 2 networks in 100 under 80%.)
    let within = 0;
    let pairs = 0;
    let networks = 0;
    let goodNetworks = 0;
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 50 })), {
          minLength: 4,
          maxLength: 8,
          selector: ([x, y]) => `${x},${y}`,
        }),
        fc.integer(),
        (points, seed) => {
          const positions = points.map(([x, y]) => [x / 500, y / 500] as const);
          const truth = positions.map(([xi, yi]) => positions.map(([xj, yj]) => Math.hypot(xi - xj, yi - yj)));
          const n = positions.length;
          for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) fc.pre(truth[i]![j]! >= 0.002);

          const clients = clientsFor(n, CONFIG, seed);
          const random = createRandom(seed);
          for (let round = 0; round < 400; round++) {
            for (let i = 0; i < n; i++) {
              const j = (i + 1 + random.int(n - 1)) % n; // any node but i
              clients[i]!.update(`n${j}`, clients[j]!.coordinate, truth[i]![j]!);
            }
          }
          for (const client of clients) expect(client.stats.resets).toBe(0);

          const errors = relativeErrors(clients, truth).sort((a, b) => a - b);
          expect(errors[(errors.length - 1) >> 1]).toBeLessThan(0.3);
          const ok = errors.filter((e) => e <= 0.2).length;
          within += ok;
          pairs += errors.length;
          networks++;
          if (ok >= 0.8 * errors.length) goodNetworks++;
        },
      ),
      { seed: 20240601, numRuns: 100 },
    );
    expect(networks).toBe(100);
    expect(goodNetworks / networks).toBeGreaterThanOrEqual(0.9);
    expect(within / pairs).toBeGreaterThan(0.9);
  });
});
