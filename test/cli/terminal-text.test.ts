import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import type { Member } from '../../packages/agent/src/cli/cluster/api.js';
import { renderMatrix } from '../../packages/agent/src/cli/cluster/matrix.js';
import { clusterTables, membersTable, type ObserverView } from '../../packages/agent/src/cli/cluster/render.js';
import { terminalLines, terminalText } from '../../packages/agent/src/cli/terminal-text.js';

/** Clipboard write (OSC 52), window title (OSC 0), clear screen (CSI 2J), and their 8-bit C1 forms. */
const CLIPBOARD = '\x1b]52;c;ZWNobyBwd25lZA==\x07';
const TITLE = '\x1b]0;owned\x1b\\';
const CLEAR = '\x1b[2J';
const C1 = '\u009b2J\u009d0;owned\u0007';

/** Every control character a terminal acts on, or the bidi controls that reorder text. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** picocolors' own SGR sequences (the only escapes the CLI writes on purpose). */
const OWN_COLOURS = /\x1b\[\d+m/g;

describe('terminalText', () => {
  it('escapes C0, DEL and C1 controls, ESC and the 8-bit CSI and OSC included', () => {
    expect(terminalText(CLIPBOARD)).toBe('\\x1b]52;c;ZWNobyBwd25lZA==\\x07');
    expect(terminalText(CLEAR)).toBe('\\x1b[2J');
    expect(terminalText(C1)).toBe('\\x9b2J\\x9d0;owned\\x07');
    expect(terminalText('a\x00b\x7fc\u0085d')).toBe('a\\x00b\\x7fc\\x85d');
    expect(terminalText('one\ntwo\r\tthree')).toBe('one\\ntwo\\r\\tthree');
  });

  it('escapes the bidirectional overrides and isolates that reorder a name on screen', () => {
    expect(terminalText('node-\u202e1-edon\u2066x\u2069')).toBe('node-\\u202e1-edon\\u2066x\\u2069');
  });

  it('leaves printable text alone, non-ASCII included', () => {
    for (const text of ['node-1', 'role=web,dc=eu-west', 'héllo wörld ✓ 日本 🙂', '\\x1b (already text)', '', ' ~!@#$%^&*()']) {
      expect(terminalText(text)).toBe(text);
    }
  });

  it('keeps newlines in terminalLines, and escapes everything else', () => {
    expect(terminalLines(`first line\nsecond ${CLEAR}line\r`)).toBe('first line\nsecond \\x1b[2Jline\\r');
  });

  it('never lets a control character through, whatever the input', () => {
    let state = 7;
    for (let i = 0; i < 2_000; i++) {
      const text = Array.from({ length: 1 + (i % 40) }, () => {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        return String.fromCodePoint(state % 0x2100);
      }).join('');
      expect(terminalText(text)).not.toMatch(RAW_CONTROL);
      expect(terminalText(text)).not.toContain('\n');
    }
  });
});

const evil: Member = {
  name: `evil${CLEAR}name\u009b`,
  address: '127.0.0.1',
  port: 7946,
  status: `alive${TITLE}`,
  incarnation: 1,
  tags: { clip: CLIPBOARD, [`key${CLEAR}`]: 'x' },
  since: '2026-01-01T00:00:00.000Z',
};
const plainMember: Member = { ...evil, name: 'node-0', status: 'alive', tags: {} };

describe('what the CLI prints from agents’ answers', () => {
  const colour = pc.createColors(true);
  const plain = pc.createColors(false);

  it('members table: no raw control character, with or without colour', () => {
    const table = membersTable([evil, plainMember], plain);
    expect(table).not.toMatch(RAW_CONTROL);
    expect(table).toContain('evil\\x1b[2Jname\\x9b');
    expect(table).toContain('clip=\\x1b]52;c;ZWNobyBwd25lZA==\\x07');
    expect(membersTable([evil, plainMember], colour).replace(OWN_COLOURS, '')).not.toMatch(RAW_CONTROL);
  });

  it('cluster tables: names, tags and the reason an observer is down', () => {
    const views: ObserverView[] = [
      { node: 'node-0', up: true, members: [evil, plainMember] },
      { node: 'node-1', up: false, members: [], reason: `not answering: the agent said ${CLIPBOARD}` },
    ];
    for (const c of [plain, colour]) expect(clusterTables(views, c).replace(OWN_COLOURS, '')).not.toMatch(RAW_CONTROL);
    expect(clusterTables(views, plain)).toContain('down (not answering: the agent said \\x1b]52;c;');
  });

  it('cluster watch frame: column names, events and down reasons', () => {
    const views: ObserverView[] = [
      { node: 'node-0', up: true, members: [evil, plainMember] },
      { node: 'node-1', up: false, members: [], reason: CLEAR },
    ];
    const events = [{ at: 0, observer: 'node-0', type: `join${C1}`, member: evil.name }];
    for (const c of [plain, colour]) {
      const lines = renderMatrix({ views, events, now: 0, intervalMs: 500, eventLines: 6 }, c);
      expect(lines.join('\n').replace(OWN_COLOURS, '')).not.toMatch(RAW_CONTROL);
    }
    const lines = renderMatrix({ views, events: [], now: 0, intervalMs: 500, eventLines: 0 }, plain);
    // The evil member still gets its column (evil…, node-0, node-1), under its escaped name, with its status letter.
    const header = lines.find((line) => line.startsWith('observer'))!;
    expect(header).toContain('evil\\x1b[2Jname\\x9b');
    expect(
      lines
        .find((line) => line.startsWith('node-0'))!
        .trim()
        .split(/\s+/),
    ).toEqual(['node-0', '?', 'A', '?']);
  });
});
