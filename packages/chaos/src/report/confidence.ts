/**
 * Means over a few repetitions with 95% confidence intervals. Lab runs are minutes long, so a
 * variant is repeated a handful of times: Student's t, not the normal, sets the interval's width.
 */

/** Two-sided 95% quantiles of Student's t (t₀.₉₇₅) for 1 … 30 degrees of freedom. */
const T_975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069,
  2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
] as const;
/** Beyond 30 degrees of freedom t is within 2% of the normal's quantile. */
const NORMAL_975 = 1.96;

export function tQuantile975(degreesOfFreedom: number): number {
  if (!Number.isInteger(degreesOfFreedom) || degreesOfFreedom < 1)
    throw new RangeError(`degrees of freedom must be a positive integer, not ${degreesOfFreedom}`);
  return T_975[degreesOfFreedom - 1] ?? NORMAL_975;
}

export interface Estimate {
  readonly n: number;
  readonly mean: number;
  /** Half the width of the 95% interval around the mean; null when n = 1 (no spread to judge by). */
  readonly halfWidth: number | null;
}

/** Mean and 95% interval (t with n − 1 degrees of freedom × the standard error); null for no values. */
export function estimate(values: readonly number[]): Estimate | null {
  const n = values.length;
  if (n === 0) return null;
  const mean = values.reduce((sum, v) => sum + v, 0) / n;
  if (n === 1) return { n, mean, halfWidth: null };
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (n - 1);
  return { n, mean, halfWidth: tQuantile975(n - 1) * Math.sqrt(variance / n) };
}
