/**
 * Text that came from the network (member names, tag values, query answers, an agent's error
 * messages) made safe to print on a terminal. A peer chooses its own name and tags, so without
 * this a member named `\x1b]52;c;…\x07` writes the operator's clipboard and `\x1b[2J` clears the
 * screen. Every control character is shown escaped instead: C0 (ESC, BEL, newlines …), DEL,
 * C1 (U+0080–U+009F, which terminals may read as 8-bit CSI 0x9b and OSC 0x9d), and the Unicode
 * bidirectional overrides and isolates, which reorder what is shown around them.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/gu;
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/gu;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escaped(char: string): string {
  const code = char.codePointAt(0)!;
  return NAMED[char] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/** One line of text for a terminal: every control character, newlines included, escaped (`\x1b`, `\n`, `\u202e`). */
export function terminalText(text: string): string {
  return text.replace(CONTROL, escaped);
}

/** A message of several lines for a terminal: newlines kept, every other control character escaped. */
export function terminalLines(text: string): string {
  return text.replace(CONTROL_BUT_NEWLINE, escaped);
}
