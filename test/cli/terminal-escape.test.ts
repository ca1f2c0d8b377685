/**
 * Issue 11, item 6f, end to end: a peer whose name and tags hold terminal escapes (clipboard
 * write, window title, clear screen) joins a cluster of real agents started by `cluster up`, and
 * answers queries with one. Nothing the CLI prints of it, tables, watch frame or query answers,
 * may carry a raw control character; --json keeps the exact values (JSON escapes them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, type HearsayNode } from '../../packages/hearsay/src/index.js';
import { waitFor } from '../helpers/wait.js';
import { CLI_POLL, freeBasePort, hearsay, TestHome } from './cluster-harness.js';

const CLIPBOARD = '\x1b]52;c;ZWNobyBvd25lZA==\x07';
const CLEAR = '\x1b[2J';
const TITLE = '\u009d0;owned\u0007';
const EVIL_NAME = `evil${CLEAR}\x1b]0;title\x07`;
const EVIL_TAGS = { clip: CLIPBOARD, cls: CLEAR, title: TITLE };

/** Any control character a terminal acts on (newline aside), the 8-bit CSI and OSC included. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
/** picocolors' own SGR sequences, written on purpose when colour is forced. */
const OWN_COLOURS = /\x1b\[\d+m/g;

interface View {
  node: string;
  up: boolean;
  members: { name: string; status: string; tags: Record<string, string> }[];
}

describe('terminal escapes from the network (item 6f)', () => {
  const home = new TestHome();
  let evil: HearsayNode;
  let http0: string;

  beforeAll(async () => {
    const base = await freeBasePort(3);
    const up = await home.run('cluster', 'up', '--size', '2', '--base-port', String(base), '--profile', 'local', '--probe-interval', '500ms');
    expect(up.code, up.stderr).toBe(0);
    http0 = home.state()!.nodes[0]!.http;
    evil = await createNode({ name: EVIL_NAME, bind: '127.0.0.1:0', join: [`127.0.0.1:${base}`], profile: 'local', tags: EVIL_TAGS });
    evil.on('query', (query) => query.respond(new TextEncoder().encode(`pwned${CLIPBOARD}${CLEAR}`)));
    await waitFor(
      'both agents to list the evil member alive with its tags',
      async () => {
        const run = await home.run('cluster', 'members', '--json');
        const views = JSON.parse(run.stdout) as View[];
        const listed = views.every((view) => view.up && view.members.some((m) => m.name === EVIL_NAME && m.status === 'alive' && m.tags.clip === CLIPBOARD));
        return listed;
      },
      { ...CLI_POLL, timeoutMs: 30_000 },
    );
  }, 60_000);

  afterAll(async () => {
    await evil?.shutdown();
    await home.cleanup();
  });

  /** Runs a CLI command twice (no colour, forced colour) and checks both outputs hold no raw control. */
  async function printsNoControl(args: string[], colours = true): Promise<string> {
    const plain = await home.run(...args);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).not.toMatch(RAW_CONTROL);
    expect(plain.stderr).not.toMatch(RAW_CONTROL);
    const coloured = await hearsay({ ...home.env, NO_COLOR: undefined, FORCE_COLOR: '1' }, args);
    expect(coloured.code, coloured.stderr).toBe(0);
    if (colours) expect(coloured.stdout).toContain('\x1b['); // colour is on …
    expect(coloured.stdout.replace(OWN_COLOURS, '')).not.toMatch(RAW_CONTROL); // … and is the only escape
    return plain.stdout;
  }

  it('`hearsay members` shows the name and tags escaped', async () => {
    const out = await printsNoControl(['members', '--http', http0]);
    expect(out).toContain('evil\\x1b[2J\\x1b]0;title\\x07');
    expect(out).toContain('clip=\\x1b]52;c;ZWNobyBvd25lZA==\\x07');
    expect(out).toContain('title=\\x9d0;owned\\x07');
  });

  it('`hearsay members --json` keeps the exact values', async () => {
    const run = await home.run('members', '--http', http0, '--json');
    expect(run.stdout).not.toContain('\x1b');
    const members = JSON.parse(run.stdout) as View['members'];
    expect(members.find((m) => m.name === EVIL_NAME)?.tags).toEqual(EVIL_TAGS);
  });

  it('`hearsay cluster members` and `cluster watch --once` show the name escaped', async () => {
    expect(await printsNoControl(['cluster', 'members'])).toContain('evil\\x1b[2J');
    expect(await printsNoControl(['cluster', 'watch', '--once'])).toContain('evil\\x1b[2J');
  });

  it('`hearsay query` shows the answer and who sent it escaped', async () => {
    const out = await printsNoControl(['query', '--http', http0, '--timeout', '2s', 'anything'], false);
    expect(out).toContain("Response from 'evil\\x1b[2J\\x1b]0;title\\x07': pwned\\x1b]52;c;ZWNobyBvd25lZA==\\x07\\x1b[2J");
  });
});
