import type { Row } from './types.js';

/** Rows grouped by a key, groups in first-seen order. */
export function groupBy(rows: readonly Row[], key: (row: Row) => string): Map<string, Row[]> {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const k = key(row);
    let group = groups.get(k);
    if (!group) {
      group = [];
      groups.set(k, group);
    }
    group.push(row);
  }
  return groups;
}

/** A numeric cell, or null when empty or not a number. */
export function num(row: Row, column: string): number | null {
  const value = row[column];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export function numbers(rows: readonly Row[], column: string): number[] {
  return rows.map((row) => num(row, column)).filter((v): v is number => v !== null);
}

/** The distinct values of a column, sorted. */
export function distinct<T extends string | number>(rows: readonly Row[], column: string): T[] {
  const values = [...new Set(rows.map((row) => row[column]))].filter((v) => v !== null) as T[];
  return values.sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
}

export function markdownTable(header: string[], body: (string | number)[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...body.map((cells) => `| ${cells.join(' | ')} |`)].join('\n');
}

/** A number to `digits` significant figures, for prose and tables. */
export function fmt(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return Number(value.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 6 });
}
