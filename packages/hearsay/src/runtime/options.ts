import { isProfileName, PROTOCOLS, type Protocol } from '../core/index.js';
import { OptionError } from '../core/errors.js';
import { Keyring } from '../wire/index.js';
import { checkKeyBytes, decodeKey } from '../wire/key-text.js';
import type { NodeOptions } from './types.js';

/*
 * What createNode and the node's methods take, checked once, here: TypeScript checks typed
 * callers, these check the rest (JavaScript, JSON from an HTTP body) and throw an OptionError
 * that says what was wrong and what would do.
 */

const isText = (value: unknown): value is string => typeof value === 'string';
const isTextList = (value: unknown): value is string[] => Array.isArray(value) && value.every(isText);
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The longest delay a Node.js timer takes (longer ones fire at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What each option must be, as the error says it: TypeScript checks typed callers, this checks the rest. */
const OPTION_SHAPES: { readonly [K in keyof Required<NodeOptions>]: readonly [fits: (value: unknown) => boolean, want: string] } = {
  name: [isText, 'a string'],
  bind: [isText, 'a "host:port" string'],
  advertise: [isText, 'a "host:port" string'],
  join: [isTextList, 'a list of "host:port" strings, like ["10.0.0.1:7946"]'],
  profile: [(value) => isText(value) && isProfileName(value), 'one of "lan", "local", "wan"'],
  config: [isObject, 'an object of protocol settings, like { probeIntervalMs: 500 }'],
  tags: [(value) => isObject(value) && Object.values(value).every(isText), 'an object of strings, like { role: "web" }'],
  keys: [(value) => Array.isArray(value) && value.every((key) => isText(key) || key instanceof Uint8Array), 'a list of keys (base64 strings or bytes)'],
  dropRate: [(value) => typeof value === 'number', 'a number from 0 to 1'],
  protocol: [(value) => (PROTOCOLS as readonly unknown[]).includes(value), `one of ${PROTOCOLS.map((p) => `"${p}"`).join(', ')}`],
  pinned: [isTextList, 'a list of member names'],
  dnsServers: [isTextList, 'a list of DNS server addresses, like ["10.0.0.2", "[fd00::53]:5353"]'],
  snapshotPath: [(value) => isText(value) && value.length > 0, 'a file path string'],
  rejoin: [(value) => typeof value === 'boolean', 'true or false'],
  rejoinAfterLeave: [(value) => typeof value === 'boolean', 'true or false'],
  seedRetryIntervalMs: [
    (value) => Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_TIMER_MS,
    `a whole number of milliseconds from 0 (never retry) to ${MAX_TIMER_MS}`,
  ],
};

/** A value as an error message quotes it: JSON, cut short. */
function quoted(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 60 ? `${json.slice(0, 57)}…` : json;
}

/** Refuses an unknown option, or one of the wrong type (an absent or undefined one is the default). */
export function checkOptions(options: unknown): void {
  if (!isObject(options)) throw new OptionError(`createNode takes an options object, like { name: "web-1" }, not ${quoted(options)}`);
  for (const [key, value] of Object.entries(options)) {
    if (!Object.hasOwn(OPTION_SHAPES, key)) throw new OptionError(`unknown option "${key}": createNode takes ${Object.keys(OPTION_SHAPES).join(', ')}`);
    const [fits, want] = OPTION_SHAPES[key as keyof NodeOptions];
    if (value !== undefined && !fits(value)) throw new OptionError(`option "${key}" must be ${want}, not ${quoted(value)}`);
  }
}

/** A protocol `setProtocol` can switch to; an OptionError otherwise. */
export function checkProtocol(protocol: unknown): Protocol {
  if (!(PROTOCOLS as readonly unknown[]).includes(protocol)) {
    throw new OptionError(`unknown protocol ${JSON.stringify(protocol)}: use ${PROTOCOLS.join(', ')}`);
  }
  return protocol as Protocol;
}

/** Member names to pin; an OptionError for anything else. */
export function checkNames(names: unknown): string[] {
  if (!Array.isArray(names) || !names.every((name) => typeof name === 'string')) {
    throw new OptionError('pinned members must be a list of member names');
  }
  const bad = names.find((name: string) => name.length === 0 || name.length > 255);
  if (bad !== undefined) throw new OptionError(`pinned member name "${bad.slice(0, 40)}" must be 1 to 255 characters`);
  return names;
}

/** Refuses what `join` cannot take as seeds: anything but a non-empty list of strings (each is read by parseSeed). */
export function checkSeeds(seeds: unknown): asserts seeds is string[] {
  if (!isTextList(seeds)) throw new OptionError(`join takes a list of "host:port" seeds, like ["10.0.0.1:7946"], not ${quoted(seeds)}`);
  if (seeds.length === 0) throw new OptionError('join needs at least one seed address');
}

export function keyringFrom(keys: (Uint8Array | string)[]): Keyring {
  const bytes = keys.map((key, index) => {
    try {
      return typeof key === 'string' ? decodeKey(key) : checkKeyBytes(key);
    } catch (error) {
      throw new OptionError(`keys[${index}]: ${(error as Error).message}`);
    }
  });
  try {
    return new Keyring(bytes);
  } catch (error) {
    throw new OptionError(`bad encryption key: ${(error as Error).message}`, { cause: error });
  }
}
