import { OptionError } from '../core/errors.js';

/** Standard base64 with its padding, as `serf keygen` prints it and Serf reads it. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** AES-128, AES-192 and AES-256. */
const KEY_BYTES: readonly number[] = [16, 24, 32];
const KEY_LENGTH_RULE = 'it must be 16, 24 or 32 (serf keygen makes 32)';

/**
 * The bytes of an encryption key written in base64, as `serf keygen` prints one and Serf's
 * `-encrypt` flag and keyring files take it. The message of the error says which rule the text
 * breaks, never the text itself: it may be a secret.
 *
 * @param text - the key in standard base64, with its padding.
 * @returns 16, 24 or 32 bytes (an AES-128, -192 or -256 key).
 * @throws {@link OptionError} when the text is not base64, or does not decode to 16, 24 or 32 bytes.
 */
export function decodeKey(text: string): Uint8Array {
  if (typeof text !== 'string' || text === '' || !BASE64.test(text)) throw new OptionError('encryption key is not base64: give it as `serf keygen` prints one');
  const bytes = Buffer.from(text, 'base64');
  if (!KEY_BYTES.includes(bytes.length)) throw new OptionError(`encryption key decodes to ${bytes.length} bytes: ${KEY_LENGTH_RULE}`);
  return new Uint8Array(bytes);
}

/** Refuses key bytes that are no AES key. */
export function checkKeyBytes(key: Uint8Array): Uint8Array {
  if (!KEY_BYTES.includes(key.length)) throw new OptionError(`encryption key of ${key.length} bytes: ${KEY_LENGTH_RULE}`);
  return key;
}
