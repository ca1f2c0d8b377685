#!/usr/bin/env node
import { CommanderError } from 'commander';
import { ConfigError, HearsayError, OptionError } from 'hearsay/core';
import { buildProgram } from './program.js';
import { terminalLines } from './terminal-text.js';
import { UsageError } from './usage-error.js';

/** Exit codes: 0 success, 1 failure, 2 usage error. */
const USAGE = 2;
const FAILURE = 1;

try {
  await (await buildProgram(process.argv.slice(2))).parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version are not errors; everything else commander rejects is a usage error.
    process.exitCode = error.exitCode === 0 ? 0 : USAGE;
  } else if (error instanceof HearsayError) {
    // A value the CLI or the library refused is the command line's fault; the rest (a port in use, no seed answering) is not.
    const usage = error instanceof UsageError || error instanceof OptionError || error instanceof ConfigError;
    process.stderr.write(`hearsay: ${terminalLines(error.message)}\n`);
    process.exitCode = usage ? USAGE : FAILURE;
  } else {
    // An unexpected error may quote what an agent sent.
    process.stderr.write(`hearsay: ${terminalLines(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
    process.exitCode = FAILURE;
  }
}
