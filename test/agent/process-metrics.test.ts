/**
 * GET /metrics carries the Node process's own metrics beside the node's: CPU, memory, heap,
 * event-loop lag, GC pauses and open file descriptors, each a well-formed sample. A real agent on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../packages/agent/src/agent/agent.js';
import { start } from '../attacks/agent-harness.js';

let agent: Agent;
beforeAll(async () => {
  agent = await start({ name: 'metered' });
});
afterAll(() => agent.close());

/** The value of the first sample of `name` (with any labels) in the exposition text; NaN if absent. */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? Number.NaN : Number(line.split(' ').pop());
}

describe('process metrics on /metrics', () => {
  it('exports CPU, memory, heap, event-loop lag, GC and file descriptors next to the node’s', async () => {
    const text = await (await fetch(`http://127.0.0.1:${agent.http.port}/metrics`)).text();
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    expect(sample(text, 'process_open_fds')).toBeGreaterThan(3);
    expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    expect(text).toContain('# TYPE nodejs_gc_duration_seconds histogram');
    expect(sample(text, 'nodejs_version_info')).toBe(1);
    // The node's own metrics are still there.
    expect(sample(text, 'hearsay_members')).toBe(1);
    expect(sample(text, 'hearsay_health_score')).toBe(0);
  });
});
