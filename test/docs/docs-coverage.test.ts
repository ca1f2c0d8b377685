/**
 * The documentation against the code: every command and long flag the CLI registers appears in
 * docs/cli.md under that command's heading; every route the agent's server registers appears in
 * docs/http-api.md with its method; every relative link in the README, CONTRIBUTING and
 * docs/*.md leads to a file, and to a heading, that exists.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAgent, type Agent } from '../../packages/agent/src/agent/agent.js';
import { openApiDocument } from '../../packages/agent/src/agent/openapi.js';
import { buildProgram } from '../../packages/agent/src/cli/program.js';
import { headingsOf, linksOf, sectionOf, slugOf } from './markdown.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Every route the agent's fastify instances register, seen through an onRoute hook on each. */
const registered = vi.hoisted(() => [] as { method: string; url: string }[]);
vi.mock('fastify', async (importOriginal) => {
  const actual = await importOriginal<typeof import('fastify')>();
  const create = ((options?: Parameters<typeof actual.default>[0]) => {
    const app = actual.default(options);
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) registered.push({ method, url: route.url });
    });
    return app;
  }) as typeof actual.default;
  return { ...actual, default: create };
});

// ——— the CLI ———

interface CommandEntry {
  /** `hearsay`, `hearsay sim`, `hearsay cluster up` … */
  readonly path: string;
  readonly command: Command;
}

function commandsOf(command: Command, path = command.name()): CommandEntry[] {
  return [{ path, command }, ...command.commands.flatMap((sub) => commandsOf(sub, `${path} ${sub.name()}`))];
}

function mentions(text: string, flag: string): boolean {
  return new RegExp(`${flag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`).test(text);
}

/**
 * What the page leaves out: commands without a heading of their own (`## \`hearsay sim\``), and
 * flags found neither in their command's section nor in a section it links to (`#anchor`), as a
 * shared table of the protocol settings is.
 */
function undocumented(program: Command, markdown: string): string[] {
  const headings = headingsOf(markdown);
  const missing: string[] = [];
  for (const { path, command } of commandsOf(program)) {
    const heading = headings.find((h) => h.text === path);
    if (!heading) {
      missing.push(`command "${path}" (no heading "${path}")`);
      continue;
    }
    const section = sectionOf(markdown, heading);
    const linked = [...section.matchAll(/\]\(#([^)]+)\)/g)].map((match) => headings.find((h) => h.slug === match[1]));
    const text = [section, ...linked.flatMap((h) => (h ? [sectionOf(markdown, h)] : []))].join('\n');
    for (const option of command.options) {
      if (option.long && !mentions(text, option.long)) missing.push(`${path} ${option.long}`);
    }
  }
  return missing;
}

describe('docs/cli.md', () => {
  const markdown = read('docs/cli.md');

  it('has a section for every command, naming each of its flags', async () => {
    const program = await buildProgram();
    const paths = commandsOf(program).map((entry) => entry.path);
    // The walk reaches the whole tree (the cluster subcommands, the experiment command).
    expect(paths).toEqual(
      expect.arrayContaining(['hearsay', 'hearsay sim', 'hearsay agent', 'hearsay cluster up', 'hearsay cluster watch', 'hearsay experiment']),
    );
    expect(undocumented(program, markdown)).toEqual([]);
  });

  it('notices a command or flag added without docs', async () => {
    const program = await buildProgram();
    const sim = program.commands.find((command) => command.name() === 'sim')!;
    sim.option('--undocumented-flag <n>', 'added by the test');
    // A flag documented for another command does not count for this one.
    program.commands.find((command) => command.name() === 'rtt')!.option('--crash-at <d>', 'added by the test');
    program.command('undocumented-command').option('--json');
    expect(undocumented(program, markdown)).toEqual(
      expect.arrayContaining([
        'hearsay sim --undocumented-flag',
        'hearsay rtt --crash-at',
        'command "hearsay undocumented-command" (no heading "hearsay undocumented-command")',
      ]),
    );
  });
});

// ——— the HTTP API ———

describe('docs/http-api.md', () => {
  const markdown = read('docs/http-api.md');
  let agent: Agent;

  beforeAll(async () => {
    registered.length = 0;
    agent = await startAgent({ name: 'docs-routes', bind: '127.0.0.1:0', http: '127.0.0.1:0' }, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await agent?.close();
  });

  /** A route as OpenAPI writes it: a path parameter is {key} where fastify has :key. */
  const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

  /** Registered routes, without the HEAD routes fastify adds beside each GET. */
  const routes = () => {
    const gets = new Set(registered.filter((route) => route.method === 'GET').map((route) => route.url));
    return registered.filter((route) => !(route.method === 'HEAD' && gets.has(route.url)));
  };

  it('names every route the agent serves, with its method', () => {
    expect(routes().length).toBeGreaterThan(10);
    const missing = routes().filter(({ method, url }) => !mentions(markdown, `${method} ${url}`) && !mentions(markdown, `${method} ${openApiPath(url)}`));
    expect(missing).toEqual([]);
  });

  it('is generated from an OpenAPI document that lists exactly the routes the agent serves', () => {
    const served = routes()
      .map(({ method, url }) => `${method} ${openApiPath(url)}`)
      .sort();
    const described = Object.entries(openApiDocument.paths)
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    expect(described).toEqual(served);
  });
});

// ——— links ———

function documents(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  return ['README.md', 'CONTRIBUTING.md', ...docs];
}

/** Why a relative link from `document` is broken, or null when its file (and heading) exist. */
function brokenLink(document: string, target: string): string | null {
  if (/^[a-z][a-z+.-]*:/i.test(target)) return null; // https:, mailto: …
  const [pathPart = '', fragment] = target.split('#', 2);
  const file = pathPart === '' ? join(ROOT, document) : resolve(dirname(join(ROOT, document)), decodeURIComponent(pathPart));
  if (!existsSync(file)) return `${target}: no file ${relative(ROOT, file)}`;
  if (fragment === undefined || !file.endsWith('.md') || statSync(file).isDirectory()) return null;
  const slugs = headingsOf(readFileSync(file, 'utf8')).map((heading) => heading.slug);
  return slugs.includes(fragment) ? null : `${target}: no heading #${fragment} in ${relative(ROOT, file)}`;
}

describe('links', () => {
  it('lead to files and headings that exist', () => {
    const broken = documents().flatMap((document) =>
      linksOf(read(document)).flatMap((target) => {
        const why = brokenLink(document, target);
        return why ? [`${document}: ${why}`] : [];
      }),
    );
    expect(broken).toEqual([]);
  });

  it('are found and judged', () => {
    expect(linksOf('[a](docs/cli.md) `[b](nowhere.md)` ![c](x.png "t")\n```\n[d](in-code.md)\n```')).toEqual(['docs/cli.md', 'x.png']);
    expect(slugOf("9. Serf's layer")).toBe('9-serfs-layer');
    expect(brokenLink('README.md', 'docs/cli.md#hearsay-cluster-up')).toBeNull();
    expect(brokenLink('README.md', 'docs/cli.md#no-such-heading')).toMatch(/no heading/);
    expect(brokenLink('docs/cli.md', 'missing.md')).toMatch(/no file docs\/missing\.md/);
  });
});
