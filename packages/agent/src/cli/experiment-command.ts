import { availableParallelism } from 'node:os';
import { Argument, Command, Option } from 'commander';
import type { ExperimentName } from 'hearsay-experiments/names';
import { parseDuration, parsePositiveCount, parseProbability, parseSeed } from './parse.js';

interface ExperimentFlags {
  out?: string;
  seeds?: number;
  seedBase: number;
  quick?: boolean;
  replot?: boolean;
  workers: number;
  nodes?: number;
  loss?: number;
  budget: number;
}

const DESCRIPTION = 'run a research experiment on the simulator and write CSV, SVG/PNG plots and a Markdown report';

/**
 * The experiments live in the optional hearsay-experiments package (its plotting stack is large):
 * the names, from a module of their own, or null when the package is not installed.
 */
export async function experimentNames(): Promise<readonly ExperimentName[] | null> {
  try {
    return (await import('hearsay-experiments/names')).EXPERIMENT_NAMES;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes("'hearsay-experiments'")) return null;
    throw error;
  }
}

export function experimentCommand(names: readonly ExperimentName[] | null): Command {
  if (names === null) {
    const missing: Command = new Command('experiment')
      .description(`${DESCRIPTION} (needs the hearsay-experiments package)`)
      .argument('[arguments...]')
      .allowUnknownOption()
      .helpOption(false)
      .action(() => missing.error('error: hearsay experiment needs the hearsay-experiments package: npm install hearsay-experiments', { exitCode: 2 }));
    return missing;
  }
  const command = new Command('experiment')
    .description(DESCRIPTION)
    .addArgument(new Argument('<name>', 'the experiment').choices(names))
    .addOption(new Option('--out <dir>', 'where to write the results (default: experiments-out/<name>)'))
    .addOption(new Option('--seeds <k>', 'seeds per point: base … base+k−1 (default 3; 2 with --quick)').argParser(parsePositiveCount))
    .addOption(new Option('--seed-base <n>', 'the first seed').argParser(parseSeed).default(1))
    .addOption(new Option('--quick', 'a tiny grid with short runs, in seconds (for tests and a first look)'))
    .addOption(new Option('--replot', 'redraw the figures and report in --out from its CSV and run.json, without simulating'))
    .addOption(new Option('--workers <n>', 'worker threads running simulations').argParser(parsePositiveCount).default(availableParallelism(), 'one per core'))
    .addOption(new Option('--nodes <n>', 'stress only: cluster size (default 100; 20 with --quick)').argParser(parsePositiveCount))
    .addOption(new Option('--loss <p>', 'stress only: packet loss (default 0.1)').argParser(parseProbability))
    .addOption(
      new Option('--budget <duration>', 'stress only: no new search round after this much wall time').argParser(parseDuration).default(20 * 60_000, '20m'),
    )
    .action(async (name: ExperimentName, flags: ExperimentFlags) => {
      if (name !== 'stress') {
        for (const flag of ['nodes', 'loss'] as const) {
          if (flags[flag] !== undefined) command.error(`error: --${flag} applies to the stress experiment only, not to "${name}"`, { exitCode: 2 });
        }
      }
      const out = flags.out ?? `experiments-out/${name}`;
      // Loaded here: the plotting stack (vega, resvg) would otherwise weigh on every command, the agent's too.
      const { EXPERIMENTS, replotExperiment, runExperiment } = await import('hearsay-experiments');
      if (flags.replot) return replotExperiment(EXPERIMENTS[name], out);
      const quick = flags.quick ?? false;
      const count = flags.seeds ?? (quick ? 2 : 3);
      const seeds = Array.from({ length: count }, (_, i) => flags.seedBase + i);
      await runExperiment(EXPERIMENTS[name], {
        settings: { quick, seeds, nodes: flags.nodes ?? (quick ? 20 : 100), loss: flags.loss ?? 0.1, searchBudgetMs: flags.budget },
        out,
        workers: flags.workers,
        command: `hearsay ${process.argv.slice(2).join(' ')}`,
      });
    });
  return command;
}
