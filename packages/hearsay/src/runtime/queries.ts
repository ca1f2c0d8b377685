import { encodeSerfKeyRequest } from '../wire/index.js';
import { tallyKeyResponses, type IncomingQuery, type KeyOperationResult, type QueryOptions, type SerfMember } from '../serf/index.js';
import { decodeKey } from '../wire/key-text.js';
import type { QueryResult } from './types.js';

/**
 * The queries a node asks on the real network: each collects answers until its timeout (a real
 * timer), its expected number of answers, or the node's shutdown. Cluster-wide key operations
 * are queries too, their answers tallied as `serf keys` does.
 */
export class NodeQueries {
  readonly #serf: SerfMember;
  /** This node's own copy of a query it asked, for its 'query' listeners. */
  readonly #showLocal: (query: IncomingQuery) => void;
  /** Ends each query still collecting answers. */
  readonly #pending = new Set<() => void>();

  constructor(serf: SerfMember, showLocal: (query: IncomingQuery) => void) {
    this.#serf = serf;
    this.#showLocal = showLocal;
  }

  /** Asks the cluster and resolves with what arrived in time; throws an OptionError for a query that cannot be sent. */
  query(name: string, payload: Uint8Array, options: QueryOptions): Promise<QueryResult> {
    const result: QueryResult = { acks: [], responses: [] };
    const seen = { acks: new Set<string>(), responses: new Set<string>() };
    const asked = this.#serf.ask(name, payload, options, {
      // Relays make duplicates on purpose: keep the first of each.
      onAck: (from) => {
        if (seen.acks.has(from)) return;
        seen.acks.add(from);
        result.acks.push(from);
      },
      onResponse: (from, answer) => {
        if (seen.responses.has(from)) return;
        seen.responses.add(from);
        result.responses.push({ from, payload: answer });
        if (result.responses.length === options.expectedResponses) done();
      },
    });
    let done = () => {};
    const finished = new Promise<QueryResult>((resolve) => {
      const timer = setTimeout(() => done(), asked.timeoutMs);
      done = () => {
        clearTimeout(timer);
        this.#pending.delete(done);
        asked.finish();
        resolve(result);
      };
      this.#pending.add(done);
    });
    if (asked.local) this.#showLocal(asked.local);
    return finished;
  }

  /** A `_serf_<operation>` key query, with `key` (base64) for those that change the keyring; the answers counted. */
  async keyOperation(operation: string, key?: string): Promise<KeyOperationResult> {
    const payload = key === undefined ? new Uint8Array(0) : encodeSerfKeyRequest(decodeKey(key));
    const members = this.#serf.liveMembers();
    // Every live member answers a key query: no need to wait out the timeout once all have, nor for acks (Serf asks none).
    const { responses } = await this.query(`_serf_${operation}`, payload, { expectedResponses: members, requestAck: false });
    return tallyKeyResponses(members, responses);
  }

  /** Ends every query still collecting, with what it has (at shutdown). */
  finishAll(): void {
    for (const done of this.#pending) done();
  }
}
