/** The heartbeat flags of `hearsay sim` as settings: the short names and their long forms. */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addHeartbeatAliases, addTimingOptions, timingOverrides } from '../../packages/agent/src/cli/timing-options.js';

function overridesFor(...args: string[]) {
  const quiet = new Command('sim').exitOverride().configureOutput({ writeErr: () => {} });
  const command = addTimingOptions(addHeartbeatAliases(quiet));
  command.parse(args, { from: 'user' });
  return timingOverrides(command.opts());
}

describe('hearsay sim heartbeat flags', () => {
  it('maps --period, --fanout and --phi to the heartbeat settings', () => {
    expect(overridesFor('--period', '500ms', '--fanout', '4', '--phi', '6')).toEqual({
      heartbeatIntervalMs: 500,
      heartbeatFanout: 4,
      phiThreshold: 6,
    });
  });

  it('reads a bare --phi as threshold 8', () => {
    expect(overridesFor('--phi')).toEqual({ phiThreshold: 8 });
    expect(overridesFor('--phi', '--fanout', '2')).toEqual({ phiThreshold: 8, heartbeatFanout: 2 });
  });

  it('keeps the long forms generated from the configuration keys', () => {
    expect(
      overridesFor('--heartbeat-interval', '2s', '--heartbeat-fanout', '5', '--phi-threshold', '10', '--hybrid-threshold', '50', '--rtt-bound', '300ms'),
    ).toEqual({ heartbeatIntervalMs: 2000, heartbeatFanout: 5, phiThreshold: 10, hybridThreshold: 50, rttBoundMs: 300 });
  });

  it('rejects a short name given with its long form', () => {
    expect(() => overridesFor('--period', '1s', '--heartbeat-interval', '1s')).toThrow(/cannot be used with option/);
  });
});
