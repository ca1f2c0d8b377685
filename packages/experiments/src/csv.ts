import type { Row } from './types.js';

/** Numbers keep 3 decimals (ms to the microsecond): enough, and stable to compare. */
function cell(value: Row[string] | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(3)));
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** RFC 4180 CSV with a header; empty cells for missing values. */
export function toCsv(columns: readonly string[], rows: readonly Row[]): string {
  const lines = [columns.join(',')];
  for (const row of rows) lines.push(columns.map((column) => cell(row[column])).join(','));
  return `${lines.join('\n')}\n`;
}

/** Sorts rows by the given columns (numbers numerically), so output order never depends on timing. */
export function sortRows(rows: Row[], by: readonly string[]): Row[] {
  const compare = (a: Row[string] | undefined, b: Row[string] | undefined): number => {
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    return String(a ?? '').localeCompare(String(b ?? ''));
  };
  return [...rows].sort((x, y) => {
    for (const column of by) {
      const order = compare(x[column], y[column]);
      if (order !== 0) return order;
    }
    return 0;
  });
}

/** Reads back what toCsv wrote: empty cells are null, numeric cells numbers. */
export function parseCsv(text: string): Row[] {
  const [head, ...lines] = text.trimEnd().split('\n');
  const columns = splitLine(head ?? '');
  return lines.map((line) => {
    const cells = splitLine(line);
    return Object.fromEntries(columns.map((column, i) => [column, value(cells[i] ?? '')]));
  });
}

function value(text: string): Row[string] {
  if (text === '') return null;
  const number = Number(text);
  return Number.isFinite(number) && /^-?[\d.]+(e[+-]?\d+)?$/i.test(text) ? number : text;
}

/** One CSV line into cells, with RFC 4180 quotes. */
function splitLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}
