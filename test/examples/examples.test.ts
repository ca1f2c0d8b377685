/**
 * The examples as a user would build and run them: examples/ compiled by tsc against the built
 * packages (resolved through node_modules, as after `npm install hearsay`), each program run
 * with node and judged by what it prints. And the README's library example, run as written.
 */
import { rmSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { explain, runCommand } from '../package/run-command.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLES = join(ROOT, 'examples');
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const RUN_TIMEOUT_MS = 20_000;

async function runExample(name: string): Promise<string> {
  const result = await runCommand(process.execPath, [join(EXAMPLES, 'dist', `${name}.js`)], { cwd: ROOT, timeoutMs: RUN_TIMEOUT_MS });
  expect(result.code, explain(name, result)).toBe(0);
  return result.stdout;
}

describe('examples/', () => {
  beforeAll(async () => {
    const result = await runCommand(process.execPath, [TSC, '-p', EXAMPLES], { cwd: ROOT, timeoutMs: 120_000 });
    expect(result.code, explain('tsc -p examples (the packages must be built: npx tsc -b)', result)).toBe(0);
  }, 150_000);

  it('library-service: three nodes join, see tags, an event and a query, then one leaves', async () => {
    const output = await runExample('library-service');
    for (const [node, others] of [
      ['alpha', ['beta', 'gamma']],
      ['beta', ['alpha', 'gamma']],
      ['gamma', ['alpha', 'beta']],
    ] as const) {
      expect(output).toContain(`${node} sees 3 alive: alpha, beta, gamma`);
      for (const other of others) expect(output).toMatch(new RegExp(`^\\[${node}\\] join ${other} \\(127\\.0\\.0\\.1:\\d+\\)`, 'm'));
    }
    for (const node of ['alpha', 'beta']) {
      expect(output).toContain(`${node} sees gamma's tags: role=worker, version=2`);
      expect(output).toMatch(new RegExp(`^\\[${node}\\] update gamma .* role=worker, version=2$`, 'm'));
      expect(output).toContain(`${node} saw gamma leave`);
    }
    expect(output).toContain('alpha received event "deploy": v2');
    expect(output).toContain('gamma received event "deploy": v2');
    expect(output).not.toContain('beta received event');
    expect(output).toContain('query "role" answered by 2: beta=api, gamma=worker');
    expect(output.trimEnd().split('\n').at(-1)).toBe('all nodes shut down');
  });

  it('core-step-loop: cores on a virtual clock join, then detect a crash', async () => {
    const output = await runExample('core-step-loop');
    expect(output).toContain('b joined: 1 seed answered');
    expect(output).toContain('c joined: 1 seed answered');
    for (const node of ['a', 'b', 'c']) expect(output).toContain(`at 20.000 s ${node} sees: a alive, b alive, c alive`);
    expect(output).toContain('20.000 s c crashes');
    for (const node of ['a', 'b']) {
      expect(output).toMatch(new RegExp(`^\\d+\\.\\d{3} s ${node}: suspect c$`, 'm'));
      const detected = new RegExp(`^${node} marked c failed (\\d+\\.\\d{3}) s after the crash$`, 'm').exec(output);
      expect(detected, output).not.toBeNull();
      // A probe period to notice, then Lifeguard's suspicion timeout for three members (≥ 4 s).
      expect(Number(detected![1])).toBeGreaterThan(4);
      expect(Number(detected![1])).toBeLessThan(30);
    }
    // Virtual time: the same seeds give the same run, to the microsecond.
    expect(await runExample('core-step-loop')).toBe(output);
  });

  it('scripted-simulation: a crash detected, a partition seen and healed, the summary printed', async () => {
    const output = await runExample('scripted-simulation');
    expect(output).toMatch(/^10 s: converged at \d+ ms; n0 sees 24 alive$/m);
    expect(output).toMatch(/^30 s: n5 crashed at 10 s, first suspected after \d+ ms, failed everywhere after \d+ ms$/m);
    expect(output).toMatch(/^30 s: n0 sees 23 alive, 1 failed$/m);
    // During the cut n0 (on the side of 8) holds the other side's 16 and the crashed n5 not alive.
    const cut = /^60 s: partitioned since 30 s; n0 sees (\d+) alive.*?, (\d+) failed, n12 sees/m.exec(output);
    expect(cut, output).not.toBeNull();
    expect(Number(cut![1])).toBeLessThanOrEqual(7);
    expect(Number(cut![2])).toBeGreaterThanOrEqual(10);
    expect(output).toMatch(/^150 s: healed at 100 s; n0 sees 23 alive, n12 sees 23 alive$/m);
    expect(output).toMatch(/^ {2}converged at end: true \(settled at \d+ ms\)$/m);
    expect(output).toMatch(/^ {2}false positives: 0, suspicions: \d+, refutations: \d+$/m);
    expect(output).toMatch(/^ {2}first suspicion of the crash: \d+ ms \(SWIM expects \d+ ms\)$/m);
  });
});

const LIBRARY_HEADING = '## Use it as a library';

/** The ```js block directly under the heading `## Use it as a library` (blank lines between are fine). */
function libraryExample(readme: string): string {
  const lines = readme.split(/\r?\n/);
  const heading = lines.indexOf(LIBRARY_HEADING);
  if (heading < 0) throw new Error(`README.md has no heading "${LIBRARY_HEADING}"`);
  let open = heading + 1;
  while (lines[open]?.trim() === '') open++;
  if (lines[open] !== '```js') throw new Error(`the heading "${LIBRARY_HEADING}" is not followed directly by a \`\`\`js block (found: ${lines[open]})`);
  const close = lines.indexOf('```', open + 1);
  if (close < 0) throw new Error(`the \`\`\`js block under "${LIBRARY_HEADING}" is never closed`);
  return `${lines.slice(open + 1, close).join('\n')}\n`;
}

describe("the README's library example", () => {
  it('is the ```js block directly under its heading, and nothing else', () => {
    const readme = ['# x', '', LIBRARY_HEADING, '', '```js', "import { createNode } from 'hearsay';", '```', '', '```js', 'other();', '```'].join('\n');
    expect(libraryExample(readme)).toBe("import { createNode } from 'hearsay';\n");
    expect(() => libraryExample('# x\n\n## Use it\n\n```js\nx();\n```\n')).toThrow(/no heading/);
    expect(() => libraryExample(`${LIBRARY_HEADING}\n\nSome prose.\n\n\`\`\`js\nx();\n\`\`\`\n`)).toThrow(/found: Some prose/);
    expect(() => libraryExample(`${LIBRARY_HEADING}\n\`\`\`ts\nx();\n\`\`\`\n`)).toThrow(/found: ```ts/);
    expect(() => libraryExample(`${LIBRARY_HEADING}\n\`\`\`js\nx();\n`)).toThrow(/never closed/);
  });

  it('runs as written from the repository root and exits by itself', async () => {
    const code = libraryExample(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    // Inside the repository, so that 'hearsay' resolves through node_modules to the built package.
    const file = join(ROOT, `.readme-example-${process.pid}.mjs`);
    writeFileSync(file, code);
    try {
      const result = await runCommand(process.execPath, [file], { cwd: ROOT, timeoutMs: RUN_TIMEOUT_MS });
      expect(result.code, explain("the README's library example", result)).toBe(0);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
