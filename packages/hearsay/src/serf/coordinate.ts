/**
 * Vivaldi network coordinates, following hashicorp/serf's `coordinate` package so that the
 * coordinates we put in ping acks mean the same thing to a Serf agent as its own do.
 *
 * A coordinate is a point in an n-dimensional Euclidean space plus a non-Euclidean "height" (the
 * access link of a node to the core of the network) and an "adjustment" (a per-node offset learnt
 * from how far off the Euclidean estimate runs). All lengths are in seconds. The estimated RTT
 * between two nodes is |a.vec − b.vec| + a.height + b.height + a.adjustment + b.adjustment.
 *
 * References (as cited by Serf):
 *   [1] Dabek et al., "Vivaldi: A decentralized network coordinate system", SIGCOMM 2004.
 *   [2] Ledlie, Gardner, Seltzer, "Network Coordinates in the Wild", NSDI 2007.
 *   [3] Lee et al., "On suitability of Euclidean embedding for host-based network coordinate
 *       systems", IEEE/ACM ToN 18(1), 2010.
 *
 * Pure: no clock, no I/O; the one random draw (a direction between two coincident points) comes
 * from the `Random` passed in.
 */
import type { Random } from '../core/types.js';
import type { Coordinate } from '../wire/coordinate.js';

/** The tuning of the Vivaldi client, with Serf's names in camelCase. */
export interface CoordinateConfig {
  /** The number of Euclidean dimensions; Serf uses 8 (plus the height) [2]. */
  readonly dimensionality: number;
  /** The error of a fresh coordinate and the ceiling the error is clamped to. */
  readonly vivaldiErrorMax: number;
  /** How much one observation may move the error estimate (c_e in [1]). */
  readonly vivaldiCE: number;
  /** How much one observation may move the coordinate (c_c in [1]). */
  readonly vivaldiCC: number;
  /** How many residuals feed the adjustment term [3]; 0 turns the adjustment off. */
  readonly adjustmentWindowSize: number;
  /** The floor of the height (it must stay positive). */
  readonly heightMin: number;
  /** How many recent RTT samples per node the median filter keeps [2]. */
  readonly latencyFilterSize: number;
  /** The gravity constant pulling coordinates back toward the origin against drift [2]. */
  readonly gravityRho: number;
}

/** Serf's `coordinate.DefaultConfig()`, which every Serf agent runs with. */
export const DEFAULT_COORDINATE_CONFIG: Readonly<CoordinateConfig> = Object.freeze({
  dimensionality: 8,
  vivaldiErrorMax: 1.5,
  vivaldiCE: 0.25,
  vivaldiCC: 0.25,
  adjustmentWindowSize: 20,
  heightMin: 10e-6,
  latencyFilterSize: 3,
  gravityRho: 150,
});

/** Serf refuses RTT observations above this many seconds. */
export const MAX_RTT_SECONDS = 10;

/**
 * The largest magnitude of any component (vector, height, adjustment, error) of another node's
 * coordinate that is taken: ten times the largest round trip. Serf takes any finite value; one
 * of 1e300 overflows the update and resets this node's coordinate, and a negative error or
 * height turns the spring's weight against it.
 */
export const MAX_COORDINATE_SECONDS = 10 * MAX_RTT_SECONDS;

/**
 * Nodes whose recent round trips the latency filter keeps (as many as a member table holds by
 * default); beyond it the node sampled least recently is forgotten. Members come and go, and
 * a peer can make up new ones: without a bound the filter would only grow.
 */
export const MAX_FILTERED_NODES = 50_000;

/** Below this (seconds) two points count as coincident and a divisor counts as zero. */
const ZERO_THRESHOLD = 1e-6;

/** A fresh coordinate at the origin, as unsure of itself as the config allows. */
export function newCoordinate(config: Pick<CoordinateConfig, 'dimensionality' | 'vivaldiErrorMax' | 'heightMin'> = DEFAULT_COORDINATE_CONFIG): Coordinate {
  return { vec: new Array<number>(config.dimensionality).fill(0), error: config.vivaldiErrorMax, adjustment: 0, height: config.heightMin };
}

/** An independent copy. */
export function cloneCoordinate(c: Coordinate): Coordinate {
  return { vec: c.vec.slice(), error: c.error, adjustment: c.adjustment, height: c.height };
}

