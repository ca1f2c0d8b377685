import type { IncomingQuery, Member } from 'hearsay';
import type { EventKey, SerfEventType } from './event-handler-spec.js';

/** Peer-chosen text put in a handler's environment is cut to this many characters. */
const MAX_ENV_CHARS = 512;

/**
 * Text from a peer made fit for an environment variable: a NUL cannot be passed to a process at
 * all (spawn throws), and other control characters (newlines, terminal escapes) would mislead
 * scripts that split, log or print it, so each becomes `\xNN`; the result is cut to 512 characters.
 */
export function envSafe(text: string): string {
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return escaped.length <= MAX_ENV_CHARS
    ? escaped
    : `${Array.from(escaped)
        .slice(0, MAX_ENV_CHARS - 1)
        .join('')}…`;
}

/** An event as handlers receive it: member events batched by the coalescer, as Serf's are. */
export type HandlerEvent =
  | { readonly kind: 'member'; readonly type: Exclude<SerfEventType, 'user' | 'query'>; readonly members: readonly Member[] }
  | { readonly kind: 'user'; readonly name: string; readonly payload: Uint8Array; readonly ltime: bigint }
  | { readonly kind: 'query'; readonly query: IncomingQuery };

export function eventKey(event: HandlerEvent): EventKey {
  switch (event.kind) {
    case 'member':
      return { type: event.type };
    case 'user':
      return { type: 'user', name: event.name };
    case 'query':
      return { type: 'query', name: event.query.name };
  }
}

/** A tag name as Serf's agent puts it in SERF_TAG_<NAME>: upper case, every character outside [A-Z0-9_] an underscore. */
export function tagVariable(tag: string): string {
  return `SERF_TAG_${tag.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
}

/**
 * The variables Serf's agent gives a handler (cmd/serf/command/agent/invoke.go): the event type,
 * this node's name, role and tags, and the user event's or query's name and Lamport time; plus
 * HEARSAY_NODE, and for queries the HEARSAY_QUERY_* that --query-handler has always set. Text a
 * peer chose is made safe for an environment (envSafe): Serf passes it raw, but a NUL cannot be
 * passed at all.
 */
export function handlerEnvironment(self: Member, event: HandlerEvent): Record<string, string> {
  const env: Record<string, string> = {
    SERF_EVENT: eventKey(event).type,
    SERF_SELF_NAME: envSafe(self.name),
    SERF_SELF_ROLE: envSafe(self.tags.role ?? ''),
    HEARSAY_NODE: envSafe(self.name),
  };
  for (const [tag, value] of Object.entries(self.tags)) env[tagVariable(tag)] = envSafe(value);
  if (event.kind === 'user') {
    env.SERF_USER_EVENT = envSafe(event.name);
    env.SERF_USER_LTIME = String(event.ltime);
  } else if (event.kind === 'query') {
    const { query } = event;
    env.SERF_QUERY_NAME = envSafe(query.name);
    env.SERF_QUERY_LTIME = String(query.ltime);
    env.HEARSAY_QUERY_NAME = env.SERF_QUERY_NAME;
    env.HEARSAY_QUERY_FROM = envSafe(query.from);
    env.HEARSAY_QUERY_LTIME = env.SERF_QUERY_LTIME;
  }
  return env;
}

/** Serf's eventClean: tabs and newlines escaped, so that a line stays one member and a tab one field. */
function clean(text: string): string {
  return text.replaceAll('\t', '\\t').replaceAll('\n', '\\n');
}

/**
 * One line per member, `NAME\tADDRESS\tROLE\tTAGS\n`, as Serf's agent writes a member event on
 * stdin: the address without its port, the tags `k=v,k2=v2` (Serf's order is Go's random map
 * order; sorted here, so that runs compare).
 */
export function memberLines(members: readonly Member[]): string {
  return members
    .map((member) => {
      const tags = Object.keys(member.tags)
        .sort()
        .map((tag) => `${tag}=${member.tags[tag]}`)
        .join(',');
      return `${clean(member.name)}\t${member.address}\t${clean(member.tags.role ?? '')}\t${clean(tags)}\n`;
    })
    .join('');
}

/** What the handler reads on stdin: the member lines, or the payload with a newline added if it has none (shells' `read` needs one), as Serf does. */
export function handlerStdin(event: HandlerEvent): Buffer {
  if (event.kind === 'member') return Buffer.from(memberLines(event.members));
  const payload = Buffer.from(event.kind === 'user' ? event.payload : event.query.payload);
  return payload.length > 0 && payload[payload.length - 1] !== 0x0a ? Buffer.concat([payload, Buffer.from('\n')]) : payload;
}
