/** A `SerfMember` over a core test harness, stepping it directly and recording every input it stepped. */
import { createRandom, type Input } from '../../packages/hearsay/src/core/index.js';
import { SerfMember, type SerfReport } from '../../packages/hearsay/src/serf/index.js';
import type { Harness } from '../core/harness.js';

export function serfMemberOn(h: Harness, report: (report: SerfReport) => void = () => {}): { member: SerfMember; stepped: Input[] } {
  const stepped: Input[] = [];
  const member = new SerfMember({
    core: h.node,
    step: (input) => {
      stepped.push(input);
      h.input(input);
    },
    now: () => h.now,
    random: createRandom(7).float,
    coordinateRandom: createRandom(8),
    keyring: undefined,
    report,
  });
  return { member, stepped };
}
