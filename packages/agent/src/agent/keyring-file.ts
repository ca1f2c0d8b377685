import { chmod, readFile, stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { OptionError } from 'hearsay';
import { replaceFile } from './replace-file.js';

/**
 * Reads Serf's keyring file (a JSON array of base64 keys). The keys are secrets: a file open to
 * its group or others is tightened to 0600 first, with a warning (they may have read
 * it already); one the agent cannot tighten (not its owner) is refused. Serf does neither.
 */
export async function readKeyringFile(path: string, log: Logger): Promise<string[]> {
  let mode: number;
  try {
    mode = (await stat(path)).mode & 0o777;
  } catch (error) {
    throw new OptionError(`cannot read keyring file ${path}: ${(error as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    try {
      await chmod(path, 0o600);
    } catch (error) {
      throw new OptionError(
        `keyring file ${path} is open to its group or others (mode ${octal(mode)}) and cannot be tightened (${(error as Error).message}): chmod 600 it`,
      );
    }
    log.warn({ file: path, was: octal(mode) }, 'keyring file was open to its group or others: tightened to 0600 (rotate the keys if someone may have read it)');
  }
  let ring: unknown;
  try {
    ring = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new OptionError(`cannot read keyring file ${path}: ${(error as Error).message}`);
  }
  if (!Array.isArray(ring) || !ring.every((k) => typeof k === 'string')) {
    throw new OptionError(`keyring file ${path} must hold a JSON array of base64 keys`);
  }
  return ring;
}

/** Replaces the keyring file atomically, mode 0600 (see replaceFile). */
export function writeKeyringFile(path: string, ring: readonly string[]): Promise<void> {
  return replaceFile(path, `${JSON.stringify(ring, null, 2)}\n`);
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}
