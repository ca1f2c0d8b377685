import { InvalidArgumentError, Option, type Command } from 'commander';
import { CommandFailure } from './failure.js';

/** A member as the agent's HTTP API gives it. */
export interface Member {
  name: string;
  address: string;
  port: number;
  status: 'alive' | 'suspect' | 'failed' | 'left' | string;
  incarnation: number;
  tags: Record<string, string>;
  since?: unknown;
  /** Smoothed round-trip time the agent measured to this member, when it has one. */
  rttMs?: number;
}

/** Where `hearsay agent` serves its API by default: 127.0.0.1, its default gossip port 7946 + 10000. */
const DEFAULT_AGENT_HTTP_PORT = 17946;

/**
 * `127.0.0.1:17946`, `localhost:17946`, `[::1]:17946` or `http://host:port` → `http://host:port`;
 * a host without a port means the agent's default HTTP port, 17946.
 */
export function parseHttpAddress(text: string): string {
  const trimmed = text.trim();
  const withScheme = /^https?:\/\//.test(trimmed) ? trimmed : `http://${trimmed}`;
  const invalid = () => new InvalidArgumentError(`"${text}" is not an address: use HOST:PORT, like 127.0.0.1:17946`);
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw invalid();
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '' || url.username !== '') throw invalid();
  // URL forgets a port that is the scheme's own (80): only text that names no port at all gets the agent's default.
  const authority = withScheme.replace(/^https?:\/\//, '').replace(/\/$/, '');
  if (!/:\d+$/.test(authority)) url.port = String(DEFAULT_AGENT_HTTP_PORT);
  return `${url.protocol}//${url.host}`;
}

/** Why a fetch failed, in a few words (connection refused, timed out, …). */
export function reason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (cause?.code) return cause.code;
  if (cause?.message === 'bad port') return 'a port fetch refuses to connect to';
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'no answer in time';
  return cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** The agent at that address cannot be reached, or answered with an error. */
export class AgentUnreachable extends CommandFailure {
  override name = 'AgentUnreachable';
  constructor(
    readonly base: string,
    readonly why: string,
  ) {
    super(`cannot reach the agent at ${base} (${why}): is \`hearsay agent\` running there? (--http HOST:PORT)`);
  }
}

export interface RequestOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Sent as JSON. */
  readonly body?: unknown;
  readonly timeoutMs?: number;
  /** The agent's --http-token; default: $HEARSAY_HTTP_TOKEN. */
  readonly token?: string;
}

/** Calls an agent's API and returns its JSON answer; failures say what went wrong where. */
export async function requestJson(base: string, path: string, options: RequestOptions = {}): Promise<unknown> {
  const method = options.method ?? 'GET';
  const token = options.token ?? process.env.HEARSAY_HTTP_TOKEN;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  // The agent takes writes only as JSON, even bodiless ones (cross-site pages cannot send that).
  if (options.body !== undefined || method !== 'GET') headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers,
      signal: AbortSignal.timeout(options.timeoutMs ?? 2_000),
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
  } catch (error) {
    throw new AgentUnreachable(base, reason(error));
  }
  const text = await response.text().catch(() => '');
  if (!response.ok) throw refusal(base, method, path, response.status, text);
  try {
    return JSON.parse(text);
  } catch {
    throw new CommandFailure(`the agent at ${base} answered ${method} ${path} with something that is not JSON: ${text.slice(0, 80)}`);
  }
}

/** GET a JSON document from an agent. */
export function getJson(base: string, path: string, timeoutMs = 2_000, token?: string): Promise<unknown> {
  return requestJson(base, path, { timeoutMs, ...(token ? { token } : {}) });
}

/** How a command reaches one agent: `--http` and `--http-token` (parsed onto these flags). */
export interface AgentFlags {
  http: string;
  httpToken?: string;
}

/** Adds `--http` and `--http-token` to a command that talks to one agent. */
export function addAgentOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--http <host:port>', 'the agent’s HTTP API')
        // As Serf's SERF_RPC_ADDR: a shell that always talks to one agent sets it once.
        .env('HEARSAY_HTTP_ADDR')
        .argParser(parseHttpAddress)
        .default(`http://127.0.0.1:${DEFAULT_AGENT_HTTP_PORT}`, `127.0.0.1:${DEFAULT_AGENT_HTTP_PORT}`),
    )
    .option('--http-token <token>', 'the agent’s --http-token (default: $HEARSAY_HTTP_TOKEN)');
}

/** The request options `--http-token` asks for. */
export function tokenOf(flags: AgentFlags): Pick<RequestOptions, 'token'> {
  return flags.httpToken ? { token: flags.httpToken } : {};
}

function isMember(value: unknown): value is Member {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return typeof m.name === 'string' && typeof m.status === 'string';
}

/** GET /v1/members. */
export async function fetchMembers(base: string, timeoutMs?: number, token?: string): Promise<Member[]> {
  const body = await getJson(base, '/v1/members', timeoutMs, token);
  if (!Array.isArray(body) || !body.every(isMember)) {
    throw new CommandFailure(`the agent at ${base} answered GET /v1/members with something that is not a list of members`);
  }
  return body;
}

/** GET /v1/self. */
export async function fetchSelf(base: string, timeoutMs?: number): Promise<Member> {
  const body = await getJson(base, '/v1/self', timeoutMs);
  if (!isMember(body)) throw new CommandFailure(`the agent at ${base} answered GET /v1/self with something that is not a member`);
  return body;
}

/** A member as `cluster members --json` gives it (no `since`: it differs between observers). */
export function memberSummary(m: Member): Pick<Member, 'name' | 'address' | 'port' | 'status' | 'incarnation' | 'tags'> {
  return { name: m.name, address: m.address, port: m.port, status: m.status, incarnation: m.incarnation, tags: m.tags ?? {} };
}

/** An agent's HTTP error as a command failure: its own message, a hint on 401, exit 2 on 400 (it refused what the command's arguments said). */
export function refusal(base: string, method: string, path: string, status: number, text: string): CommandFailure {
  let detail = text.slice(0, 200);
  try {
    detail = (JSON.parse(text) as { error?: string }).error ?? detail;
  } catch {
    // not JSON: keep the text
  }
  const hint = status === 401 ? ' (give --http-token or set HEARSAY_HTTP_TOKEN)' : '';
  return new CommandFailure(`the agent at ${base} answered ${method} ${path} with HTTP ${status}${detail ? `: ${detail}` : ''}${hint}`, status === 400 ? 2 : 1);
}
