/** What the kernel knows about a process and about the loopback interface (Linux /proc). */
import { readdirSync, readFileSync } from 'node:fs';
import { BenchFailure } from './bench-processes.js';

/** Resident memory in bytes (VmRSS). */
export function residentBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new BenchFailure(`no VmRSS in /proc/${pid}/status: has the process exited?`);
  return Number(match[1]) * 1024;
}

/** CPU time of each thread of a process, in ns, by thread id. */
export type CpuSnapshot = Map<string, number>;

/**
 * Per-thread run time from /proc/PID/task/TID/schedstat, in ns. Not utime + stime from
 * /proc/PID/stat: those come in 10 ms ticks, and an idle Serf agent uses about 2 ms a second,
 * so a short window would read zero.
 */
export function cpuSnapshot(pid: number): CpuSnapshot {
  const snapshot: CpuSnapshot = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      snapshot.set(tid, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
    } catch (error) {
      const threadEnded = (error as NodeJS.ErrnoException).code === 'ENOENT' && tid !== String(pid);
      if (threadEnded) continue;
      throw new BenchFailure(`cannot read /proc/${pid}/task/${tid}/schedstat (the kernel needs CONFIG_SCHED_INFO): ${(error as Error).message}`);
    }
  }
  return snapshot;
}

/** CPU seconds used between two snapshots; threads that ended in between lose their share. */
export function cpuSecondsBetween(before: CpuSnapshot, after: CpuSnapshot): number {
  let ns = 0;
  for (const [tid, end] of after) ns += end - (before.get(tid) ?? 0);
  return ns / 1e9;
}

/** Bytes and packets sent. */
export interface SentCounts {
  readonly bytes: number;
  readonly packets: number;
}

/**
 * What the loopback interface of this process's network namespace has sent. Every packet on
 * lo is sent once and received once, so sent counts each packet once.
 */
export function loopbackSent(): SentCounts {
  const line = readFileSync('/proc/net/dev', 'utf8')
    .split('\n')
    .find((l) => l.trim().startsWith('lo:'));
  if (line === undefined) throw new BenchFailure('no lo line in /proc/net/dev');
  // After "lo:", 8 receive fields then transmit bytes and packets.
  const fields = line.slice(line.indexOf(':') + 1).trim().split(/\s+/).map(Number);
  return { bytes: fields[8]!, packets: fields[9]! };
}
