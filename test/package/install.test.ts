/**
 * What a new user gets: the packed hearsay and hearsay-agent tarballs, their contents, and an
 * install of each into an empty project outside the repository (from the npm cache that `npm ci`
 * filled) — how much it brings in, whether npm warns, and whether the library loads from
 * CommonJS, from an ES module and from TypeScript compiled to CommonJS, and the CLI runs.
 * Needs the built packages (`npm test` runs `tsc -b` first).
 */
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommandResult, explain, runCommand } from './run-command.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const NPM_TIMEOUT_MS = 180_000;
const RUN_TIMEOUT_MS = 20_000;
const INSTALL_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund'];
const PACKAGES = [
  {
    name: 'hearsay',
    directory: 'packages/hearsay',
    required: ['dist/index.js', 'dist/index.d.ts', 'dist/core/index.js', 'dist/wire/index.js', 'dist/runtime/index.js', 'dist/sim/index.js'],
  },
  { name: 'hearsay-agent', directory: 'packages/agent', required: ['bin/hearsay.js', 'dist/cli/main.js', 'dist/scripting.js', 'dist/scripting.d.ts'] },
] as const;
const AGENT_VERSION = (JSON.parse(readFileSync(join(ROOT, 'packages/agent/package.json'), 'utf8')) as { version: string }).version;

function npm(args: readonly string[], cwd: string): Promise<CommandResult> {
  return runCommand('npm', args, { cwd, timeoutMs: NPM_TIMEOUT_MS });
}

function node(args: readonly string[], cwd: string): Promise<CommandResult> {
  return runCommand(process.execPath, args, { cwd, timeoutMs: RUN_TIMEOUT_MS });
}

/** An empty project in `directory`, as `npm init` makes one: no "type", so .js files are CommonJS. */
function emptyProject(directory: string, name: string): void {
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, 'package.json'), `${JSON.stringify({ name, version: '1.0.0', private: true }, null, 2)}\n`);
}

