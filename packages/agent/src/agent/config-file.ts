import { readFile } from 'node:fs/promises';
import { CONFIG_KEYS, ConfigError, PROFILES, PROTOCOLS, type ProtocolConfig } from 'hearsay/core';
import { parseDuration } from '../cli/parse.js';
import type { AgentOptions } from './agent.js';

/** The levels `--log-level` and a config file's `logLevel` take (pino's, and `silent`). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;

/** What a config file's value must be, said as the error message says it. */
interface Shape {
  readonly fits: (value: unknown) => boolean;
  readonly want: string;
}

const text = (want = 'a string'): Shape => ({ fits: (value) => typeof value === 'string', want });
const texts = (want: string): Shape => ({ fits: (value) => Array.isArray(value) && value.every((item) => typeof item === 'string'), want });
const oneOf = (choices: readonly string[]): Shape => ({
  fits: (value) => choices.includes(value as string),
  want: `one of ${choices.map((choice) => JSON.stringify(choice)).join(', ')}`,
});
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every key a config file may hold, and the shape of its value (ranges are checked where the agent starts). */
const SHAPES: { readonly [K in keyof Required<AgentOptions>]: Shape } = {
  name: text(),
  bind: text('a "host:port" string'),
  advertise: text('a "host:port" string'),
  join: texts('a list of "host:port" strings, like ["10.0.0.1:7946"]'),
  retryJoin: texts('a list of "host:port" strings, like ["10.0.0.1:7946"]'),
  retryIntervalMs: { fits: (value) => typeof value === 'number', want: 'a number of milliseconds, like 30000' },
  retryMax: { fits: (value) => Number.isInteger(value), want: 'a whole number, 0 for unlimited' },
  discover: text('a cluster name string'),
  discoverInterface: text('a network interface name string'),
  dnsServers: texts('a list of "ip" or "ip:port" strings, like ["10.0.0.2:53"]'),
  http: text('a "host:port" string'),
  httpToken: text(),
  httpAllowedHosts: texts('a list of host names, like ["agent.example"]'),
  protocol: oneOf(PROTOCOLS),
  pinned: texts('a list of member names'),
  profile: oneOf(Object.keys(PROFILES)),
  config: { fits: isObject, want: 'an object of protocol settings, like {"probeIntervalMs": 500}' },
  encrypt: text('a base64 key string'),
  keyringFile: text('a file path string'),
  tags: {
    fits: (value) => isObject(value) && Object.values(value).every((tag) => typeof tag === 'string'),
    want: 'an object of strings, like {"role": "web"}',
  },
  tagsFile: text('a file path string'),
  dropRate: { fits: (value) => typeof value === 'number', want: 'a number from 0 to 1' },
  logLevel: oneOf(LOG_LEVELS),
  queryHandlers: texts('a list of "NAME=COMMAND" strings, like ["load=uptime"]'),
  queryHandlerConcurrency: { fits: (value) => Number.isInteger(value), want: 'a whole number from 1 to 1024' },
  eventHandlers: texts('a list of "[FILTER=]COMMAND" strings, like ["member-join,member-leave=./members.sh"]'),
  eventHandlerTimeoutMs: { fits: (value) => typeof value === 'number', want: 'a number of milliseconds, like 60000' },
  eventHandlerCoalesceMs: { fits: (value) => typeof value === 'number', want: 'a number of milliseconds, like 200' },
  snapshot: text('a file path string'),
  rejoin: { fits: (value) => typeof value === 'boolean', want: 'true or false' },
  rejoinAfterLeave: { fits: (value) => typeof value === 'boolean', want: 'true or false' },
  dataDir: text('a directory path string'),
  eventWebhooks: texts('a list of http:// or https:// URLs, like ["http://127.0.0.1:8080/events"]'),
};

/** A value as an error message quotes it: JSON, cut short. */
function quoted(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 60 ? `${json.slice(0, 57)}…` : json;
}

/**
 * Reads a JSON config file into agent options, checking every key and the shape of its value:
 * what does not fit is a ConfigError naming the key. Protocol settings (`config`) take numbers
 * of milliseconds for the `…Ms` keys, as their names say, or durations with a unit (`"500ms"`).
 */
export async function readConfigFile(path: string): Promise<AgentOptions> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  if (!isObject(parsed)) throw new ConfigError(`config file ${path} must hold a JSON object, like {"name": "web-1"}`);
  for (const [key, value] of Object.entries(parsed)) {
    if (!Object.hasOwn(SHAPES, key)) throw new ConfigError(`config file ${path}: unknown key "${key}"; known keys are ${Object.keys(SHAPES).join(', ')}`);
    const shape = SHAPES[key as keyof AgentOptions];
    if (!shape.fits(value)) throw new ConfigError(`config file ${path}: "${key}" must be ${shape.want}, not ${quoted(value)}`);
  }
  const options = parsed as AgentOptions;
  if (options.config) options.config = protocolSettings(path, options.config as Record<string, unknown>);
  return options;
}

/** The `config` object's settings, durations given as text read as the command line reads them. */
function protocolSettings(path: string, settings: Record<string, unknown>): Partial<ProtocolConfig> {
  const checked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (!(CONFIG_KEYS as string[]).includes(key)) throw new ConfigError(`config file ${path}: unknown setting config.${key}; known: ${CONFIG_KEYS.join(', ')}`);
    if (key.endsWith('Ms') && typeof value === 'string') {
      try {
        checked[key] = parseDuration(value);
      } catch (error) {
        throw new ConfigError(`config file ${path}: config.${key}: ${(error as Error).message} (or a number of milliseconds)`);
      }
      continue;
    }
    // Ranges are the core's to check when the node starts; the type is what a file gets wrong.
    const type = typeof PROFILES.lan[key as keyof ProtocolConfig];
    if (typeof value !== type) {
      const want = key.endsWith('Ms') ? 'a number of milliseconds or a duration, like 500 or "500ms"' : type === 'boolean' ? 'true or false' : 'a number';
      throw new ConfigError(`config file ${path}: config.${key} must be ${want}, not ${quoted(value)}`);
    }
    checked[key] = value;
  }
  return checked as Partial<ProtocolConfig>;
}
