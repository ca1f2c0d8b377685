import type { Member } from './api.js';

/** One Server-Sent Event: `event: <type>` and `data: <JSON>`. */
export interface ServerEvent {
  type: string;
  data: string;
}

/** Where a line ends in an event stream: CRLF, CR or LF. */
const LINE_END = /\r\n|\r|\n/;

/**
 * Splits a Server-Sent Events stream into events. Feed it text as it arrives; it returns the
 * events completed by that text (an event ends at a blank line).
 */
export class EventStreamParser {
  private buffer = '';
  private type = '';
  private data: string[] = [];

  push(text: string): ServerEvent[] {
    this.buffer += text;
    const events: ServerEvent[] = [];
    for (let newline = this.buffer.search(LINE_END); newline >= 0; newline = this.buffer.search(LINE_END)) {
      const line = this.buffer.slice(0, newline);
      const width = this.buffer.startsWith('\r\n', newline) ? 2 : 1;
      // A lone \r at the end may be the first half of \r\n: wait for more.
      if (width === 1 && this.buffer[newline] === '\r' && newline === this.buffer.length - 1) break;
      this.buffer = this.buffer.slice(newline + width);
      if (line === '') {
        if (this.data.length > 0) events.push({ type: this.type || 'message', data: this.data.join('\n') });
        this.type = '';
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue; // comment (keep-alive)
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') this.type = value;
      else if (field === 'data') this.data.push(value);
    }
    return events;
  }
}

/** A membership event seen by one observer. */
export interface MemberEvent {
  at: number;
  observer: string;
  type: string;
  member: string;
}

/**
 * Follows GET /v1/events of one agent until the signal aborts or the stream ends. Resolves when
 * the stream is over; rejects if it cannot be opened.
 */
export async function followEvents(
  base: string,
  observer: string,
  signal: AbortSignal,
  onEvent: (event: MemberEvent) => void,
  onOpen: () => void = () => {},
): Promise<void> {
  const response = await fetch(`${base}/v1/events`, { signal, headers: { accept: 'text/event-stream' } });
  if (!response.ok || !response.body) throw new Error(`GET /v1/events answered HTTP ${response.status}`);
  onOpen();
  const parser = new EventStreamParser();
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      for (const event of parser.push(decoder.decode(value, { stream: true }))) {
        onEvent({ at: Date.now(), observer, type: event.type, member: subject(event) });
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/** What an event is about: the member's name, or for a protocol switch the new detector. */
function subject(event: ServerEvent): string {
  try {
    const data = JSON.parse(event.data) as Partial<Member> & { protocol?: string };
    return (event.type === 'protocol' ? data.protocol : data.name) ?? '?';
  } catch {
    return '?'; // not JSON: show the event with an unknown subject
  }
}

/** The events that explain the change between two polls of one observer's members. */
export function diffEvents(observer: string, before: Member[], after: Member[], at: number): MemberEvent[] {
  const previous = new Map(before.map((m) => [m.name, m.status]));
  const events: MemberEvent[] = [];
  for (const m of after) {
    const was = previous.get(m.name);
    if (was === m.status) continue;
    const type = was === undefined ? (m.status === 'alive' ? 'join' : m.status) : m.status;
    events.push({ at, observer, type, member: m.name });
  }
  return events;
}
