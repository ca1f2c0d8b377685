/**
 * `npm run bench:sim`: how fast the simulator runs a large cluster. 10,000 nodes on the LAN
 * profile, started converged, for 60 virtual seconds; the target is faster than real time.
 * Options: `--nodes N`, `--seconds S`.
 */
import { parseArgs } from 'node:util';
import { buildSimulation, summarize } from 'hearsay/sim';

const { values } = parseArgs({
  options: { nodes: { type: 'string', default: '10000' }, seconds: { type: 'string', default: '60' } },
});
const nodes = Number(values.nodes);
const virtualMs = Number(values.seconds) * 1000;
if (!Number.isInteger(nodes) || nodes < 1 || !(virtualMs > 0)) {
  process.stderr.write('usage: sim-bench [--nodes N] [--seconds S]\n');
  process.exit(2);
}

// Bytes are summed from message sizes: encoding millions of packets would measure the encoder.
const options = { nodes, seed: 1, start: 'converged' as const, durationMs: virtualMs, profile: 'lan' as const, byteCounting: 'estimate' as const };
const started = performance.now();
const sim = buildSimulation(options);
const built = performance.now();
let lastReport = built;
for (let t = 1000; t <= virtualMs; t += 1000) {
  sim.runUntil(t);
  if (performance.now() - lastReport > 5000) {
    lastReport = performance.now();
    process.stderr.write(`  … ${t / 1000} s of ${virtualMs / 1000} s virtual, ${((lastReport - started) / 1000).toFixed(1)} s wall\n`);
  }
}
const finished = performance.now();
const result = summarize(sim, options, finished - started);
const wallS = (finished - started) / 1000;
const rows: [string, string][] = [
  ['nodes', String(nodes)],
  ['virtual time', `${virtualMs / 1000} s`],
  ['wall time', `${wallS.toFixed(1)} s (setup ${((built - started) / 1000).toFixed(1)} s, run ${((finished - built) / 1000).toFixed(1)} s)`],
  ['speed vs real time', `${(virtualMs / 1000 / wallS).toFixed(2)}× (target > 1×: ${wallS < virtualMs / 1000 ? 'met' : 'missed'})`],
  ['events', `${result.events_processed} (${Math.round(result.events_processed / wallS)} per wall second)`],
  ['messages per node per s', result.msgs_per_node_per_s.toFixed(2)],
  ['false positives', String(result.false_positives)],
  ['peak resident memory', `${Math.round(process.resourceUsage().maxRSS / 1024)} MB`],
];
for (const [name, value] of rows) process.stdout.write(`${name.padEnd(26)}${value}\n`);
