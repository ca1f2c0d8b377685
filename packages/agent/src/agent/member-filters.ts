import { RE2JS } from 're2js';
import { STATUSES, type Status } from 'hearsay/core';
import type { Member } from 'hearsay';
import { ApiError } from './api-error.js';

/** The longest regular expression a filter takes: a members list needs no more, and RE2 compiles in time linear in it. */
const MAX_FILTER_CHARS = 256;

/** What `serf members -status -name -tag` filter on: a member passes when it matches every filter given. */
export interface MemberFilter {
  readonly statuses?: ReadonlySet<Status>;
  readonly name?: RE2JS;
  readonly tags: ReadonlyMap<string, RE2JS>;
}

/**
 * A regular expression in RE2's syntax (Go's, which Serf uses) that must match the whole text,
 * as Serf's `^RE$` means it; grouped first, so that `web|db` is `^(?:web|db)$` and not Serf's
 * accidental `^web|db$`. Throws a 400 naming the filter and what RE2 refused.
 */
export function anchoredPattern(expr: string, what: string): RE2JS {
  if (expr.length > MAX_FILTER_CHARS) throw new ApiError(400, `${what}: at most ${MAX_FILTER_CHARS} characters, got ${expr.length}`);
  try {
    // Compiled alone first, so that what RE2 refuses is quoted as it was given.
    RE2JS.compile(expr);
    return RE2JS.compile(`^(?:${expr})$`);
  } catch (error) {
    throw new ApiError(400, `${what}: "${expr}" is not a regular expression in RE2 syntax (as Go's and Serf's): ${(error as Error).message}`);
  }
}

/** `failed,left` (or several of those) → the statuses; an unknown one is a 400. */
export function parseStatuses(texts: readonly string[]): Set<Status> {
  const statuses = new Set<Status>();
  for (const text of texts.flatMap((list) => list.split(','))) {
    const status = text.trim();
    if (!(STATUSES as readonly string[]).includes(status)) throw new ApiError(400, `status "${status}" is unknown: use ${STATUSES.join(', ')} (a comma list)`);
    statuses.add(status as Status);
  }
  return statuses;
}

/** `key=regexp` → the key and its anchored pattern. */
export function parseTagFilter(text: string): [string, RE2JS] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new ApiError(400, `tag filter "${text}" is not key=regexp, like role=web.*`);
  const key = text.slice(0, eq);
  return [key, anchoredPattern(text.slice(eq + 1), `the filter for tag "${key}"`)];
}

/** A query parameter given once or repeated, as Fastify's parser hands it over. */
function values(param: unknown, name: string): string[] {
  if (param === undefined) return [];
  const list = Array.isArray(param) ? param : [param];
  if (!list.every((value): value is string => typeof value === 'string')) throw new ApiError(400, `${name} must be text`);
  return list;
}

/** GET /v1/members?status=failed,left&name=RE&tag=k=RE (tag repeatable): the filters, each checked. */
export function memberFilterFrom(query: Record<string, unknown>): MemberFilter {
  const status = values(query.status, 'status');
  const names = values(query.name, 'name');
  if (names.length > 1) throw new ApiError(400, 'give name once: one regular expression (alternatives as a|b)');
  const tags = new Map(values(query.tag, 'tag').map(parseTagFilter));
  return {
    ...(status.length > 0 ? { statuses: parseStatuses(status) } : {}),
    ...(names[0] !== undefined ? { name: anchoredPattern(names[0], 'the name filter') } : {}),
    tags,
  };
}

/** Whether a member passes every filter. A tag the member lacks is matched as empty text, as Serf does: `role=` finds members without one. */
export function memberMatches(member: Member, filter: MemberFilter): boolean {
  if (filter.statuses && !filter.statuses.has(member.status)) return false;
  if (filter.name && !filter.name.matches(member.name)) return false;
  for (const [key, pattern] of filter.tags) if (!pattern.matches(member.tags[key] ?? '')) return false;
  return true;
}

/** The members that pass the filters of a GET /v1/members query (all, with none given). */
export function membersMatching(members: readonly Member[], query: unknown): Member[] {
  const filter = memberFilterFrom((query ?? {}) as Record<string, unknown>);
  return members.filter((member) => memberMatches(member, filter));
}
