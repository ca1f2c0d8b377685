/**
 * The reference numbers of docs/detectors.md, as functions to draw beside measurements.
 */

// SWIM's detection expectations live with the simulator, whose run summary reports them too.
export { roundRobinFirstSuspicionMs, swimFirstSuspicionMs, swimFirstVerdictMs } from 'hearsay/sim';

/**
 * Epidemic dissemination, the logistic model of docs/detectors.md: after r rounds of fan-out f the
 * informed fraction is 1 / (1 + (N + 1)·e^(−f·r)). Rounds until half the nodes know: ln(N + 1)/f.
 */
export function roundsToHalf(nodes: number, fanout: number): number {
  return Math.log(nodes + 1) / fanout;
}

/**
 * Rounds until the last node knows: the model's uninformed count N·(1 − fraction) falls below
 * one half at r = ln(2N(N + 1))/f, that is ≈ 2·ln N / f — growth, then the tail, each ln N / f.
 */
export function roundsToAll(nodes: number, fanout: number): number {
  return Math.log(2 * nodes * (nodes + 1)) / fanout;
}

/** Least-squares fit y = a + b·x; null with fewer than two distinct x. */
export function fitLine(points: readonly { x: number; y: number }[]): { intercept: number; slope: number; r2: number } | null {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const { x, y } of points) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
    syy += (y - my) ** 2;
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { intercept: my - slope * mx, slope, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** The standard error of the mean (sample standard deviation / √n); 0 for fewer than two values. */
export function standardError(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  const variance = values.reduce((sum, v) => sum + (v - m) ** 2, 0) / (values.length - 1);
  return Math.sqrt(variance / values.length);
}