/** Whether two coordinates live in the same space (the same number of dimensions). */
export function isCompatible(a: Coordinate, b: Coordinate): boolean {
  return a.vec.length === b.vec.length;
}

/**
 * Whether `c` is a usable coordinate: every component a finite number and exactly
 * `dimensionality` dimensions (Serf's 8 unless given; `null` accepts any). Also checks the shape,
 * since coordinates arrive from the network.
 */
export function isValidCoordinate(c: Coordinate, dimensionality: number | null = DEFAULT_COORDINATE_CONFIG.dimensionality): boolean {
  if (typeof c !== 'object' || c === null || !Array.isArray(c.vec)) return false;
  if (dimensionality !== null && c.vec.length !== dimensionality) return false;
  for (const x of c.vec) if (!isFiniteNumber(x)) return false;
  return isFiniteNumber(c.error) && isFiniteNumber(c.adjustment) && isFiniteNumber(c.height);
}

function isFiniteNumber(x: unknown): boolean {
  return typeof x === 'number' && Number.isFinite(x);
}

function requireCompatible(a: Coordinate, b: Coordinate): void {
  if (!isCompatible(a, b)) {
    throw new RangeError(`coordinate dimensionality does not match: ${a.vec.length} vs ${b.vec.length}`);
  }
}

function magnitude(v: readonly number[]): number {
  let sum = 0;
  for (const x of v) sum += x * x;
  return Math.sqrt(sum);
}

/** |a − b|, assuming equal lengths. */
function euclidean(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return Math.sqrt(sum);
}

/** The Vivaldi distance in seconds: Euclidean part plus both heights, without adjustments. */
function rawDistance(a: Coordinate, b: Coordinate): number {
  return euclidean(a.vec, b.vec) + a.height + b.height;
}

/**
 * The estimated RTT between two coordinates, in seconds: the raw distance plus both adjustments,
 * unless that sum is not positive, in which case the raw distance stands (as in Serf).
 * Throws a RangeError if the dimensionalities differ.
 */
export function distanceBetween(a: Coordinate, b: Coordinate): number {
  requireCompatible(a, b);
  const raw = rawDistance(a, b);
  const adjusted = raw + a.adjustment + b.adjustment;
  return adjusted > 0 ? adjusted : raw;
}

function scale(v: readonly number[], factor: number): number[] {
  return v.map((x) => x * factor);
}

/**
 * The unit vector pointing from `to` toward `from` (the way `from` moves when pushed away from
 * `to`) and the distance between the two. For coincident points the direction is random and the
 * distance reported is 0, so that the caller leaves the height alone.
 */
function directionAway(from: readonly number[], to: readonly number[], random: Pick<Random, 'float'>): { unit: number[]; distance: number } {
  const n = from.length;
  const delta = new Array<number>(n);
  for (let i = 0; i < n; i++) delta[i] = from[i]! - to[i]!;
  const length = magnitude(delta);
  if (length > ZERO_THRESHOLD) return { unit: scale(delta, 1 / length), distance: length };

  // Coincident: pick a random direction (each component uniform in [-0.5, 0.5)).
  for (let i = 0; i < n; i++) delta[i] = random.float() - 0.5;
  const randomLength = magnitude(delta);
  if (randomLength > ZERO_THRESHOLD) return { unit: scale(delta, 1 / randomLength), distance: 0 };

  // The random draw was degenerate too (vanishingly unlikely): use the first axis.
  const axis = new Array<number>(n).fill(0);
  if (n > 0) axis[0] = 1;
  return { unit: axis, distance: 0 };
}

/**
 * Moves `c` by `force` seconds along the line from `other` (a positive force pushes it away, a
 * negative one pulls it closer) and scales its height in proportion, never below `heightMin`.
 * Returns a new coordinate.
 */
function applyForce(c: Coordinate, force: number, other: Coordinate, heightMin: number, random: Pick<Random, 'float'>): Coordinate {
  requireCompatible(c, other);
  const { unit, distance } = directionAway(c.vec, other.vec, random);
  const moved = cloneCoordinate(c);
  for (let i = 0; i < moved.vec.length; i++) moved.vec[i] = moved.vec[i]! + unit[i]! * force;
  if (distance > ZERO_THRESHOLD) {
    // The heights share the push in the ratio of their sum to the Euclidean span.
    const height = c.height + (force * (c.height + other.height)) / distance;
    moved.height = Math.max(height, heightMin);
  }
  return moved;
}

