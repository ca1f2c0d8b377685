/**
 * What must not outlive the lab: its agents and its namespaces. Everything started is registered
 * here; on Ctrl-C, SIGTERM or an uncaught error the lab's process kills its agents by PID and
 * deletes its namespaces synchronously before it exits. A lab killed with SIGKILL cannot do
 * this: the next lab removes what it left (removeStaleLabs).
 */
import type { NetworkLab } from './namespaces.js';

const pids = new Set<number>();
const labs = new Set<NetworkLab>();
let installed = false;

export function trackPid(pid: number): void {
  pids.add(pid);
}

export function untrackPid(pid: number): void {
  pids.delete(pid);
}

export function trackLab(lab: NetworkLab): void {
  labs.add(lab);
}

export function untrackLab(lab: NetworkLab): void {
  labs.delete(lab);
}

/** Kills every tracked agent (continued first, should it be stopped) and deletes every tracked lab, at once. */
export function cleanUpNow(): void {
  for (const pid of pids) {
    for (const signal of ['SIGCONT', 'SIGKILL'] as const) {
      try {
        process.kill(pid, signal);
      } catch {
        // gone already
      }
    }
  }
  pids.clear();
  for (const lab of labs) lab.closeNow();
  labs.clear();
}

/** Cleans up on the signals that end the lab's process, then exits as the signal would. */
export function cleanUpOnExit(): void {
  if (installed) return;
  installed = true;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nchaos: ${signal}: killing the lab's agents and deleting its namespaces\n`);
      cleanUpNow();
      process.exit(code);
    });
  }
  process.on('exit', cleanUpNow);
}
