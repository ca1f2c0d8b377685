/**
 * The pieces the protocol stands on: the timer heap, the member table, seeded randomness, and
 * the node's determinism and lifecycle.
 */
import { describe, expect, it } from 'vitest';
import { ALIVE, FAILED, SUSPECT } from '../../packages/hearsay/src/core/member-table.js';
import { Timers } from '../../packages/hearsay/src/core/timers.js';
import { createRandom, MemberTable, Registry } from '../../packages/hearsay/src/core/index.js';
import { ackPings, Harness, members, profileOf } from './harness.js';

describe('Timers', () => {
  it('fires due timers in time order, then in scheduling order', () => {
    const timers = new Timers();
    const fired: string[] = [];
    timers.schedule(20, () => fired.push('b'));
    timers.schedule(10, () => fired.push('a'));
    timers.schedule(20, () => fired.push('c'));
    timers.schedule(30, () => fired.push('d'));
    expect(timers.nextDeadline()).toBe(10);
    timers.runDue(20);
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(timers.nextDeadline()).toBe(30);
  });

  it('skips cancelled timers, also when telling the next deadline', () => {
    const timers = new Timers();
    const fired: string[] = [];
    const a = timers.schedule(10, () => fired.push('a'));
    timers.schedule(20, () => fired.push('b'));
    timers.cancel(a);
    expect(timers.nextDeadline()).toBe(20);
    timers.runDue(100);
    expect(fired).toEqual(['b']);
    expect(timers.nextDeadline()).toBe(Infinity);
  });

  it('fires timers scheduled for now by a firing timer in the same run', () => {
    const timers = new Timers();
    const fired: string[] = [];
    timers.schedule(10, () => {
      fired.push('a');
      timers.schedule(10, () => fired.push('a2'));
      timers.schedule(11, () => fired.push('later'));
    });
    timers.runDue(10);
    expect(fired).toEqual(['a', 'a2']);
  });

  it('clear drops everything', () => {
    const timers = new Timers();
    timers.schedule(1, () => {
      throw new Error('must not fire');
    });
    timers.clear();
    timers.runDue(10);
    expect(timers.nextDeadline()).toBe(Infinity);
  });
});

describe('MemberTable', () => {
  function table(n: number): MemberTable {
    const registry = new Registry();
    const t = new MemberTable(registry, 2);
    const rng = createRandom(9);
    for (const p of members(n)) t.insert(registry.nameId(p.name), registry.profileId(p), 1, ALIVE, 0, rng);
    return t;
  }

  function consistent(t: MemberTable): void {
    for (let slot = 0; slot < t.size; slot++) expect(t.find(t.nameAt(slot))).toBe(slot);
  }

  it('finds every member at its slot after random inserts (growing past its capacity)', () => {
    const t = table(20);
    expect(t.size).toBe(20);
    consistent(t);
    expect(new Set(Array.from({ length: 20 }, (_, i) => t.nameAt(i))).size).toBe(20);
  });

  it('inserts at a random position, not always at the end', () => {
    const t = table(20);
    const order = Array.from({ length: 20 }, (_, i) => t.nameAt(i));
    expect(order).not.toEqual(members(20).map((m) => m.name));
  });

  it('refuses a member twice', () => {
    const t = table(3);
    const id = t.registry.findNameId('m1');
    expect(() => t.insert(id, 0, 1, ALIVE, 0, createRandom(1))).toThrow(/already/);
  });

  it('keeps its index and status counts through status changes, removals and shuffles', () => {
    const t = table(10);
    t.setStatus(t.find('m3'), SUSPECT, 5);
    t.setStatus(t.find('m4'), FAILED, 5);
    expect([t.count(ALIVE), t.count(SUSPECT), t.count(FAILED)]).toEqual([8, 1, 1]);
    t.removeAt(t.find('m4'));
    t.removeAt(t.find('m1'));
    expect(t.size).toBe(8);
    expect(t.find('m4')).toBe(-1);
    expect(t.find('m1')).toBe(-1);
    expect([t.count(ALIVE), t.count(SUSPECT), t.count(FAILED)]).toEqual([7, 1, 0]);
    consistent(t);
    t.shuffle(createRandom(4));
    consistent(t);
    expect(t.statusAt(t.find('m3'))).toBe(SUSPECT);
    expect(t.sinceAt(t.find('m3'))).toBe(5);
  });
});

describe('seeded randomness', () => {
  it('the same seed gives the same sequence; another seed another one', () => {
    const draw = (seed: number) => {
      const r = createRandom(seed);
      return Array.from({ length: 20 }, () => r.int(1000));
    };
    expect(draw(5)).toEqual(draw(5));
    expect(draw(5)).not.toEqual(draw(6));
  });

  it('int(n) stays within [0, n) and float within [0, 1)', () => {
    const r = createRandom(3);
    for (let i = 0; i < 1000; i++) {
      const k = r.int(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
      const f = r.float();
      expect(f >= 0 && f < 1).toBe(true);
    }
    expect(r.int(1)).toBe(0);
  });
});

describe('the node', () => {
  function run(seed: number): string {
    const h = new Harness({ seed, preload: members(6) }).respond(ackPings({ silent: ['m2'] }));
    h.gossip({ type: 'alive', incarnation: 1, profile: profileOf('x', '10.0.0.77') });
    h.advanceTo(40_000);
    return JSON.stringify(h.log, (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v));
  }

  it('is deterministic: the same seed and inputs give the same outputs at the same times', () => {
    expect(run(8)).toBe(run(8));
  });

  it('depends on its seed', () => {
    expect(run(8)).not.toBe(run(9));
  });

  it('after stop it ignores inputs and wants no more ticks', () => {
    const h = new Harness({ seed: 1, preload: members(3) });
    h.node.stop();
    expect(h.node.nextDeadline()).toBe(Infinity);
    expect(h.node.step(10, { kind: 'packet', from: { host: '10.0.0.9', port: 1 }, messages: [{ type: 'ping', seqNo: 1, node: '' }] })).toEqual([]);
  });

  it('lists its members, itself included', () => {
    const h = new Harness({ seed: 1, preload: members(3) });
    expect(
      h.node
        .members()
        .map((m) => m.name)
        .sort(),
    ).toEqual(['m1', 'm2', 'm3', 'self']);
    expect(h.node.member('nobody')).toBeUndefined();
  });

  it('starts at incarnation 1 by default, never below', () => {
    expect(new Harness().node.incarnation).toBe(1);
    expect(new Harness({ incarnation: 0 }).node.incarnation).toBe(1);
    expect(new Harness({ incarnation: 7 }).node.incarnation).toBe(7);
  });
});
