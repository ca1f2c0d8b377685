/**
 * A scripted simulation: 24 real protocol cores on a virtual clock over a lossy modelled
 * network. The script lets the cluster form, crashes a node, cuts the network in two and heals
 * it, printing what the nodes believe at each stage, then the run's summary (the figures
 * `hearsay sim --json` reports). Deterministic: the same seed gives the same figures (all but the wall-clock time).
 */
import { buildSimulation, summarize, type SimOptions } from 'hearsay/sim';

const DURATION_MS = 150_000;
const options: SimOptions = { nodes: 24, seed: 7, loss: 0.02, durationMs: DURATION_MS };
const wallStart = performance.now();
const sim = buildSimulation(options);
const names = Array.from({ length: options.nodes }, (_, index) => `n${index}`);

/** How node `observer` sees the cluster, counted by status. */
function view(observer: string): string {
  const members = sim.node(sim.indexOf(observer))?.members() ?? [];
  return (['alive', 'suspect', 'failed', 'left'] as const)
    .map((status) => ({ status, count: members.filter((member) => member.status === status).length }))
    .filter(({ count }) => count > 0)
    .map(({ status, count }) => `${count} ${status}`)
    .join(', ');
}

const ms = (value: number | null | undefined) => (value === null || value === undefined ? 'never' : `${Math.round(value)} ms`);

// Nodes n1 … n23 join through n0 within the first second.
sim.runUntil(10_000);
console.log(`10 s: converged at ${ms(sim.observer.convergedAt)}; n0 sees ${view('n0')}`);

sim.crash(sim.indexOf('n5'));
sim.runUntil(30_000);
const [crash] = sim.observer.crashReports;
console.log(`30 s: n5 crashed at 10 s, first suspected after ${ms(crash?.first_suspect_ms)}, failed everywhere after ${ms(crash?.all_failed_ms)}`);
console.log(`30 s: n0 sees ${view('n0')}`);

// n0 … n7 on one side, the rest on the other: each side declares the other failed. The cut
// lasts more than twice the longest suspicion (33 s here): a suspicion that a member takes up
// late in the cut, from a peer's push/pull, still ends before the heal, so that no verdict
// begun during the cut lands after it.
sim.partition([names.slice(0, 8).map((name) => sim.indexOf(name))]);
sim.runUntil(60_000);
console.log(`60 s: partitioned since 30 s; n0 sees ${view('n0')}, n12 sees ${view('n12')}`);
sim.runUntil(100_000);

// Once healed, the sides find each other again by reconnecting to failed members.
sim.heal();
sim.runUntil(DURATION_MS);
console.log(`150 s: healed at 100 s; n0 sees ${view('n0')}, n12 sees ${view('n12')}`);

const result = summarize(sim, options, performance.now() - wallStart);
console.log('summary:');
console.log(`  converged at end: ${result.converged_at_end} (settled at ${ms(result.settled_at_ms)})`);
console.log(`  first suspicion of the crash: ${ms(result.mean_first_suspect_ms)} (SWIM expects ${ms(result.expected_first_suspect_ms)})`);
console.log(`  false positives: ${result.false_positives}, suspicions: ${result.suspicions}, refutations: ${result.refutations}`);
console.log(`  traffic: ${result.msgs_per_node_per_s.toFixed(1)} packets and ${Math.round(result.bytes_per_node_per_s)} bytes per node per second`);
console.log(`  ${result.events_processed} events simulated in ${result.wall_ms} ms`);
