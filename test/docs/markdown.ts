/** Just enough Markdown for the docs tests: headings with GitHub's anchors, sections, and links. */

export interface Heading {
  readonly level: number;
  /** The text as rendered: code spans and links reduced to their text. */
  readonly text: string;
  /** The anchor GitHub gives it (`#…`), made unique as GitHub does with -1, -2 … */
  readonly slug: string;
  /** Index of its line. */
  readonly line: number;
}

/** Inline Markdown reduced to the text it renders. */
function plain(text: string): string {
  return text
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/[*_]{1,2}([^*_]+)[*_]{1,2}/g, '$1')
    .trim();
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens (github-slugger). */
export function slugOf(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** The lines of a document with fenced code blocks blanked out (a `#` in a shell block is no heading). */
function proseLines(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line;
  });
}

export function headingsOf(markdown: string): Heading[] {
  const seen = new Map<string, number>();
  const headings: Heading[] = [];
  proseLines(markdown).forEach((line, index) => {
    const match = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (!match) return;
    const text = plain(match[2]!);
    const base = slugOf(text);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    headings.push({ level: match[1]!.length, text, slug: count === 0 ? base : `${base}-${count}`, line: index });
  });
  return headings;
}

/** The text under a heading, down to the next heading of the same or a higher level. */
export function sectionOf(markdown: string, heading: Heading): string {
  const lines = markdown.split('\n');
  const next = headingsOf(markdown).find((other) => other.line > heading.line && other.level <= heading.level);
  return lines.slice(heading.line, next ? next.line : lines.length).join('\n');
}

/** Link targets outside code: `[text](target)`, images included. */
export function linksOf(markdown: string): string[] {
  const prose = proseLines(markdown)
    .join('\n')
    .replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => match[1]!);
}
