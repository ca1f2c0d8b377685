import { OptionError } from '../core/errors.js';
import { decodeTags, encodeTags } from '../wire/index.js';

/** Tags from meta bytes; meta that is not Serf's tag map (another application's) gives none. */
export function tagsOf(meta: Uint8Array): Record<string, string> {
  try {
    return decodeTags(meta);
  } catch {
    return {};
  }
}

/** The meta bytes that carry `tags`, as Serf encodes them; an OptionError when they do not fit. */
export function metaFor(tags: Record<string, string>): Uint8Array {
  try {
    return encodeTags(tags);
  } catch (error) {
    throw new OptionError(`tags do not fit in the 512 bytes of node meta: ${(error as Error).message}`, { cause: error });
  }
}
