/** Selecting and grouping result rows the way the report reads them: scenario, variant, system. */
import { SCENARIO_NAMES, SYSTEM_NAMES, type ResultRow, type ScenarioName, type SystemName } from '../types.js';

/** One variant of a scenario as run by any number of systems, repetitions included. */
export interface VariantRows {
  readonly variant: string;
  readonly param: number;
  readonly rows: readonly ResultRow[];
}

/** The scenarios present, in the plan's order. */
export function scenariosIn(rows: readonly ResultRow[]): ScenarioName[] {
  return SCENARIO_NAMES.filter((scenario) => rows.some((row) => row.scenario === scenario));
}

/** The systems present, in the vocabulary's order (hearsay, serf, mixed, sim). */
export function systemsIn(rows: readonly ResultRow[]): SystemName[] {
  return SYSTEM_NAMES.filter((system) => rows.some((row) => row.system === system));
}

/** A scenario's variants by their parameter (loss %, pause s), then label. */
export function variantsOf(rows: readonly ResultRow[], scenario: ScenarioName): VariantRows[] {
  const variants = new Map<string, ResultRow[]>();
  for (const row of rows) {
    if (row.scenario !== scenario) continue;
    const group = variants.get(row.variant) ?? [];
    group.push(row);
    variants.set(row.variant, group);
  }
  return [...variants]
    .map(([variant, group]) => ({ variant, param: group[0]!.param, rows: group }))
    .sort((a, b) => a.param - b.param || a.variant.localeCompare(b.variant));
}

export function ofSystem(rows: readonly ResultRow[], system: SystemName): ResultRow[] {
  return rows.filter((row) => row.system === system);
}

/** The CSV's order: the plan's scenarios, variants by parameter, systems, repetitions; independent of run order. */
export function sortResults(rows: readonly ResultRow[]): ResultRow[] {
  const rank = <T>(list: readonly T[], value: T) => list.indexOf(value);
  return [...rows].sort(
    (a, b) =>
      rank(SCENARIO_NAMES, a.scenario) - rank(SCENARIO_NAMES, b.scenario) ||
      a.param - b.param ||
      a.variant.localeCompare(b.variant) ||
      rank(SYSTEM_NAMES, a.system) - rank(SYSTEM_NAMES, b.system) ||
      a.rep - b.rep,
  );
}
