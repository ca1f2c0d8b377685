import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { OptionError } from 'hearsay';

/** The event types Serf's agent passes to handlers, as SERF_EVENT names them. */
export const SERF_EVENT_TYPES = ['member-join', 'member-leave', 'member-failed', 'member-update', 'member-reap', 'user', 'query'] as const;
export type SerfEventType = (typeof SERF_EVENT_TYPES)[number];

/** One element of a filter list: an event type (`*`: any), and for `user:NAME` / `query:NAME` a name (empty: any). */
export interface EventFilter {
  readonly event: SerfEventType | '*';
  readonly name: string;
}

/** A shell command and the events it runs for. */
export interface EventHandlerSpec {
  readonly filters: readonly EventFilter[];
  readonly command: string;
  /** As the operator wrote it, for logs. */
  readonly source: string;
  /** From `--query-handler *=COMMAND`: answers only the queries no other handler takes. */
  readonly fallback?: boolean;
}

/** What a handler is asked to run for: its SERF_EVENT and, for user events and queries, the name. */
export interface EventKey {
  readonly type: SerfEventType;
  readonly name?: string;
}

/** Serf's filter semantics: `*` takes anything; `user:NAME` and `query:NAME` only that name. */
export function filterMatches(filter: EventFilter, event: EventKey): boolean {
  if (filter.event === '*') return true;
  if (filter.event !== event.type) return false;
  return filter.name === '' || filter.name === event.name;
}

export function handlerMatches(spec: EventHandlerSpec, event: EventKey): boolean {
  return spec.filters.some((filter) => filterMatches(filter, event));
}

/** Serf's `-event-handler` list: `member-join,user:deploy`, `*`, or empty for everything. */
export function parseEventFilters(text: string, source: string): EventFilter[] {
  if (text === '') return [{ event: '*', name: '' }];
  return text.split(',').map((item) => {
    const colon = item.indexOf(':');
    const type = colon < 0 ? item : item.slice(0, colon);
    const name = colon < 0 ? '' : item.slice(colon + 1);
    if (type === '*' && colon < 0) return { event: '*', name: '' };
    if (!(SERF_EVENT_TYPES as readonly string[]).includes(type)) {
      const what = item === '' ? 'an empty event type' : `unknown event type "${item}"`;
      throw new OptionError(`event handler "${source}": ${what}; use ${SERF_EVENT_TYPES.join(', ')}, user:NAME, query:NAME or *, comma-separated`);
    }
    if (colon >= 0 && type !== 'user' && type !== 'query') {
      throw new OptionError(`event handler "${source}": "${item}": only user:NAME and query:NAME take a name`);
    }
    return { event: type as SerfEventType, name };
  });
}

/**
 * `[FILTER=]COMMAND`, as Serf's `-event-handler`: the filter is what comes before the first `=`.
 * A command that holds a `=` itself (`env X=1 ./h.sh`) is written after a filter (`*=env X=1 ./h.sh`).
 * The command's first word must be a shell builtin or an executable (on PATH, or a path), so that
 * a typo is refused at start rather than failing at every event.
 */
export function parseEventHandler(text: string, env: NodeJS.ProcessEnv = process.env): EventHandlerSpec {
  const eq = text.indexOf('=');
  const filters = eq < 0 ? [{ event: '*' as const, name: '' }] : parseEventFilters(text.slice(0, eq), text);
  const command = (eq < 0 ? text : text.slice(eq + 1)).trim();
  if (command === '') throw new OptionError(`event handler "${text}" has no command: use [FILTER=]COMMAND, like member-join,member-leave=./members.sh`);
  checkCommand(command, text, env);
  return { filters, command, source: text };
}

/** Words /bin/sh runs itself (POSIX special and regular builtins, reserved words), with no file on PATH needed. */
const SHELL_WORDS = new Set(
  (
    '. : [ alias bg break cd command continue echo eval exec exit export false fc fg getopts hash jobs kill local printf pwd read readonly ' +
    'return set shift test times trap true type ulimit umask unalias unset wait if while until for case { ! time'
  ).split(' '),
);

/**
 * Refuses a command whose first word the shell could not run: neither a builtin nor an executable
 * file. Words the shell expands first (quotes, `$`, backquotes, globs, `~`) cannot be judged here
 * and pass, as do assignments (`X=1 cmd`).
 */
export function checkCommand(command: string, source: string, env: NodeJS.ProcessEnv = process.env): void {
  const word = /^[^\s;&|<>()]+/.exec(command.trimStart())?.[0];
  if (word === undefined || /["'`$\\*?[~=]/.test(word) || SHELL_WORDS.has(word)) return;
  if (word.includes('/')) {
    if (!executable(word)) throw new OptionError(`event handler "${source}": ${word} is not an executable file`);
    return;
  }
  const path = (env.PATH ?? '').split(delimiter).filter((dir) => dir !== '');
  if (!path.some((dir) => executable(join(dir, word)))) {
    throw new OptionError(`event handler "${source}": command "${word}" is neither a shell builtin nor found on PATH (${path.join(delimiter)})`);
  }
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
