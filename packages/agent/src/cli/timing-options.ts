import { Option, type Command } from 'commander';
import { CONFIG_KEYS, type ProtocolConfig } from 'hearsay/core';
import { parseCount, parseDuration } from './parse.js';

/** `probeIntervalMs` → `--probe-interval`; `indirectChecks` → `--indirect-checks`. */
export function flagFor(key: keyof ProtocolConfig): string {
  return key.replace(/Ms$/, '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Adds one flag per protocol setting (durations take units, counts whole numbers). */
export function addTimingOptions(command: Command): Command {
  for (const key of CONFIG_KEYS) {
    const flag = flagFor(key);
    if (key === 'disableTcpPings') {
      command.addOption(new Option(`--${flag}`, 'never fall back to TCP pings'));
    } else if (key === 'probeTimeoutFromRtt') {
      command.addOption(new Option(`--${flag}`, 'wait for a direct ack as long as each member’s measured round trips warrant'));
    } else if (key.endsWith('Ms')) {
      command.addOption(new Option(`--${flag} <duration>`, `override ${key.replace(/Ms$/, '')}`).argParser(parseDuration));
    } else {
      command.addOption(new Option(`--${flag} <n>`, `override ${key}`).argParser(parseCount));
    }
  }
  return command;
}

/** The heartbeat detector's settings by the names of van Renesse's paper and issue 5, as flags. */
const HEARTBEAT_ALIASES = { period: 'heartbeatIntervalMs', fanout: 'heartbeatFanout', phi: 'phiThreshold' } as const;

/**
 * Adds `--period <duration>`, `--fanout <n>` and `--phi [threshold]` (8 when bare): the same
 * settings as `--heartbeat-interval`, `--heartbeat-fanout` and `--phi-threshold`, which they
 * may not be given with.
 */
export function addHeartbeatAliases(command: Command): Command {
  return command
    .addOption(
      new Option('--period <duration>', 'heartbeat period X (same as --heartbeat-interval)')
        .argParser(parseDuration)
        .conflicts(camelFlag('heartbeatIntervalMs')),
    )
    .addOption(
      new Option('--fanout <n>', 'members that get the heartbeat table each period, M (same as --heartbeat-fanout)')
        .argParser(parseCount)
        .conflicts(camelFlag('heartbeatFanout')),
    )
    .addOption(
      new Option('--phi [threshold]', 'judge by phi accrual at this threshold, 8 when bare (same as --phi-threshold)')
        .argParser(parseCount)
        .preset('8')
        .conflicts(camelFlag('phiThreshold')),
    );
}

/** The attribute commander stores a setting's flag under: `probeIntervalMs` → `probeInterval`. */
function camelFlag(key: keyof ProtocolConfig): string {
  return flagFor(key).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The protocol overrides present among parsed options (the aliases above included). */
export function timingOverrides(options: Record<string, unknown>): Partial<ProtocolConfig> {
  const overrides: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const camel = camelFlag(key);
    if (options[camel] !== undefined) overrides[key] = options[camel];
  }
  for (const [alias, key] of Object.entries(HEARTBEAT_ALIASES)) {
    if (options[alias] !== undefined) overrides[key] = options[alias];
  }
  return overrides as Partial<ProtocolConfig>;
}
