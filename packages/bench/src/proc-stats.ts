/** What the kernel knows about a process and about the loopback interface (Linux /proc). */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { BenchFailure } from './bench-processes.js';

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new BenchFailure(`no ${field} in /proc/${pid}/status: has the process exited?`);
  return Number(match[1]);
}

/** Resident memory in bytes (VmRSS). */
export function residentBytes(pid: number): number {
  return statusKiB(pid, 'VmRSS') * 1024;
}

/** The most resident memory the process has had, in bytes (VmHWM), since it started or since resetPeakResident. */
export function peakResidentBytes(pid: number): number {
  return statusKiB(pid, 'VmHWM') * 1024;
}

/** Starts VmHWM again from the current VmRSS (`5` to /proc/PID/clear_refs, Linux 4.0+); whether the kernel allowed it. */
export function resetPeakResident(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
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
  const fields = line
    .slice(line.indexOf(':') + 1)
    .trim()
    .split(/\s+/)
    .map(Number);
  return { bytes: fields[8]!, packets: fields[9]! };
}