/** Installed packages and their versions, from npm's hidden lockfile. */
function installedPackages(project: string): { path: string; version: string }[] {
  const lock = JSON.parse(readFileSync(join(project, 'node_modules/.package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
  return Object.entries(lock.packages)
    .filter(([path]) => path.startsWith('node_modules/'))
    .map(([path, entry]) => ({ path, version: entry.version ?? '' }));
}

/** Every file under `directory` (symbolic links not followed), with its size. */
function filesUnder(directory: string): { path: string; bytes: number }[] {
  const files: { path: string; bytes: number }[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...filesUnder(path));
    else files.push({ path, bytes: lstatSync(path).size });
  }
  return files;
}

function megabytes(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(2);
}

/** npm's output that a user would read as trouble. */
function expectQuietInstall(what: string, result: CommandResult): void {
  expect(result.code, explain(what, result)).toBe(0);
  expect(result.stderr, explain(what, result)).not.toMatch(/EBADENGINE|npm warn/i);
}

const workspace = mkdtempSync(join(tmpdir(), 'hearsay-package-'));
const tarballs = new Map<string, string>();
const packed = new Map<string, string[]>();

beforeAll(async () => {
  const packs = join(workspace, 'packs');
  mkdirSync(packs);
  const args = ['pack', ...PACKAGES.flatMap(({ name }) => ['--workspace', name]), '--pack-destination', packs, '--json'];
  const result = await npm(args, ROOT);
  expect(result.code, explain('npm pack', result)).toBe(0);
  for (const entry of JSON.parse(result.stdout) as { name: string; filename: string; size: number; files: { path: string }[] }[]) {
    tarballs.set(entry.name, join(packs, entry.filename));
    const paths = entry.files.map((file) => file.path);
    packed.set(entry.name, paths);
    console.log(`${entry.name}: ${entry.filename}, ${(entry.size / 1024).toFixed(0)} KB packed, ${paths.length} files`);
  }
}, NPM_TIMEOUT_MS + 10_000);

afterAll(() => {
  rmSync(workspace, { recursive: true, force: true });
});

describe('the packed tarballs', () => {
  it.each(PACKAGES)('$name holds its build, README and LICENSE, and nothing else of the repository', ({ name, directory, required }) => {
    const files = packed.get(name)!;
    expect(files).toEqual(expect.arrayContaining(['package.json', 'LICENSE', ...required]));
    expect(
      files.filter((file) => /^README(\.md)?$/i.test(file)),
      `${name} has no README: npm takes it from ${directory}/README.md`,
    ).toHaveLength(1);
    const stray = files.filter(
      (file) =>
        /\.(map|tsbuildinfo)$/.test(file) ||
        /(^|\/)(test|tests|__tests__|fixtures|src)\//.test(file) ||
        /\.(test|spec)\.[cm]?[jt]s$/.test(file) ||
        /bench/i.test(file) ||
        (/\.[cm]?ts$/.test(file) && !/\.d\.[cm]?ts$/.test(file)),
    );
    expect(stray).toEqual([]);
  });

  it.each(PACKAGES)('$name says where it comes from, lists its files and runs no script', async ({ name, directory }) => {
    const result = await runCommand('tar', ['-xzOf', tarballs.get(name)!, 'package/package.json'], { cwd: workspace, timeoutMs: RUN_TIMEOUT_MS });
    expect(result.code, explain('tar', result)).toBe(0);
    const manifest = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      name,
      repository: { type: 'git', url: expect.stringMatching(/^git\+https:\/\/github\.com\/.+\.git$/), directory },
      homepage: expect.stringMatching(/^https:\/\//),
      keywords: expect.arrayContaining([expect.any(String)]),
      files: expect.arrayContaining(['dist']),
      license: 'MIT',
    });
    const scripts = Object.keys((manifest.scripts as Record<string, string> | undefined) ?? {});
    expect(scripts.filter((script) => /^(pre|post)?(install|prepare|test)$/.test(script))).toEqual([]);
  });
});

describe('hearsay installed into an empty project', () => {
  const project = join(workspace, 'library');
  let install: CommandResult;

  beforeAll(async () => {
    emptyProject(project, 'uses-hearsay');
    install = await npm(['install', tarballs.get('hearsay')!, ...INSTALL_FLAGS], project);
  }, NPM_TIMEOUT_MS + 10_000);

  it('brings in a handful of small packages, no native code, and no warning', () => {
    expectQuietInstall('npm install hearsay', install);
    const packages = installedPackages(project);
    const files = filesUnder(join(project, 'node_modules'));
    const bytes = files.reduce((sum, file) => sum + file.bytes, 0);
    console.log(
      `hearsay installs ${packages.length} packages, ${megabytes(bytes)} MB: ${packages.map(({ path, version }) => `${path.replace('node_modules/', '')}@${version}`).join(', ')}`,
    );
    expect(packages.length).toBeLessThanOrEqual(10);
    expect(bytes).toBeLessThanOrEqual(5 * 1024 * 1024);
    expect(files.filter((file) => file.path.endsWith('.node'))).toEqual([]);
  });

  const CREATE_AND_SHUT_DOWN = [
    "  const node = await createNode({ name: 'check', bind: '127.0.0.1:0' });",
    "  console.log('listening on ' + node.address.host + ':' + node.address.port);",
    '  await node.shutdown();',
  ];
  it.each([
    ['CommonJS (require)', 'check.cjs', ["const { createNode } = require('hearsay');", '(async () => {', ...CREATE_AND_SHUT_DOWN, '})();']],
    ['an ES module (import)', 'check.mjs', ["import { createNode } from 'hearsay';", '{', ...CREATE_AND_SHUT_DOWN, '}']],
  ])('loads from %s and creates a node on 127.0.0.1', async (_, file, lines) => {
    writeFileSync(join(project, file), `${lines.join('\n')}\n`);
    const result = await node([file], project);
    expect(result.code, explain(file, result)).toBe(0);
    expect(result.stdout).toMatch(/^listening on 127\.0\.0\.1:[1-9]\d*\n$/);
    expect(result.stderr).toBe('');
  });

  it('type-checks in a TypeScript project compiled to CommonJS, which then runs', async () => {
    mkdirSync(join(project, 'src'));
    writeFileSync(
      join(project, 'src/main.ts'),
      [
        "import { createNode, type HearsayNode } from 'hearsay';",
        '',
        'async function main(): Promise<void> {',
        "  const node: HearsayNode = await createNode({ name: 'typescript', bind: '127.0.0.1:0' });",
        "  console.log('listening on ' + node.address.host + ':' + node.address.port);",
        '  await node.shutdown();',
        '}',
        'void main();',
        '',
      ].join('\n'),
    );
    // The repository's @types/node stands in for the project's own: installing it would add to the count above.
    const compilerOptions = {
      module: 'nodenext',
      target: 'es2022',
      strict: true,
      rootDir: 'src',
      outDir: 'out',
      typeRoots: [join(ROOT, 'node_modules/@types')],
      types: ['node'],
    };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['src'] }));
    const compiled = await node([TSC, '-p', project], project);
    expect(compiled.code, explain('tsc', compiled)).toBe(0);
    expect(readFileSync(join(project, 'out/main.js'), 'utf8')).toContain('require("hearsay")');
    const result = await node(['out/main.js'], project);
    expect(result.code, explain('out/main.js', result)).toBe(0);
    expect(result.stdout).toMatch(/^listening on 127\.0\.0\.1:[1-9]\d*\n$/);
  });
});

