/** Running a command to the end, bounded in time, with everything it printed. */
import { execFile } from 'node:child_process';

export interface CommandResult {
  /** The exit code; null when the command was killed (timeout) or could not start. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CommandOptions {
  readonly cwd: string;
  /** The command is killed after this long and reported with code null. */
  readonly timeoutMs: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** Resolves whatever the outcome, so that a test can show what was printed along with the code. */
export function runCommand(command: string, args: readonly string[], options: CommandOptions): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, timeout: options.timeoutMs, env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        const why = error && code === null ? `\n[${error.killed ? `killed after ${options.timeoutMs} ms` : error.message}]` : '';
        resolve({ code, stdout, stderr: stderr + why });
      },
    );
  });
}

/** What a failed command printed, for an assertion's message. */
export function explain(what: string, result: CommandResult): string {
  return `${what} exited with ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}
