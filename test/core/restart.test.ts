import { describe, expect, it } from 'vitest';
import { startingIncarnation } from '../../packages/hearsay/src/core/index.js';

describe('startingIncarnation: a restart outbids its earlier runs', () => {
  it('takes the clock reading when it has moved past the previous run', () => {
    expect(startingIncarnation(1_764_900_000.7)).toBe(1_764_900_000);
    expect(startingIncarnation(5000, 1200)).toBe(5000);
  });

  it('outbids the previous run by one when the clock has not moved past it', () => {
    expect(startingIncarnation(1000, 1000)).toBe(1001);
    expect(startingIncarnation(999.9, 1500)).toBe(1501);
  });

  it('starts at 1 on a clock at zero with no earlier run', () => {
    expect(startingIncarnation(0)).toBe(1);
  });
});
