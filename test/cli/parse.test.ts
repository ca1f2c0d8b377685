/** The CLI's duration syntax: a unit always (Serf's rule), except for 0; and the flags built on it. */
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseDuration, parseEvent, parseLink, parsePartition, parsePause, parseQuery, parseRestart, parseSwitch } from '../../packages/agent/src/cli/parse.js';

describe('parseDuration', () => {
  it('reads a number with its unit as milliseconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('3s')).toBe(3000);
    expect(parseDuration(' 2m ')).toBe(120_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('.5s')).toBe(500);
  });

  it('takes 0 without a unit: it is the same in every unit', () => {
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('0.0')).toBe(0);
  });

  it.each(['3', '0.5', '.5', '1500'])('refuses the bare number %j, asking for a unit', (text) => {
    expect(() => parseDuration(text)).toThrow(InvalidArgumentError);
    expect(() => parseDuration(text)).toThrow(`"${text}" has no unit: use a unit, like ${text}s or ${text}ms`);
  });

  it.each(['', ' ', '-1s', '3x', 'soon', '1e3'])('refuses %j as no duration (never with a plain Error)', (text) => {
    expect(() => parseDuration(text)).toThrow(InvalidArgumentError);
    expect(() => parseDuration(text)).toThrow(/is not a duration: use a number with a unit, like 500ms, 1s, 2m/);
  });

  it('applies the same rule inside the simulator’s event flags', () => {
    expect(parsePause('n3@10s+3s')).toEqual({ name: 'n3', atMs: 10_000, forMs: 3000 });
    expect(() => parsePause('n3@10+3s')).toThrow(/"10" has no unit/);
    expect(() => parseRestart('n3@60')).toThrow(/"60" has no unit/);
    expect(() => parsePartition('30s+20')).toThrow(/"20" has no unit/);
    expect(() => parseLink('n1:n2:0.3:20')).toThrow(/"20" has no unit/);
    expect(() => parseSwitch('heartbeat@30')).toThrow(/"30" has no unit/);
    expect(() => parseEvent('deploy@5')).toThrow(/"5" has no unit/);
    expect(() => parseQuery('who@5')).toThrow(/"5" has no unit/);
    expect(parseLink('n1:n2:0.3:0')).toEqual({ between: ['n1', 'n2'], loss: 0.3, delayMs: 0 });
  });
});

describe('parseEvent and parseQuery', () => {
  it('read NAME@AT[=NODE]', () => {
    expect(parseEvent('deploy@5s')).toEqual({ name: 'deploy', atMs: 5000 });
    expect(parseEvent(' deploy@1.5s=n3 ')).toEqual({ name: 'deploy', atMs: 1500, from: 'n3' });
    expect(parseQuery('uptime@10s=n7')).toEqual({ name: 'uptime', atMs: 10_000, from: 'n7' });
  });

  it.each(['deploy', '@5s', 'deploy@', 'de ploy@5s', 'a=b@5s'])('refuses %j with the syntax to use', (text) => {
    expect(() => parseEvent(text)).toThrow(InvalidArgumentError);
    expect(() => parseEvent(text)).toThrow(`"${text}" is not an event: use NAME@AT[=NODE], like deploy@5s`);
    expect(() => parseQuery(text)).toThrow(`"${text}" is not a query: use NAME@AT[=NODE], like uptime@10s`);
  });

  it('refuses an empty node name after "="', () => {
    expect(() => parseEvent('deploy@5s=')).toThrow('"deploy@5s=" names no node after "=": use NAME@AT=NODE, like deploy@5s=n3');
  });
});
