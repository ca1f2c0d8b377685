import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

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
    const run = hearsay(
      'sim', '--nodes', '10', '--duration', '30s', '--profile', 'local', '--probe-interval', '500ms', '--probe-timeout', '100ms',
      '--suspicion-mult', '3', '--gossip-interval', '50ms', '--disable-tcp-pings', '--crash', 'n3,n4', '--crash-at', '5s',
      '--pause', 'n6@8s+1s', '--partition', '12s+3s', '--restart', 'n3@20s', '--json',
    );
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.profile).toBe('local');
    expect(result.crashes.map((c: { name: string }) => c.name)).toEqual(['n3', 'n4']);
    expect(result.converged_at_end).toBe(true);
  });

  it('runs the heartbeat gossip detector with --protocol heartbeat', () => {
    const run = hearsay('sim', '--nodes', '30', '--protocol', 'heartbeat', '--crash', '1', '--crash-at', '10s', '--duration', '40s', '--fail-after', '8s', '--json');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.protocol).toBe('heartbeat');
    expect(result.crashes[0].all_failed_ms).not.toBeNull();
    expect(result.expected_first_suspect_ms).toBeNull();
    expect(result.false_positives).toBe(0);
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
    [['sim', '--protocol', 'hybrid'], /Allowed choices are swim, heartbeat/],
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
  });
});