/** Counters of what the client did that a caller might want to see. */
export interface CoordinateClientStats {
  /** How many times an update produced a non-finite coordinate and the client started over. */
  readonly resets: number;
  /** Observations refused: another coordinate out of range or invalid, or a round trip out of range. */
  readonly rejected: number;
}

function checkConfig(config: CoordinateConfig): void {
  const positiveInt = (key: keyof CoordinateConfig, min: number) => {
    const v = config[key];
    if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`coordinate config: ${key} must be an integer ≥ ${min}, got ${v}`);
  };
  positiveInt('dimensionality', 1);
  positiveInt('latencyFilterSize', 1);
  positiveInt('adjustmentWindowSize', 0);
  for (const key of ['vivaldiErrorMax', 'vivaldiCE', 'vivaldiCC', 'heightMin', 'gravityRho'] as const) {
    const v = config[key];
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`coordinate config: ${key} must be a positive number, got ${v}`);
  }
}

/**
 * One node's Vivaldi client: holds its coordinate and refines it from (other node's coordinate,
 * measured RTT) observations, with Serf's per-node median latency filter, error-weighted spring
 * force [1], adjustment window [3] and gravity toward the origin [2].
 */
export class CoordinateClient {
  /** The settings the client was made with (checked, frozen). */
  readonly config: Readonly<CoordinateConfig>;
  readonly #random: Pick<Random, 'float'>;
  readonly #origin: Coordinate;
  #coord: Coordinate;
  /** Residuals (rtt − raw distance) in a ring buffer; its mean halved is the adjustment. */
  readonly #residuals: number[];
  #residualIndex = 0;
  /** The last `latencyFilterSize` RTT samples (seconds) per node, oldest first. */
  readonly #samples = new Map<string, number[]>();
  #resets = 0;
  #rejected = 0;

  constructor(config: CoordinateConfig, random: Pick<Random, 'float'>) {
    checkConfig(config);
    this.config = Object.freeze({ ...config });
    this.#random = random;
    this.#origin = newCoordinate(this.config);
    this.#coord = newCoordinate(this.config);
    this.#residuals = new Array<number>(this.config.adjustmentWindowSize).fill(0);
  }

