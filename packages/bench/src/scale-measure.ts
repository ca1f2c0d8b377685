/**
 * One scale measurement: N library nodes in this process, each on its own UDP+TCP port pair on
 * 127.0.0.1, all joining through one seed at once, then held for a while. Every node stays alive,
 * so any `failed` event is a false failure and any `suspect` event a false suspicion.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createNode, type HearsayNode } from 'hearsay';

export interface ScaleOptions {
  readonly nodes: number;
  /** How long the formed cluster is watched for false failures (ms). */
  readonly holdMs: number;
  /** Give up on convergence after this long (ms). */
  readonly convergeLimitMs: number;
}

export interface ScaleResult {
  nodes: number;
  /** Until every join call resolved (s). */
  joinS: number;
  /** Joins that failed (JoinError): the seed did not answer in time. */
  joinErrors: number;
  /** From the first join until every node lists every node alive (s); null if not within the limit. */
  convergedS: number | null;
  holdS: number;
  /** `failed` events before the cluster converged (every node is alive throughout). */
  failuresWhileForming: number;
  /** `failed` and `suspect` events over the hold. */
  falseFailures: number;
  falseSuspicions: number;
  /** CPU time of this process over the hold, as a share of one core. */
  cpuShare: number;
  /** Resident memory per node after the hold (MiB): (RSS − RSS before any node) / N. */
  rssPerNodeMiB: number;
  rssMiB: number;
  /** Event-loop delay over the hold, 99th percentile (ms). */
  loopDelayP99Ms: number;
  stalls: number;
}

const MiB = 1024 * 1024;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const listsAllAlive = (node: HearsayNode, n: number) => node.members().filter((member) => member.status === 'alive').length === n;

/**
 * Whether every node lists all n alive (its own entry included). A few sampled nodes are asked
 * first, since asking all of them copies N² member records, work that would itself slow the
 * cluster being measured.
 */
function converged(nodes: readonly HearsayNode[], n: number): boolean {
  if (nodes.length !== n) return false;
  for (let i = 0; i < 4; i++) if (!listsAllAlive(nodes[Math.floor(Math.random() * n)]!, n)) return false;
  return nodes.every((node) => listsAllAlive(node, n));
}

export async function measureScale(options: ScaleOptions): Promise<ScaleResult> {
  const { nodes: n } = options;
  const rssBefore = process.memoryUsage.rss();
  const nodes: HearsayNode[] = [];
  let failuresWhileForming = 0;
  let falseFailures = 0;
  let falseSuspicions = 0;
  let holding = false;
  const watch = (node: HearsayNode) => {
    node.on('failed', () => {
      if (holding) falseFailures++;
      else failuresWhileForming++;
    });
    node.on('suspect', () => {
      if (holding) falseSuspicions++;
    });
  };
  try {
    const seed = await createNode({ name: 'scale-0', bind: '127.0.0.1:0', profile: 'lan' });
    watch(seed);
    nodes.push(seed);
    const seedAddress = `127.0.0.1:${seed.address.port}`;
    const joinStarted = performance.now();
    let joinErrors = 0;
    const joiners = await Promise.all(
      Array.from({ length: n - 1 }, (_, i) =>
        createNode({ name: `scale-${i + 1}`, bind: '127.0.0.1:0', profile: 'lan', join: [seedAddress], seedRetryIntervalMs: 1000 }).catch(() => {
          joinErrors++;
          return null;
        }),
      ),
    );
    const joinS = (performance.now() - joinStarted) / 1000;
    for (const node of joiners) {
      if (node) {
        watch(node);
        nodes.push(node);
      }
    }
    let convergedS: number | null = null;
    while (performance.now() - joinStarted < options.convergeLimitMs) {
      if (converged(nodes, n)) {
        convergedS = (performance.now() - joinStarted) / 1000;
        break;
      }
      await delay(500);
    }

    holding = true;
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const cpuBefore = process.cpuUsage();
    const holdStarted = performance.now();
    const stallsBefore = nodes.reduce((sum, node) => sum + node.stats.core.stalls, 0);
    await delay(options.holdMs);
    const holdMs = performance.now() - holdStarted;
    const cpu = process.cpuUsage(cpuBefore);
    loop.disable();
    const rss = process.memoryUsage.rss();
    return {
      nodes: n,
      joinS,
      joinErrors,
      convergedS,
      holdS: holdMs / 1000,
      failuresWhileForming,
      falseFailures,
      falseSuspicions,
      cpuShare: (cpu.user + cpu.system) / 1000 / holdMs,
      rssPerNodeMiB: (rss - rssBefore) / MiB / n,
      rssMiB: rss / MiB,
      loopDelayP99Ms: loop.percentile(99) / 1e6,
      stalls: nodes.reduce((sum, node) => sum + node.stats.core.stalls, 0) - stallsBefore,
    };
  } finally {
    await Promise.all(nodes.map((node) => node.shutdown()));
  }
}
