import { RE2JS } from 're2js';
import { OptionError } from '../core/errors.js';
import type { QueryFilter } from '../wire/index.js';
import { TokenBucket } from '../core/rate-limit.js';
import type { QueryOptions } from './queries.js';

/** Filters in one query, and characters in one tag filter's regular expression. */
export const MAX_QUERY_FILTERS = 16;
const MAX_FILTER_EXPR_CHARS = 256;
/** RE2 instructions compiled per second for peers' tag filters (about 3 µs each): costly patterns get a bounded share of the CPU. */
const FILTER_COMPILE_BUDGET = 20_000;
/** Compiled tag filters kept, so that the same filter asked again costs nothing. */
const FILTER_CACHE_SIZE = 64;

/**
 * Refuses, as an OptionError, the filters of a query that no member could apply: a tag's regular
 * expression that RE2 (Go's syntax, which Serf uses) does not compile, or that is longer than
 * members try, or more filters than members take a query with.
 */
export function checkQueryFilters(options: QueryOptions): void {
  const { nodes, tags } = options;
  if (nodes !== undefined && !(Array.isArray(nodes) && nodes.every((name) => typeof name === 'string'))) {
    throw new OptionError('nodes must be a list of member names');
  }
  if (
    tags !== undefined &&
    !(typeof tags === 'object' && tags !== null && !Array.isArray(tags) && Object.values(tags).every((expr) => typeof expr === 'string'))
  ) {
    throw new OptionError('tags must be an object of tag name → regular expression, like { role: "^web" }');
  }
  const filters = Object.entries(tags ?? {});
  if (filters.length + (nodes && nodes.length > 0 ? 1 : 0) > MAX_QUERY_FILTERS) {
    throw new OptionError(`a query takes at most ${MAX_QUERY_FILTERS} filters (each tag one, the node list one): members drop it with more`);
  }
  for (const [tag, expr] of filters) {
    if (expr.length > MAX_FILTER_EXPR_CHARS) {
      throw new OptionError(`the filter for tag "${tag}" is ${expr.length} characters long: members try at most ${MAX_FILTER_EXPR_CHARS}`);
    }
    try {
      RE2JS.compile(expr);
    } catch (error) {
      throw new OptionError(`the filter for tag "${tag}" is not a regular expression (RE2 syntax, as Go's): ${(error as Error).message}`);
    }
  }
}

/** The filters of a query as this node asks it: the node list, then one per tag. */
export function queryFilters(options: QueryOptions): QueryFilter[] {
  return [
    ...(options.nodes && options.nodes.length > 0 ? [{ kind: 'nodes', names: options.nodes } as const] : []),
    ...Object.entries(options.tags ?? {}).map(([tag, expr]) => ({ kind: 'tag', tag, expr }) as const),
  ];
}

/**
 * Applies peers' query filters to this node. Tag filters are compiled with RE2, as Go's regexp:
 * matching is linear, but compiling a large pattern is not free, so compiled patterns are cached
 * and compiling is held to a budget per second.
 */
export class FilterMatcher {
  /** Compiled tag filters by expression (null: it does not compile), oldest first. */
  readonly #compiled = new Map<string, RE2JS | null>();
  readonly #budget: TokenBucket;
  readonly #drop: (reason: string) => void;

  constructor(now: number, drop: (reason: string) => void) {
    this.#budget = new TokenBucket(FILTER_COMPILE_BUDGET, now);
    this.#drop = drop;
  }

  /** Serf's filter rules: every filter must pass; an unknown filter type fails. */
  passes(filters: readonly QueryFilter[], name: string, tags: Readonly<Record<string, string>>, now: number): boolean {
    return filters.every((filter) => {
      switch (filter.kind) {
        case 'nodes':
          return filter.names.includes(name);
        case 'tag':
          return (
            this.#tagPattern(filter.expr, now)
              ?.matcher(tags[filter.tag] ?? '')
              .find() ?? false
          );
        default:
          // Serf's unknown filter types (and later versions' own) match no member.
          return false;
      }
    });
  }

  /** A tag filter compiled, from the cache or within the compile budget; undefined if refused. */
  #tagPattern(expr: string, now: number): RE2JS | undefined {
    const cached = this.#compiled.get(expr);
    if (cached !== undefined) {
      this.#compiled.delete(expr);
      this.#compiled.set(expr, cached);
      return cached ?? undefined;
    }
    if (expr.length > MAX_FILTER_EXPR_CHARS) {
      this.#drop('filter-too-long');
      return undefined;
    }
    if (!this.#budget.available(now)) {
      this.#drop('filter-compile-budget');
      return undefined;
    }
    let pattern: RE2JS | null;
    try {
      pattern = RE2JS.compile(expr);
      this.#budget.spend(pattern.programSize());
    } catch {
      pattern = null;
      this.#budget.spend(expr.length);
    }
    this.#compiled.set(expr, pattern);
    if (this.#compiled.size > FILTER_CACHE_SIZE) this.#compiled.delete(this.#compiled.keys().next().value!);
    return pattern ?? undefined;
  }
}