describe('hearsay-agent installed into an empty project', () => {
  const project = join(workspace, 'agent');
  let install: CommandResult;

  beforeAll(async () => {
    emptyProject(project, 'uses-hearsay-agent');
    install = await npm(['install', tarballs.get('hearsay')!, tarballs.get('hearsay-agent')!, ...INSTALL_FLAGS], project);
  }, NPM_TIMEOUT_MS + 10_000);

  it('installs without a warning on this Node, fastify kept off cookie@2 (which wants Node 22)', () => {
    expectQuietInstall('npm install hearsay-agent', install);
    const packages = installedPackages(project);
    const bytes = filesUnder(join(project, 'node_modules')).reduce((sum, file) => sum + file.bytes, 0);
    console.log(`hearsay-agent installs ${packages.length} packages, ${megabytes(bytes)} MB`);
    const versionsOf = (name: string) => packages.filter(({ path }) => path.endsWith(`node_modules/${name}`)).map(({ version }) => version);
    expect(versionsOf('light-my-request')).toEqual(['6.6.0']);
    // light-my-request 6.8 brings cookie@2, whose engines say Node ≥ 22: the agent pins 6.6.0.
    expect(versionsOf('cookie').filter((version) => Number(version.split('.')[0]) >= 2)).toEqual([]);
    expect(versionsOf('hearsay-experiments')).toEqual([]);
  });

  it(`runs the hearsay command: --version prints ${AGENT_VERSION}`, async () => {
    const result = await runCommand(join(project, 'node_modules/.bin/hearsay'), ['--version'], { cwd: project, timeoutMs: RUN_TIMEOUT_MS });
    expect(result.code, explain('hearsay --version', result)).toBe(0);
    expect(result.stdout.trim()).toBe(AGENT_VERSION);
  });

  it('says to install hearsay-experiments for an experiment, with exit code 2', async () => {
    const result = await runCommand(join(project, 'node_modules/.bin/hearsay'), ['experiment', 'detection'], { cwd: project, timeoutMs: RUN_TIMEOUT_MS });
    expect(result.code, explain('hearsay experiment detection', result)).toBe(2);
    expect(result.stderr).toContain('npm install hearsay-experiments');
  });
});
