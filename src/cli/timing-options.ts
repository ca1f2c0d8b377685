import { Option, type Command } from 'commander';
import { CONFIG_KEYS, type SwimConfig } from '../core/index.js';
import { parseCount, parseDuration } from './parse.js';

/** `probeIntervalMs` → `--probe-interval`; `indirectChecks` → `--indirect-checks`. */
export function flagFor(key: keyof SwimConfig): string {
  return key
    .replace(/Ms$/, '')
    .replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Adds one flag per protocol setting (durations take units, counts whole numbers). */
export function addTimingOptions(command: Command): Command {
  for (const key of CONFIG_KEYS) {
    const flag = flagFor(key);
    if (key === 'disableTcpPings') {
      command.addOption(new Option(`--${flag}`, 'never fall back to TCP pings'));
    } else if (key.endsWith('Ms')) {
      command.addOption(new Option(`--${flag} <duration>`, `override ${key.replace(/Ms$/, '')}`).argParser(parseDuration));
    } else {
      command.addOption(new Option(`--${flag} <n>`, `override ${key}`).argParser(parseCount));
    }
  }
  return command;
}

/** The protocol overrides present among parsed options. */
export function timingOverrides(options: Record<string, unknown>): Partial<SwimConfig> {
  const overrides: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const camel = flagFor(key).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (options[camel] !== undefined) overrides[key] = options[camel];
  }
  return overrides as Partial<SwimConfig>;
}

