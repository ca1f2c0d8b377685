import { decodeSerfKeyResponse, type SerfKeyResponse } from '../wire/index.js';

/** The outcome of a cluster-wide key operation, as `serf keys` reports it. */
export interface KeyOperationResult {
  /** Members alive when the query went out. */
  nodes: number;
  /** Members that answered before the timeout. */
  responses: number;
  /** Members that answered with an error (or an unreadable answer), and what it said. */
  errors: Record<string, string>;
  /** For a listing: how many members hold each key (base64)… */
  keys: Record<string, number>;
  /** …and how many use it as their primary. */
  primaryKeys: Record<string, number>;
}

/** Counts the `_serf_*-key` answers the way Serf's key manager does. */
export function tallyKeyResponses(nodes: number, responses: readonly { from: string; payload: Uint8Array }[]): KeyOperationResult {
  const result: KeyOperationResult = { nodes, responses: responses.length, errors: {}, keys: {}, primaryKeys: {} };
  for (const { from, payload } of responses) {
    let answer: SerfKeyResponse;
    try {
      answer = decodeSerfKeyResponse(payload);
    } catch (error) {
      result.errors[from] = `unreadable answer: ${(error as Error).message}`;
      continue;
    }
    // As Serf's key manager: a failed answer's keys still count (a listing may fail part-way).
    if (!answer.result) result.errors[from] = answer.message || 'failed without a reason';
    for (const key of answer.keys) result.keys[key] = (result.keys[key] ?? 0) + 1;
    if (answer.primaryKey) result.primaryKeys[answer.primaryKey] = (result.primaryKeys[answer.primaryKey] ?? 0) + 1;
  }
  return result;
}
