import { readFile } from 'node:fs/promises';
import { OptionError } from 'hearsay';
import { replaceFile } from './replace-file.js';

/**
 * Serf's `-tags-file`: the agent's tags as a JSON object, read at start (a missing file is no
 * tags yet) and rewritten whenever the tags change through the API, so that they survive a
 * restart.
 */
export async function readTagsFile(path: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new OptionError(`cannot read tags file ${path}: ${(error as Error).message}`);
  }
  let tags: unknown;
  try {
    tags = JSON.parse(text);
  } catch (error) {
    throw new OptionError(`tags file ${path} is not JSON: ${(error as Error).message}`);
  }
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags) || !Object.values(tags).every((value) => typeof value === 'string')) {
    throw new OptionError(`tags file ${path} must hold a JSON object of string values, like {"role": "web"}`);
  }
  return tags as Record<string, string>;
}

/** Writes the tags files of one agent in the order the changes were made, each atomically (mode 0600, renamed into place). */
export class TagsFile {
  readonly path: string;
  #last: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  /** Replaces the file with `tags`; resolves once written, rejects when it could not be. */
  save(tags: Readonly<Record<string, string>>): Promise<void> {
    const written = this.#last.then(() => replaceFile(this.path, `${JSON.stringify(tags, null, 2)}\n`));
    this.#last = written.catch(() => {});
    return written;
  }
}

/** The tags an agent starts with: its --tag flags (and config file's `tags`), or its tags file's; not both, as Serf refuses them together. */
export async function startingTags(options: { readonly tags?: Record<string, string>; readonly tagsFile?: string }): Promise<Record<string, string>> {
  if (options.tagsFile === undefined) return options.tags ?? {};
  if (Object.keys(options.tags ?? {}).length > 0) {
    throw new OptionError(`tags (--tag or the config file's "tags") cannot be given with a tags file (${options.tagsFile}): put them in the tags file`);
  }
  return readTagsFile(options.tagsFile);
}
