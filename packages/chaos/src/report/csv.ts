/** results.csv: the rows as written by the report, and read back so that it can be redrawn. */
import { readFile } from 'node:fs/promises';
import { parseCsv, toCsv } from 'hearsay-experiments/csv';
import { RESULT_COLUMNS, type ResultRow, SCENARIO_NAMES, SYSTEM_NAMES } from '../types.js';
import { sortResults } from './rows.js';

/** Every column, nulls as empty cells, in the plan's order whatever order the runs finished in. */
export function resultsCsv(rows: readonly ResultRow[]): string {
  return toCsv(
    RESULT_COLUMNS,
    sortResults(rows).map((row) => ({ ...row })),
  );
}

/** Columns that every row has; the rest are figures, null where they do not apply. */
const REQUIRED_NUMBERS = ['param', 'rep', 'seed', 'nodes', 'faultS'] as const;

/** Parses what resultsCsv wrote; throws on a row that is not a ResultRow, naming its line. */
export function parseResults(text: string, source = 'results.csv'): ResultRow[] {
  return parseCsv(text).map((cells, index) => {
    const where = `${source}, line ${index + 2}`;
    const { scenario, system } = cells;
    if (!(SCENARIO_NAMES as readonly unknown[]).includes(scenario)) throw new Error(`${where}: unknown scenario ${JSON.stringify(scenario)}`);
    if (!(SYSTEM_NAMES as readonly unknown[]).includes(system)) throw new Error(`${where}: unknown system ${JSON.stringify(system)}`);
    const row: Record<string, unknown> = {};
    for (const column of RESULT_COLUMNS) {
      const value = cells[column] ?? null;
      // A variant such as `100` would come back as a number: labels stay text.
      if (column === 'variant') row[column] = String(value ?? '');
      else if (column === 'scenario' || column === 'system') row[column] = value;
      else if (value === null && !(REQUIRED_NUMBERS as readonly string[]).includes(column)) row[column] = null;
      else if (typeof value === 'number') row[column] = value;
      else throw new Error(`${where}: ${column} should be a number, not ${JSON.stringify(value)}`);
    }
    return row as unknown as ResultRow;
  });
}

export async function loadResults(csvPath: string): Promise<ResultRow[]> {
  return parseResults(await readFile(csvPath, 'utf8'), csvPath);
}
