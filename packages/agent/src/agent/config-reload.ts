import { isDeepStrictEqual } from 'node:util';
import type { AgentOptions } from './agent.js';
import { parseEventHandler, type EventHandlerSpec } from './event-handler-spec.js';
import { parseQueryHandler } from './query-handlers.js';

/** The options a SIGHUP applies to the running agent, as Serf's reload does; any other change waits for a restart. */
const RELOADABLE = new Set<keyof AgentOptions>(['tags', 'logLevel', 'eventHandlers', 'queryHandlers']);

/** What a reload changes: each field present is to be applied; `restartNeeded` names the options that changed but only apply at start. */
export interface ReloadPlan {
  readonly tags?: Record<string, string>;
  readonly logLevel?: string;
  readonly handlers?: readonly EventHandlerSpec[];
  readonly restartNeeded: readonly string[];
}

/** Every handler the options give, query handlers first (checked: an OptionError for a command that cannot run). */
export function handlerSpecs(options: AgentOptions): EventHandlerSpec[] {
  return [...(options.queryHandlers ?? []).map(parseQueryHandler), ...(options.eventHandlers ?? []).map((text) => parseEventHandler(text))];
}

/**
 * Compares the options the agent runs with to the ones re-read, and checks the new ones: a plan
 * is made only when everything in it is valid, so that a bad file changes nothing. Tags come from
 * the options only without a tags file (with one, the file is the agent's own state); tags set
 * through the API since are replaced only when the options' tags changed.
 */
export function planReload(current: AgentOptions, next: AgentOptions): ReloadPlan {
  const restartNeeded = (Object.keys({ ...current, ...next }) as (keyof AgentOptions)[])
    .filter((key) => !RELOADABLE.has(key) && !isDeepStrictEqual(current[key], next[key]))
    .sort();
  const handlersChanged =
    !isDeepStrictEqual(current.eventHandlers ?? [], next.eventHandlers ?? []) || !isDeepStrictEqual(current.queryHandlers ?? [], next.queryHandlers ?? []);
  const tagsChanged = next.tagsFile === undefined && current.tagsFile === undefined && !isDeepStrictEqual(current.tags ?? {}, next.tags ?? {});
  const level = next.logLevel ?? 'info';
  return {
    ...(tagsChanged ? { tags: next.tags ?? {} } : {}),
    ...(level !== (current.logLevel ?? 'info') ? { logLevel: level } : {}),
    ...(handlersChanged ? { handlers: handlerSpecs(next) } : {}),
    restartNeeded,
  };
}
