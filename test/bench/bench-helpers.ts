import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const serfInstalled = spawnSync('serf', ['version'], { stdio: 'ignore' }).status === 0;

/** Whether the PID runs an agent now (a PID reused by something else does not count). */
export function runsAgent(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('agent');
  } catch {
    return false;
  }
}

/** Runs a built bench script with `args`, killed after `timeoutMs`. */
export function runBench(script: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr }),
    );
  });
}
