/**
 * Configuration profiles (docs/wire-format.md §7: memberlist's DefaultLANConfig / DefaultLocalConfig /
 * DefaultWANConfig) and the checks on overrides.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, HearsayError, PROFILES, resolveConfig, type ProfileName, type ProtocolConfig } from '../../packages/hearsay/src/core/index.js';

const S = 1000;

/** The spec's §7 table, column by column. */
const TABLE: Record<ProfileName, Partial<ProtocolConfig>> = {
  lan: {
    tcpTimeoutMs: 10 * S,
    indirectChecks: 3,
    retransmitMult: 4,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 6,
    pushPullIntervalMs: 30 * S,
    probeIntervalMs: 1 * S,
    probeTimeoutMs: 500,
    disableTcpPings: false,
    awarenessMaxMultiplier: 8,
    gossipNodes: 3,
    gossipIntervalMs: 200,
    gossipToTheDeadTimeMs: 30 * S,
    udpBufferSize: 1400,
    deadNodeReclaimTimeMs: 0,
  },
  local: {
    tcpTimeoutMs: 1 * S,
    indirectChecks: 1,
    retransmitMult: 2,
    suspicionMult: 3,
    suspicionMaxTimeoutMult: 6,
    pushPullIntervalMs: 15 * S,
    probeIntervalMs: 1 * S,
    probeTimeoutMs: 200,
    disableTcpPings: false,
    awarenessMaxMultiplier: 8,
    gossipNodes: 3,
    gossipIntervalMs: 100,
    gossipToTheDeadTimeMs: 15 * S,
    udpBufferSize: 1400,
    deadNodeReclaimTimeMs: 0,
  },
  wan: {
    tcpTimeoutMs: 30 * S,
    indirectChecks: 3,
    retransmitMult: 4,
    suspicionMult: 6,
    suspicionMaxTimeoutMult: 6,
    pushPullIntervalMs: 60 * S,
    probeIntervalMs: 5 * S,
    probeTimeoutMs: 3 * S,
    disableTcpPings: false,
    awarenessMaxMultiplier: 8,
    gossipNodes: 4,
    gossipIntervalMs: 500,
    gossipToTheDeadTimeMs: 60 * S,
    udpBufferSize: 1400,
    deadNodeReclaimTimeMs: 0,
  },
};

describe('profiles', () => {
  it.each(['lan', 'local', 'wan'] as const)('%s matches memberlist’s defaults (docs/wire-format.md §7)', (name) => {
    expect(resolveConfig(name)).toMatchObject(TABLE[name]);
    expect(PROFILES[name]).toMatchObject(TABLE[name]);
  });

  it('lan is the default profile', () => {
    expect(resolveConfig()).toEqual(resolveConfig('lan'));
  });

  it('packets carry no extra overhead unless encryption is configured', () => {
    expect(resolveConfig('lan').packetOverheadBytes).toBe(0);
  });
});

describe('bounds against hostile peers (issue 11)', () => {
  it('are the same in every profile, generous for real clusters', () => {
    for (const name of ['lan', 'local', 'wan'] as const) {
      expect(resolveConfig(name)).toMatchObject({
        maxMembers: 50_000,
        maxNewMembersPerPacket: 64,
        maxNewMembersPerPushPull: 4096,
        maxRepliesPerPacket: 4,
        relayRate: 100,
        relayRatePerSource: 10,
        maxEpochAheadMs: 3600 * S,
        broadcastQueueDepth: 4096,
      });
    }
  });

  it.each([
    ['maxMembers', 0],
    ['maxNewMembersPerPacket', 0],
    ['maxNewMembersPerPushPull', 1.5],
    ['maxRepliesPerPacket', 0],
    ['relayRate', -1],
    ['relayRatePerSource', 0],
    ['maxEpochAheadMs', -1],
    ['broadcastQueueDepth', Infinity],
  ] as const)('%s = %s is refused', (key, value) => {
    expect(() => resolveConfig('lan', { [key]: value })).toThrow(ConfigError);
  });
});

describe('overrides', () => {
  it('are applied on top of the profile', () => {
    const config = resolveConfig('wan', { probeIntervalMs: 4000, gossipNodes: 7, disableTcpPings: true });
    expect(config).toMatchObject({ probeIntervalMs: 4000, gossipNodes: 7, disableTcpPings: true, suspicionMult: 6 });
  });

  it('undefined values are skipped', () => {
    expect(resolveConfig('lan', { probeIntervalMs: undefined })).toEqual(resolveConfig('lan'));
  });

  it('0 switches push/pull and gossip off', () => {
    expect(resolveConfig('lan', { pushPullIntervalMs: 0, gossipIntervalMs: 0 })).toMatchObject({ pushPullIntervalMs: 0, gossipIntervalMs: 0 });
  });

  it('do not change the shared profiles', () => {
    resolveConfig('lan', { probeIntervalMs: 9000 });
    expect(PROFILES.lan.probeIntervalMs).toBe(1000);
  });
});

describe('bad configuration', () => {
  function error(fn: () => unknown): ConfigError {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect(e).toBeInstanceOf(HearsayError);
      expect((e as Error).name).toBe('ConfigError');
      return e as ConfigError;
    }
    throw new Error('expected a ConfigError');
  }

  it('an unknown profile is named, with the valid ones', () => {
    const e = error(() => resolveConfig('fast' as ProfileName));
    expect(e.message).toMatch(/unknown profile "fast"/);
    expect(e.message).toMatch(/lan, local or wan/);
  });

  it('an unknown setting is named, with the known ones', () => {
    const e = error(() => resolveConfig('lan', { probeIntervalSeconds: 3 } as Partial<ProtocolConfig>));
    expect(e.message).toMatch(/unknown setting "probeIntervalSeconds"/);
    expect(e.message).toMatch(/probeIntervalMs/);
  });

  it.each([
    ['probeIntervalMs', '0', 0],
    ['probeIntervalMs', '-5', -5],
    ['indirectChecks', '-1', -1],
    ['retransmitMult', '0', 0],
    ['udpBufferSize', '10', 10],
    ['tcpTimeoutMs', 'NaN', Number.NaN],
    ['gossipIntervalMs', 'Infinity', Number.POSITIVE_INFINITY],
    ['suspicionMult', 'the string "4"', '4'],
  ] as const)('%s = %s is refused, naming the setting and the value', (key, _label, value) => {
    const e = error(() => resolveConfig('lan', { [key]: value } as unknown as Partial<ProtocolConfig>));
    expect(e.message).toContain(key);
    expect(e.message).toContain(String(value));
    expect(e.message).toMatch(/must be a finite number ≥/);
  });

  it.each([
    ['indirectChecks', 2.5],
    ['retransmitMult', 1.5],
    ['udpBufferSize', 1400.5],
  ] as const)('a count (%s = %s) must be a whole number', (key, value) => {
    expect(() => resolveConfig('lan', { [key]: value })).toThrow(new RegExp(`${key} must be a whole number, got ${value}`));
  });

  it('a boolean setting must be a boolean', () => {
    const e = error(() => resolveConfig('lan', { disableTcpPings: 'yes' } as unknown as Partial<ProtocolConfig>));
    expect(e.message).toMatch(/disableTcpPings must be true or false, got yes/);
  });

  it('the probe timeout may not exceed the probe interval', () => {
    const e = error(() => resolveConfig('lan', { probeTimeoutMs: 1500 }));
    expect(e.message).toMatch(/probeTimeoutMs \(1500\) must not exceed probeIntervalMs \(1000\)/);
    expect(() => resolveConfig('lan', { probeTimeoutMs: 1000 })).not.toThrow();
  });
});
