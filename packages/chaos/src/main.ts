#!/usr/bin/env node
/**
 * `npm run chaos [-- --scenario NAME --nodes N --duration D …]`: runs the scenarios against
 * hearsay agents, Debian's `serf` agents, mixed clusters and the simulator, and writes the
 * results, figures and report (docs/reliability/ by default).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, release } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseDuration } from 'hearsay-agent/scripting';
import { cleanUpOnExit } from './lab/cleanup.js';
import { labUnavailable, removeStaleLabs } from './lab/namespaces.js';
import { loadResults, resultsCsv, writeReport } from './report/index.js';
import { labFigures } from './scenarios/lab-figures.js';
import { runInLab } from './scenarios/lab-run.js';
import { planVariants } from './scenarios/plan.js';
import { simulateScenario } from './sim/index.js';
import { RESULT_COLUMNS, type ResultRow, type RunFacts, SCENARIO_NAMES, type ScenarioName, type ScenarioSpec, SYSTEM_NAMES, type SystemName } from './types.js';

interface ChaosFlags {
  scenario?: ScenarioName[];
  systems: SystemName[];
  nodes: number;
  duration?: number;
  repeat: number;
  seed: number;
  parallel?: boolean;
  out: string;
  reportOnly?: string;
}

const listOf =
  <T extends string>(choices: readonly T[], what: string) =>
  (text: string): T[] => {
    const items = text.split(',').map((item) => item.trim());
    const unknown = items.find((item) => !choices.includes(item as T));
    if (unknown !== undefined) throw new InvalidArgumentError(`${what} "${unknown}" is unknown: use ${choices.join(', ')} (a comma list)`);
    return items as T[];
  };

const wholeNumber = (min: number, max: number) => (text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new InvalidArgumentError(`"${text}" must be a whole number from ${min} to ${max}`);
  return value;
};

const positiveDuration = (text: string) => {
  const value = parseDuration(text);
  if (value < 1000) throw new InvalidArgumentError(`"${text}" is too short for a fault window: at least 1s`);
  return value;
};

function machineFacts(): Record<string, string> {
  const firstLine = (command: string, args: string[]) => {
    try {
      return execFileSync(command, args, { encoding: 'utf8' }).split('\n')[0]!.trim();
    } catch {
      return 'not available';
    }
  };
  return {
    serf: firstLine('serf', ['version']),
    node: process.version,
    kernel: release(),
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  };
}

/** One variant, one repetition, every system asked: the lab's side by side or one after another, the simulator's at once. */
async function runVariant(spec: ScenarioSpec, rep: number, flags: ChaosFlags): Promise<ResultRow[]> {
  const lab = flags.systems.filter((s): s is Exclude<SystemName, 'sim'> => s !== 'sim');
  const tell = (text: string) => process.stderr.write(`chaos: ${spec.variant} #${rep}: ${text}\n`);
  const inLab = async (system: Exclude<SystemName, 'sim'>) => {
    const record = await runInLab({ spec, rep, system, label: system.slice(0, 1), progress: tell });
    const row = labFigures(record);
    tell(`${system}: ${summary(row)}`);
    return row;
  };
  const rows: ResultRow[] = [];
  if (flags.systems.includes('sim')) {
    const row = simulateScenario(spec, rep);
    tell(`sim: ${summary(row)}`);
    rows.push(row);
  }
  if (flags.parallel) rows.push(...(await Promise.all(lab.map(inLab))));
  else for (const system of lab) rows.push(await inLab(system));
  return rows;
}

/** The figures a row has, as `name=value` pairs. */
function summary(row: ResultRow): string {
  return RESULT_COLUMNS.slice(8)
    .filter((column) => row[column] !== null)
    .map((column) => `${column}=${typeof row[column] === 'number' ? Number((row[column] as number).toFixed(2)) : row[column]}`)
    .join(' ');
}

function commandLine(): string {
  return ['npm', 'run', 'chaos', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
}

async function main(flags: ChaosFlags): Promise<void> {
  if (flags.reportOnly !== undefined) {
    const dir = resolve(flags.reportOnly);
    const facts = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')) as RunFacts;
    await writeReport(dir, await loadResults(join(dir, 'results.csv')), facts);
    process.stderr.write(`chaos: report written again in ${dir}\n`);
    return;
  }
  if (flags.systems.some((s) => s !== 'sim')) {
    const why = await labUnavailable();
    if (why) {
      process.stderr.write(`chaos: ${why}; the simulator alone runs with --systems sim\n`);
      process.exitCode = 1;
      return;
    }
    cleanUpOnExit();
    const stale = await removeStaleLabs();
    if (stale.length > 0) process.stderr.write(`chaos: removed ${stale.length} namespaces left by a lab that was killed\n`);
  }
  const specs = planVariants({
    nodes: flags.nodes,
    seed: flags.seed,
    ...(flags.duration !== undefined ? { faultMs: flags.duration } : {}),
    ...(flags.scenario ? { scenarios: flags.scenario } : {}),
  });
  const out = resolve(flags.out);
  await mkdir(out, { recursive: true });
  const startedAt = new Date();
  const rows: ResultRow[] = [];
  for (let rep = 1; rep <= flags.repeat; rep++) {
    for (const spec of specs) {
      rows.push(...(await runVariant(spec, rep, flags)));
      // What is measured is kept as it comes: a run stopped half-way still leaves its rows.
      await writeFile(join(out, 'results.csv'), resultsCsv(rows));
    }
  }
  const facts: RunFacts = { command: commandLine(), startedAt: startedAt.toISOString(), durationMs: Date.now() - startedAt.getTime(), machine: machineFacts() };
  await writeFile(join(out, 'run.json'), `${JSON.stringify(facts, null, 2)}\n`);
  await writeReport(out, rows, facts);
  process.stderr.write(`chaos: ${rows.length} rows in ${((Date.now() - startedAt.getTime()) / 60_000).toFixed(1)} min; report in ${out}\n`);
}

const program = new Command('chaos')
  .description('hearsay and Serf side by side under loss, partitions, pauses and churn, in network namespaces (root), with the simulator beside them')
  .addOption(
    new Option('--scenario <names>', `scenarios to run (comma list of ${SCENARIO_NAMES.join(', ')}; default all)`).argParser(
      listOf(SCENARIO_NAMES, 'scenario'),
    ),
  )
  .addOption(
    new Option('--systems <names>', `systems (comma list of ${SYSTEM_NAMES.join(', ')})`).argParser(listOf(SYSTEM_NAMES, 'system')).default([...SYSTEM_NAMES]),
  )
  .addOption(new Option('--nodes <n>', 'members per cluster').argParser(wholeNumber(3, 64)).default(16))
  .addOption(new Option('--duration <duration>', "every fault window but the pauses' (default: the issue's, 60s to 5m)").argParser(positiveDuration))
  .addOption(new Option('--repeat <n>', 'repetitions of every variant, each with the next seed').argParser(wholeNumber(1, 100)).default(1))
  .addOption(new Option('--seed <n>', 'seed of the scenarios’ random choices').argParser(wholeNumber(0, 2 ** 31 - 1)).default(1))
  .option('--parallel', 'run the lab’s systems side by side (one lab each) instead of one after another')
  .option('--out <dir>', 'where the results, figures and report go', 'docs/reliability')
  .option('--report-only <dir>', 'write the report again from DIR/results.csv and DIR/run.json, running nothing')
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(`chaos: ${text.replace(/^error: /, '')}`) })
  .exitOverride((error) => process.exit(error.exitCode === 1 ? 2 : error.exitCode))
  .action((flags: ChaosFlags) => main(flags));

await program.parseAsync();
