/** The notice limiter: a few of each kind per window, then one line with how many were held back. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NoticeLimiter } from '../../packages/hearsay/src/runtime/notice-limiter.js';

describe('NoticeLimiter', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('lets five of a kind through per 10 s window, then sums up the rest at its end', () => {
    const shown: string[] = [];
    const limiter = new NoticeLimiter((level, text) => shown.push(`${level} ${text}`));
    for (let i = 0; i < 100; i++) limiter.notice('warn', `ping for n${i} reached me`);
    limiter.notice('warn', 'rejected push/pull state: too many members');
    limiter.notice('debug', 'ping for n0 reached me'); // another level, another kind
    expect(shown).toHaveLength(7);
    vi.advanceTimersByTime(10_000);
    expect(shown.at(-1)).toBe('warn 95 more notices like "ping for …" were held back in the last 10 s');
    expect(shown).toHaveLength(8);
    // A new window starts afresh.
    limiter.notice('warn', 'ping for again reached me');
    expect(shown.at(-1)).toBe('warn ping for again reached me');
    limiter.flush();
    expect(shown).toHaveLength(9); // nothing was held back in it
  });

  it('shares one kind among all beyond the first 64, so that varied texts cannot grow it', () => {
    const shown: string[] = [];
    const limiter = new NoticeLimiter((_level, text) => shown.push(text));
    for (let i = 0; i < 1000; i++) limiter.notice('warn', `kind${i} happened`);
    expect(shown).toHaveLength(64 + 5);
    limiter.flush();
    expect(shown.at(-1)).toBe('931 more notices of other kinds were held back in the last 1 s');
  });
});