  /** A copy of the current coordinate. */
  get coordinate(): Coordinate {
    return cloneCoordinate(this.#coord);
  }

  /** Resets and rejected observations so far. */
  get stats(): CoordinateClientStats {
    return { resets: this.#resets, rejected: this.#rejected };
  }

  /** Forces the coordinate to a known state (Serf's SetCoordinate); `c` is checked like `other`. */
  setCoordinate(c: Coordinate): void {
    this.#checkOther(c, 'coordinate');
    this.#coord = cloneCoordinate(c);
  }

  /** Nodes the latency filter holds samples for (at most MAX_FILTERED_NODES). */
  get filteredNodes(): number {
    return this.#samples.size;
  }

  /** Drops the latency samples kept for `node` (call it when the node leaves the cluster). */
  forgetNode(node: string): void {
    this.#samples.delete(node);
  }

  /** The estimated RTT in seconds from this client's coordinate to `other`. */
  distanceTo(other: Coordinate): number {
    return distanceBetween(this.#coord, other);
  }

  /**
   * Takes one observation: `node` sits at `other` and a ping to it took `rttSeconds`. Returns a
   * copy of the updated coordinate. Throws a RangeError, changing nothing (but counting it in
   * `stats.rejected`), if `other` has another dimensionality, a non-finite component, one beyond
   * MAX_COORDINATE_SECONDS or a negative error or height, or if the RTT is not a finite number
   * in (0, 10] s.
   */
  update(node: string, other: Coordinate, rttSeconds: number): Coordinate {
    try {
      this.#checkOther(other, 'other coordinate');
      // Serf lets an RTT of exactly 0 through (clamping it to 1 µs below); we refuse it, as no real
      // round trip takes no time and a zero here means a clock too coarse to measure it.
      if (typeof rttSeconds !== 'number' || !Number.isFinite(rttSeconds) || rttSeconds <= 0 || rttSeconds > MAX_RTT_SECONDS) {
        throw new RangeError(`round trip time out of range: ${rttSeconds} s is not a positive number of at most ${MAX_RTT_SECONDS} s`);
      }
    } catch (error) {
      this.#rejected++;
      throw error;
    }

    const rtt = this.#filter(node, rttSeconds);
    this.#updateVivaldi(other, rtt);
    this.#updateAdjustment(other, rtt);
    this.#updateGravity();
    if (!isValidCoordinate(this.#coord, this.config.dimensionality)) {
      this.#resets++;
      this.#coord = newCoordinate(this.config);
      // Serf keeps the residual window across a reset, so the non-finite residual this update just
      // stored makes every later update reset as well until the window wraps past it. We start the
      // window over too.
      this.#residuals.fill(0);
      this.#residualIndex = 0;
    }
    return cloneCoordinate(this.#coord);
  }

  #checkOther(other: Coordinate, what: string): void {
    if (typeof other !== 'object' || other === null || !Array.isArray(other.vec)) {
      throw new RangeError(`${what} is not a coordinate`);
    }
    if (!isCompatible(this.#coord, other)) {
      throw new RangeError(`${what} has ${other.vec.length} dimensions, expected ${this.#coord.vec.length}`);
    }
    if (!isValidCoordinate(other, this.config.dimensionality)) {
      throw new RangeError(`${what} is invalid: it has a non-finite component`);
    }
    const inRange = (x: number) => Math.abs(x) <= MAX_COORDINATE_SECONDS;
    if (!other.vec.every(inRange) || !inRange(other.adjustment) || !inRange(other.height) || !inRange(other.error)) {
      throw new RangeError(`${what} is out of range: a component is beyond ±${MAX_COORDINATE_SECONDS} s`);
    }
    if (other.error < 0 || other.height < 0) throw new RangeError(`${what} is invalid: a negative error or height`);
  }

  /** Records a sample for `node` and returns the median of its recent samples (upper median). */
  #filter(node: string, rttSeconds: number): number {
    const samples = this.#samples.get(node) ?? [];
    samples.push(rttSeconds);
    if (samples.length > this.config.latencyFilterSize) samples.shift();
    // Re-inserted, so that the map's order is the order of the last samples.
    this.#samples.delete(node);
    if (this.#samples.size >= MAX_FILTERED_NODES) this.#samples.delete(this.#samples.keys().next().value!);
    this.#samples.set(node, samples);
    const sorted = samples.slice().sort((a, b) => a - b);
    return sorted[sorted.length >> 1]!;
  }

  /** The spring step of [1]: move along the line to `other` by a share of the prediction error. */
  #updateVivaldi(other: Coordinate, rttSeconds: number): void {
    const { vivaldiCE, vivaldiCC, vivaldiErrorMax, heightMin } = this.config;
    const rtt = Math.max(rttSeconds, ZERO_THRESHOLD);
    const predicted = distanceBetween(this.#coord, other);
    const relativeError = Math.abs(predicted - rtt) / rtt;

    // Trust the observation in proportion to how unsure we are compared with the other node.
    const weight = this.#coord.error / Math.max(this.#coord.error + other.error, ZERO_THRESHOLD);
    const error = vivaldiCE * weight * relativeError + this.#coord.error * (1 - vivaldiCE * weight);
    this.#coord.error = Math.min(error, vivaldiErrorMax);

    // Too close (prediction < rtt) pushes us away from `other`; too far pulls us toward it.
    const force = vivaldiCC * weight * (rtt - predicted);
    this.#coord = applyForce(this.#coord, force, other, heightMin, this.#random);
  }

  /** The adjustment of [3]: half the mean residual over the window, against the raw distance. */
  #updateAdjustment(other: Coordinate, rttSeconds: number): void {
    const size = this.config.adjustmentWindowSize;
    if (size === 0) return;
    this.#residuals[this.#residualIndex] = rttSeconds - rawDistance(this.#coord, other);
    this.#residualIndex = (this.#residualIndex + 1) % size;
    let sum = 0;
    for (const r of this.#residuals) sum += r;
    this.#coord.adjustment = sum / (2 * size);
  }

  /** A pull toward the origin growing with the square of the distance from it, against drift [2]. */
  #updateGravity(): void {
    const ratio = distanceBetween(this.#origin, this.#coord) / this.config.gravityRho;
    this.#coord = applyForce(this.#coord, -(ratio * ratio), this.#origin, this.config.heightMin, this.#random);
  }
}
