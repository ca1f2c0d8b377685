import type { NodeContext } from './context.js';
import type { Random } from './types.js';

/**
 * Up to k distinct random slots passing `accept`, never this node, by at most 3n random draws
 * as memberlist's kRandomNodes does: O(k) work whatever the table size.
 */
export function randomMembers(ctx: NodeContext, k: number, accept: (slot: number) => boolean): number[] {
  const { table } = ctx;
  const chosen: number[] = [];
  const n = table.size;
  const selfNameId = table.registry.findNameId(ctx.selfName);
  for (let draws = 0; draws < 3 * n && chosen.length < k; draws++) {
    const slot = ctx.rng.int(n);
    if (table.nameIdAt(slot) === selfNameId || chosen.includes(slot) || !accept(slot)) continue;
    chosen.push(slot);
  }
  return chosen;
}

/** Shuffles `slots` in place (Fisher–Yates) and returns them. */
export function shuffle(rng: Random, slots: number[]): number[] {
  for (let i = slots.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [slots[i], slots[j]] = [slots[j]!, slots[i]!];
  }
  return slots;
}
