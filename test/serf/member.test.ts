/**
 * `SerfMember` over a real core on a fake clock: the graceful leave's order (Serf's intent,
 * then memberlist's leave after a head start) that the runtime and the simulator both follow.
 */
import { describe, expect, it } from 'vitest';
import type { Input } from '../../packages/hearsay/src/core/index.js';
import { decodeSerfMessage } from '../../packages/hearsay/src/wire/index.js';
import { Harness } from '../core/harness.js';
import { serfMemberOn } from './member-on.js';

describe('SerfMember', () => {
  it('announces a leave with Serf’s intent only, and gives it two gossip intervals before the core’s leave', () => {
    const h = new Harness({ name: 'a', config: { gossipIntervalMs: 150 } });
    const { member, stepped } = serfMemberOn(h);
    const headStartMs = member.announceLeave();
    expect(headStartMs).toBe(300);
    expect(stepped).toHaveLength(1);
    const [input] = stepped;
    expect(input).toMatchObject({ kind: 'broadcast', key: 'serf-intent' });
    const intent = decodeSerfMessage((input as Extract<Input, { kind: 'broadcast' }>).payload);
    expect(intent).toMatchObject({ type: 'leave', node: 'a', prune: false });
    // The intent is queued for gossip; the core itself has not left.
    expect(h.node.queuedBroadcasts).toBeGreaterThan(0);
    expect(h.status('a')).toBe('alive');
  });

  it('stamps a later intent after an earlier one (Lamport clock)', () => {
    const { member, stepped } = serfMemberOn(new Harness({ name: 'a' }));
    member.announceLeave();
    member.announceLeave();
    const times = stepped.map((input) => {
      const message = decodeSerfMessage((input as Extract<Input, { kind: 'broadcast' }>).payload);
      return message.type === 'leave' ? message.ltime : -1n;
    });
    expect(times[1]! > times[0]!).toBe(true);
  });
});
