/**
 * `npm run bench:scale [-- --nodes 250,500,1000,2000 --hold 120 --limit 300]`: N library nodes in
 * one process (LAN profile, each on its own ports on 127.0.0.1), all joining through one seed at
 * once, then held: join time, convergence, false failures, CPU and memory per node. Each N runs in
 * a child process of its own, so that one size's memory and timers do not weigh on the next.
 * `--json` prints the rows as JSON.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { measureScale, type ScaleResult } from './scale-measure.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '250,500,1000,2000' },
    hold: { type: 'string', default: '120' },
    limit: { type: 'string', default: '300' },
    one: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const holdMs = Number(values.hold) * 1000;
const convergeLimitMs = Number(values.limit) * 1000;
const sizes = (values.one ?? values.nodes).split(',').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 2) || !(holdMs >= 0) || !(convergeLimitMs > 0)) {
  process.stderr.write('usage: scale-bench [--nodes N,N…] [--hold SECONDS] [--limit SECONDS] [--json]\n');
  process.exit(2);
}

if (values.one !== undefined) {
  // The child: one size, its result as JSON on stdout.
  const result = await measureScale({ nodes: sizes[0]!, holdMs, convergeLimitMs });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
const results: ScaleResult[] = [];
for (const n of sizes) {
  process.stderr.write(`bench:scale: ${n} nodes, joins at once, hold ${holdMs / 1000} s …\n`);
  const out = execFileSync(process.execPath, [self, '--one', String(n), '--hold', String(holdMs / 1000), '--limit', String(convergeLimitMs / 1000)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1024 * 1024,
  });
  results.push(JSON.parse(out) as ScaleResult);
}

if (values.json) {
  process.stdout.write(`${JSON.stringify(results)}\n`);
} else {
  const table = new Table({
    head: [
      'nodes',
      'joins done',
      'join errors',
      'converged',
      'failed while forming',
      'false failures',
      'false suspicions',
      'CPU (cores)',
      'RSS per node',
      'loop delay p99',
      'stalls',
    ],
  });
  for (const r of results) {
    table.push([
      r.nodes,
      `${r.joinS.toFixed(1)} s`,
      r.joinErrors,
      r.convergedS === null ? 'no' : `${r.convergedS.toFixed(1)} s`,
      r.failuresWhileForming,
      `${r.falseFailures} in ${Math.round(r.holdS)} s`,
      r.falseSuspicions,
      r.cpuShare.toFixed(2),
      `${r.rssPerNodeMiB.toFixed(2)} MiB`,
      `${r.loopDelayP99Ms.toFixed(0)} ms`,
      r.stalls,
    ]);
  }
  process.stdout.write(`${table.toString()}\n`);
  process.stdout.write('Every node stays alive throughout: each failed or suspect event is false. Times from the first join.\n');
}
