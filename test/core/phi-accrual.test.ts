/**
 * The phi accrual detector against values computed by hand (with the same logistic
 * approximation Akka uses): phi = −log10(1 − F(elapsed)), F normal with the window's mean (plus
 * the acceptable pause) and standard deviation (floored).
 */
import { describe, expect, it } from 'vitest';
import { elapsedForPhi, PhiAccrual, phiOf } from '../../packages/hearsay/src/core/index.js';

describe('phi of an elapsed time', () => {
  it.each([
    // elapsed, mean, standard deviation → phi
    [1000, 1000, 100, 0.3010299956639812], // at the mean: 1 − F = 1/2
    [1200, 1000, 100, 1.6428278854871123], // two deviations late
    [1500, 1000, 100, 7.299947394460206], // five deviations late: just under Akka's threshold of 8
    [800, 1000, 100, 0.009998761629963108], // early
    [4300, 4000, 200, 1.1742686795906638],
  ])('phi(%i ms | mean %i, sd %i) = %f', (elapsed, mean, sd, expected) => {
    expect(phiOf(elapsed, mean, sd)).toBeCloseTo(expected, 10);
  });

  it('grows without bound as the silence lasts, and is 0 long before the mean', () => {
    expect(phiOf(0, 4000, 100)).toBe(0);
    expect(phiOf(5000, 1000, 100)).toBeGreaterThan(100);
    expect(phiOf(2000, 1000, 100)).toBeGreaterThan(phiOf(1500, 1000, 100));
  });
});

describe('the detector', () => {
  /** Heartbeats at 0, 1000, 2000, 3000: samples 750, 1250 (the bootstrap), 1000, 1000, 1000. */
  function regular(): PhiAccrual {
    const detector = new PhiAccrual();
    for (const at of [0, 1000, 2000, 3000]) detector.heartbeat(at);
    return detector;
  }

  it('is 0 before the first heartbeat, and bootstraps two samples around the estimate', () => {
    const detector = new PhiAccrual();
    expect(detector.phi(10_000)).toBe(0);
    detector.heartbeat(0);
    expect(detector.samples).toBe(2);
    // mean 1000 + pause 3000, sd 250 (samples 750 and 1250): at the mean phi = log10 2
    expect(detector.phi(4000)).toBeCloseTo(0.3010299956639812, 10);
  });

  it.each([
    // time since the last heartbeat → phi (mean 1000 + 3000 pause, sd √25000 = 158.11 ms)
    [0, 0],
    [3000, 3.1379215761655296e-13],
    [4000, 0.3010299956639812],
    [4300, 1.538531750298481],
    [4600, 4.307564868581852],
    [5000, 12.141159297098934],
  ])('after regular heartbeats, phi %i ms after the last is %f', (since, expected) => {
    expect(regular().phi(3000 + since)).toBeCloseTo(expected, 8);
  });

  it('judges unavailable once phi passes the threshold (8)', () => {
    const detector = regular();
    expect(detector.isAvailable(3000 + 4600)).toBe(true);
    expect(detector.isAvailable(3000 + 5000)).toBe(false);
  });

  it('keeps at most maxSamples intervals, forgetting the oldest', () => {
    const detector = new PhiAccrual({ maxSamples: 3, acceptablePauseMs: 0, minStdDeviationMs: 1 });
    for (const at of [0, 100, 200, 300, 400]) detector.heartbeat(at);
    expect(detector.samples).toBe(3);
    // The window holds 100, 100, 100: mean 100, sd floored at 1, so 100 ms after the last heartbeat phi = log10 2.
    expect(detector.phi(500)).toBeCloseTo(0.3010299956639812, 10);
  });
});

describe('elapsedForPhi (the closed-form inverse)', () => {
  it('gives the silence at which phiOf reaches the threshold, for thresholds 0.5 … 16', () => {
    for (const threshold of [0.5, 1, 3, 8, 12, 16]) {
      for (const [mean, std] of [
        [1000, 100],
        [4000, 250],
        [1250, 700],
      ] as const) {
        const at = elapsedForPhi(threshold, mean, std);
        expect(phiOf(at, mean, std)).toBeCloseTo(threshold, 6);
        expect(phiOf(at - 1, mean, std)).toBeLessThan(threshold);
      }
    }
  });

  it('PhiAccrual.silenceToReach agrees with phi() on a real history', () => {
    const detector = new PhiAccrual({ threshold: 8 });
    let last = 0;
    for (let i = 0; i < 20; i++) {
      last += i % 3 === 0 ? 1150 : 920;
      detector.heartbeat(last);
    }
    const silence = detector.silenceToReach(8);
    expect(detector.phi(last + silence)).toBeCloseTo(8, 6);
    expect(detector.isAvailable(last + silence - 1)).toBe(true);
    expect(new PhiAccrual().silenceToReach(8)).toBe(Infinity);
  });
});
