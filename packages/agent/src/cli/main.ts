#!/usr/bin/env node
import { CommanderError } from 'commander';
import { HearsayError } from 'hearsay/core';
import { buildProgram } from './program.js';
import { terminalLines } from './terminal-text.js';

/** Exit codes: 0 success, 1 failure, 2 usage error. */
const USAGE = 2;
const FAILURE = 1;

try {
  await (await buildProgram()).parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version are not errors; everything else commander rejects is a usage error.
    process.exitCode = error.exitCode === 0 ? 0 : USAGE;
  } else if (error instanceof HearsayError) {
    process.stderr.write(`hearsay: ${terminalLines(error.message)}\n`);
    process.exitCode = USAGE;
  } else {
    // An unexpected error may quote what an agent sent.
    process.stderr.write(`hearsay: ${terminalLines(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
    process.exitCode = FAILURE;
  }
}
