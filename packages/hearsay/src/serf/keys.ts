import { decodeSerfKeyRequest, decodeSerfKeyResponse, type Keyring, type SerfKeyResponse } from '../wire/index.js';

/** Keys one member may report in a key answer (Serf trims its answers to 1 KiB: a dozen keys). */
const MAX_KEYS_PER_ANSWER = 64;
const KEY_BYTES = new Set([16, 24, 32]);

/** The internal queries of `serf keys`: their answers are checked before they are collected. */
export const KEY_QUERIES = new Set(['_serf_install-key', '_serf_use-key', '_serf_remove-key', '_serf_list-keys']);

/** What each key query does to the keyring, by its name without the `_serf_` prefix. */
const KEY_CHANGES = new Map<string, (ring: Keyring, key: Uint8Array) => void>([
  ['install-key', (ring, key) => ring.addKey(key)],
  ['use-key', (ring, key) => ring.useKey(key)],
  ['remove-key', (ring, key) => ring.removeKey(key)],
]);

/**
 * This node's answer to a key query (`operation` is its name without `_serf_`), after making
 * the change it asks for to `keyring`; `changed` is called once the keyring did change.
 * Undefined for an operation that is not a key query.
 */
export function answerKeyQuery(operation: string, payload: Uint8Array, keyring: Keyring | undefined, changed: () => void): SerfKeyResponse | undefined {
  if (operation === 'list-keys') return listKeys(keyring);
  const change = KEY_CHANGES.get(operation);
  if (!change) return undefined;
  const failed = (message: string) => ({ result: false, message, keys: [], primaryKey: '' });
  if (!keyring) return failed('No keyring to modify (encryption not enabled)');
  try {
    change(keyring, decodeSerfKeyRequest(payload));
  } catch (error) {
    return failed((error as Error).message);
  }
  changed();
  return { result: true, message: '', keys: [], primaryKey: '' };
}

function listKeys(keyring: Keyring | undefined): SerfKeyResponse {
  if (!keyring) return { result: false, message: 'Keyring is empty (encryption not enabled)', keys: [], primaryKey: '' };
  const base64 = (key: Uint8Array) => Buffer.from(key).toString('base64');
  return { result: true, message: '', keys: keyring.keys.map(base64), primaryKey: base64(keyring.primaryKey) };
}

function isKey(text: string): boolean {
  const bytes = Buffer.from(text, 'base64');
  return KEY_BYTES.has(bytes.length) && bytes.toString('base64') === text;
}

/**
 * Whether a key answer is one a member could give: a handful of real keys (base64 of 16, 24 or 32
 * bytes). An unreadable answer passes, for the tally to report it as that member's error.
 */
export function saneKeyAnswer(payload: Uint8Array): boolean {
  let answer: SerfKeyResponse;
  try {
    answer = decodeSerfKeyResponse(payload);
  } catch {
    return true;
  }
  return answer.keys.length <= MAX_KEYS_PER_ANSWER && answer.keys.every(isKey) && (answer.primaryKey === '' || isKey(answer.primaryKey));
}
