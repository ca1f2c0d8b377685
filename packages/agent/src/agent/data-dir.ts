import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { OptionError } from 'hearsay';

/** The snapshot's name in a data directory: Serf's word for the file, which holds Serf's format. */
export const SNAPSHOT_FILE = 'serf.snapshot';
/** The keyring's name in a data directory: Serf's keyring file format, a JSON array of base64 keys. */
export const KEYRING_FILE = 'keyring.json';

/** Where the agent keeps what survives a restart, an explicit --snapshot or --keyring-file over the data directory's. */
export interface StatePaths {
  readonly snapshot: string | undefined;
  /** Where key rotations are written. */
  readonly keyringFile: string | undefined;
  /** The keyring to read at start: undefined when it is the data directory's and does not exist yet. */
  readonly keyringToRead: string | undefined;
}

/**
 * Resolves the state files, creating the data directory (mode 0700) if it is missing. An
 * OptionError says what is wrong: a data directory that is a file or cannot be written, a
 * rejoin with nothing to rejoin from.
 */
export async function statePaths(options: {
  dataDir?: string | undefined;
  snapshot?: string | undefined;
  keyringFile?: string | undefined;
  rejoin?: boolean | undefined;
  rejoinAfterLeave?: boolean | undefined;
}): Promise<StatePaths> {
  const dir = options.dataDir;
  if (dir !== undefined) await prepareDataDir(dir);
  const snapshot = options.snapshot ?? (dir === undefined ? undefined : join(dir, SNAPSHOT_FILE));
  if ((options.rejoin || options.rejoinAfterLeave) && snapshot === undefined) {
    throw new OptionError('--rejoin needs a snapshot to rejoin from: give --snapshot or --data-dir');
  }
  if (options.keyringFile !== undefined || dir === undefined) return { snapshot, keyringFile: options.keyringFile, keyringToRead: options.keyringFile };
  const keyringFile = join(dir, KEYRING_FILE);
  const exists = await stat(keyringFile).then(
    () => true,
    () => false,
  );
  return { snapshot, keyringFile, keyringToRead: exists ? keyringFile : undefined };
}

async function prepareDataDir(dir: string): Promise<void> {
  if (dir === '') throw new OptionError('--data-dir needs a directory path');
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new OptionError(`--data-dir ${dir} is a file (or under one), not a directory`);
    throw new OptionError(`cannot create --data-dir ${dir}: ${(error as Error).message}`);
  }
  if (!(await stat(dir)).isDirectory()) throw new OptionError(`--data-dir ${dir} is a file, not a directory`);
  try {
    await access(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw new OptionError(`--data-dir ${dir} is not writable by this user`);
  }
}
