import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../../packages/agent/dist/cli/main.js', import.meta.url));

function hearsay(...args: string[]) {
  const run = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('hearsay sim', () => {
  it('prints exactly one JSON object with the documented fields', () => {
    const run = hearsay('sim', '--nodes', '40', '--loss', '0.05', '--crash', '3', '--crash-at', '10s', '--duration', '40s', '--seed', '7', '--json');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]!);
    for (const key of ['nodes', 'seed', 'converged_at_ms', 'crashes', 'false_positives', 'msgs_per_node_per_s', 'bytes_per_node_per_s', 'wall_ms']) {
      expect(result).toHaveProperty(key);
    }
    expect(result.nodes).toBe(40);
    expect(result.seed).toBe(7);
    expect(result.crashes).toHaveLength(3);
    for (const crash of result.crashes) {
      expect(Object.keys(crash)).toEqual(expect.arrayContaining(['name', 'at_ms', 'first_suspect_ms', 'all_failed_ms']));
      expect(crash.at_ms).toBe(10_000);
    }
    expect(result.bytes_are_estimates).toBe(false);
  });

  it('takes every timing override and named crashes and pauses', () => {
    // A 3 s partition heals by gossip alone here (no Serf reconnects): 14 of seeds 1-20 converge
    // within 30 s, all 20 within 60 s.
    const run = hearsay(
      'sim',
      '--nodes',
      '10',
      '--duration',
      '60s',
      '--profile',
      'local',
      '--probe-interval',
      '500ms',
      '--probe-timeout',
      '100ms',
      '--suspicion-mult',
      '3',
      '--gossip-interval',
      '50ms',
      '--disable-tcp-pings',
      '--crash',
      'n3,n4',
      '--crash-at',
      '5s',
      '--pause',
      'n6@8s+1s',
      '--partition',
      '12s+3s',
      '--restart',
      'n3@20s',
      '--json',
    );
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.profile).toBe('local');
    expect(result.crashes.map((c: { name: string }) => c.name)).toEqual(['n3', 'n4']);
    expect(result.converged_at_end).toBe(true);
  });

  it('runs the heartbeat gossip detector with --protocol heartbeat', () => {
    const run = hearsay(
      'sim',
      '--nodes',
      '30',
      '--protocol',
      'heartbeat',
      '--crash',
      '1',
      '--crash-at',
      '10s',
      '--duration',
      '40s',
      '--fail-after',
      '8s',
      '--json',
    );
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.protocol).toBe('heartbeat');
    expect(result.crashes[0].all_failed_ms).not.toBeNull();
    expect(result.expected_first_suspect_ms).toBeNull();
    expect(result.false_positives).toBe(0);
  });

  it('runs the hybrid with the issue’s flags, in the same JSON shape as SWIM plus the load per round', () => {
    const swim = JSON.parse(hearsay('sim', '--nodes', '10', '--duration', '10s', '--json').stdout);
    const run = hearsay(
      'sim',
      '--nodes',
      '20',
      '--protocol',
      'hybrid',
      '--period',
      '1s',
      '--fanout',
      '3',
      '--suspect-after',
      '4s',
      '--fail-after',
      '8s',
      '--cleanup-after',
      '30s',
      '--phi',
      '--start',
      'converged',
      '--crash',
      'n5',
      '--crash-at',
      '10s',
      '--duration',
      '30s',
      '--json',
    );
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(Object.keys(result).sort()).toEqual(Object.keys(swim).sort());
    expect(result.protocol).toBe('hybrid');
    expect(result.round_ms).toBe(1000);
    // All-to-all below the threshold: a ping and an ack per ordered pair and round (19 live for the last 20 s).
    expect(result.load_per_round.tables).toBe(0);
    expect(result.load_per_round.pings).toBeGreaterThan(19 * 18);
    expect(result.load_per_round.pings).toBeLessThanOrEqual(20 * 19);
    expect(result.crashes[0].all_failed_ms).toBeLessThanOrEqual(8000 + 2);
    expect(result.false_positives).toBe(0);
  });

  it('switches the detector at run time with --switch and reports when every node had', () => {
    const run = hearsay('sim', '--nodes', '20', '--start', 'converged', '--switch', 'heartbeat@10s=n3', '--switch', 'swim@20s', '--duration', '30s', '--json');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.switches).toHaveLength(2);
    expect(result.switches[0]).toMatchObject({ protocol: 'heartbeat', at_ms: 10_000, via: 'n3', epoch: 10 });
    expect(result.switches[1]).toMatchObject({ protocol: 'swim', at_ms: 20_000, via: 'n0', epoch: 20 });
    for (const change of result.switches) expect(change.all_switched_ms).toBeLessThan(2000);
    expect(result.false_positives).toBe(0);
    const human = hearsay('sim', '--nodes', '20', '--switch', 'heartbeat@10s', '--duration', '20s');
    expect(human.stdout).toMatch(/switch to heartbeat: +via n0 at 10\.00 s, adopted everywhere after/);
    expect(human.stdout).toMatch(/load per 1\.00 s round: +\d+ detector messages/);
  });

  it('sends user events and queries with --event and --query and reports their delivery', () => {
    const run = hearsay('sim', '--nodes', '20', '--duration', '20s', '--event', 'deploy@5s', '--json');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.user_events).toHaveLength(1);
    expect(result.user_events[0]).toMatchObject({ name: 'deploy', from: 'n0', at_ms: 5000, live: 20, delivered: 20, duplicates: 0 });
    expect(result.user_events[0].all_delivered_ms).toBeLessThan(2000);
    expect(result.queries).toEqual([]);
    const human = hearsay('sim', '--nodes', '20', '--duration', '20s', '--event', 'deploy@5s=n4', '--query', 'who@8s=n2');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/event deploy: +from n4 at 5\.00 s, delivered 20\/20, 0 duplicates, all after \d+\.\d\d s/);
    expect(human.stdout).toMatch(/query who: +from n2 at 8\.00 s, 20 acks and 20 answers of 20 live nodes/);
  });

  it('prints a human summary by default', () => {
    const run = hearsay('sim', '--nodes', '20', '--crash', '1', '--crash-at', '5s', '--duration', '30s');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Simulated 20 nodes/);
    expect(run.stdout).toMatch(/mean first suspicion/);
    expect(run.stdout).toMatch(/memberlist wire encoding/);
  });

  it.each([
    [['sim', '--nodes', 'x'], /argument 'x' is invalid\. "x" is not a whole number/],
    [['sim', '--loss', '1.5'], /not a probability/],
    [['sim', '--duration', 'soon'], /"soon" is not a duration/],
    [['sim', '--profile', 'moon'], /Allowed choices are lan, local, wan/],
    [['sim', '--pause', 'n1'], /not a pause: use NAME@AT\+FOR/],
    [['sim', '--nodes', '5', '--crash', 'n7'], /no simulated node named "n7"/],
    [['sim', '--probe-timeout', '2s'], /probeTimeoutMs \(2000\) must not exceed probeIntervalMs \(1000\)/],
    [['sim', '--bogus'], /unknown option '--bogus'/],
    [['sim', '--protocol', 'gossip'], /Allowed choices are swim, heartbeat, hybrid/],
    [['sim', '--period', '1s', '--heartbeat-interval', '2s'], /option '--period <duration>' cannot be used with option '--heartbeat-interval <duration>'/],
    [['sim', '--fanout', '2', '--heartbeat-fanout', '3'], /option '--fanout <n>' cannot be used with option '--heartbeat-fanout <n>'/],
    [['sim', '--phi', '--phi-threshold', '8'], /option '--phi \[threshold\]' cannot be used with option '--phi-threshold <n>'/],
    [['sim', '--phi', 'high'], /argument 'high' is invalid\. "high" is not a whole number/],
    [['sim', '--period', 'soon'], /"soon" is not a duration/],
    [['sim', '--fail-after', '2s'], /failAfterMs \(2000\) must not be less than suspectAfterMs \(5000\)/],
    [['sim', '--switch', 'gossip@10s'], /"gossip" is not a protocol: use swim, heartbeat, hybrid/],
    [['sim', '--switch', 'heartbeat'], /not a switch: use PROTOCOL@AT\[=NAME\]/],
    [['sim', '--nodes', '5', '--switch', 'swim@1s=n9'], /no simulated node named "n9"/],
    [['sim', '--event', 'deploy'], /"deploy" is not an event: use NAME@AT\[=NODE\], like deploy@5s/],
    [['sim', '--query', 'who@8'], /"8" has no unit/],
    [['sim', '--nodes', '5', '--event', 'deploy@1s=n9'], /no simulated node named "n9"/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('exits 2 with a precise message for %j', (args, message) => {
    const run = hearsay(...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('answers --help with exit code 0', () => {
    const run = hearsay('sim', '--help');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--probe-interval <duration>/);
    expect(run.stdout).toMatch(/--crash <k\|names>/);
    expect(run.stdout).toMatch(/--protocol <name>/);
    expect(run.stdout).toMatch(/--period <duration>/);
    expect(run.stdout).toMatch(/--phi \[threshold\]/);
    expect(run.stdout).toMatch(/--hybrid-threshold <n>/);
    expect(run.stdout).toMatch(/--switch <PROTOCOL@AT\[=NAME\]>/);
    expect(run.stdout).toMatch(/--event <NAME@AT\[=NODE\]>/);
    expect(run.stdout).toMatch(/--query <NAME@AT\[=NODE\]>/);
  });
});
