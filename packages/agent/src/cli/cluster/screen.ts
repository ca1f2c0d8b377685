import { stripAnsi } from './render.js';

const ESC = '\x1b[';

/** Cuts a line to `width` visible characters, keeping colour codes (and resetting at the cut). */
export function fitLine(line: string, width: number): string {
  if (stripAnsi(line).length <= width) return line;
  let out = '';
  let visible = 0;
  for (let i = 0; i < line.length && visible < width; ) {
    const sequence = /^\x1b\[[0-9;?]*[A-Za-z]/.exec(line.slice(i));
    if (sequence) {
      out += sequence[0];
      i += sequence[0].length;
    } else {
      out += line[i];
      visible++;
      i++;
    }
  }
  return `${out}${ESC}0m`;
}

/**
 * Redraws a block of lines in place with ANSI cursor control: back up over the previous frame,
 * rewrite each line (clearing what is left of it), clear below. On anything but a terminal it
 * prints each frame that differs from the last one, after a blank line.
 */
export class Screen {
  private previousLines = 0;
  private previousBody = '';
  private hidden = false;

  constructor(private readonly out: NodeJS.WriteStream) {}

  draw(lines: string[]): void {
    if (!this.out.isTTY) {
      const body = lines.slice(1).join('\n');
      if (body === this.previousBody) return;
      this.out.write(`${this.previousBody === '' ? '' : '\n'}${lines.join('\n')}\n`);
      this.previousBody = body;
      return;
    }
    const width = this.out.columns || 80;
    const height = this.out.rows || 24;
    const shown = lines.slice(0, Math.max(1, height - 1)).map((line) => fitLine(line, width));
    let text = this.hidden ? '' : `${ESC}?25l`;
    this.hidden = true;
    if (this.previousLines > 0) text += `${ESC}${this.previousLines}F`;
    text += shown.map((line) => `${line}${ESC}K\n`).join('');
    text += `${ESC}J`;
    this.out.write(text);
    this.previousLines = shown.length;
  }

  /** Shows the cursor again; the last frame stays on the screen. */
  done(): void {
    if (this.hidden) this.out.write(`${ESC}?25h`);
    this.hidden = false;
  }
}
