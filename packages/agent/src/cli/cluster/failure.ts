import { terminalLines } from '../terminal-text.js';

/**
 * A command that could not do its job (exit code 1), or whose request an agent refused as
 * invalid (exit code 2, like a UsageError, an OptionError or what commander rejects).
 * The message says what went wrong and what to do about it; it is printed as `hearsay: message`,
 * without a stack trace.
 */
export class CommandFailure extends Error {
  override name = 'CommandFailure';
  readonly exitCode: 1 | 2;

  constructor(message: string, exitCode: 1 | 2 = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/**
 * Wraps a command action: a CommandFailure becomes `hearsay: message` on stderr and its exit code.
 * The message may quote an agent's answer or log: control characters are escaped.
 */
export function failing<A extends unknown[]>(action: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (error) {
      if (!(error instanceof CommandFailure)) throw error;
      process.stderr.write(`hearsay: ${terminalLines(error.message)}\n`);
      process.exitCode = error.exitCode;
    }
  };
}
