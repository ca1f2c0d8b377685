// @ts-check
/**
 * The live view's browser script. src/agent/live-view.ts inlines it into GET /ui as a classic
 * (non-module) script and allows it by its hash in the page's Content-Security-Policy; the
 * root `tsc -b` checks it against the DOM library (packages/agent/tsconfig.live-view.json).
 *
 * The page reads the event stream with fetch() rather than EventSource, which cannot send the
 * bearer token. Member-supplied text only ever reaches the DOM through textContent.
 */
// biome-ignore lint/suspicious/noRedundantUseStrict: a classic script, not a module: this is what makes it strict
'use strict';

/** @typedef {'alive' | 'suspect' | 'failed' | 'left'} Status */
/**
 * A member as /v1/members, /v1/self and the member events show it.
 * @typedef {{ name: string, address: string, port: number, status: Status, incarnation: number, tags?: Record<string, string>, since: string, rttMs?: number }} Member
 */
/**
 * The failure detector in force (/v1/protocol, PUT /v1/protocol, the `protocol` event); origin is null for the one configured.
 * @typedef {{ protocol: string, epoch: number, origin?: string | null, allToAll?: boolean, pinned?: string[] }} Protocol
 */
/**
 * /v1/stats: the counters the page shows.
 * @typedef {Record<'healthScore' | 'probes' | 'probesFailed' | 'suspicions' | 'refutations' | 'packetsIn' | 'packetsOut' | 'bytesIn' | 'bytesOut' | 'dropped', number>} Stats
 */
/** @typedef {{ name: string, payload: string }} UserEvent */
/** @typedef {{ name: string, from: string, payload: string }} QueryEvent */
/** A degraded pair starting (degraded) or ending: this node reaches the member only through helpers or TCP. @typedef {{ name: string, degraded: boolean, since: string }} DegradedEvent */
/**
 * One event's data from /v1/events: a member's fields for member events (join, update, suspect, alive,
 * failed, left), a Protocol for `protocol`, a UserEvent for `user`, a QueryEvent for `query`, a DegradedEvent for `degraded`.
 * @typedef {Partial<Member & Protocol & UserEvent & QueryEvent & DegradedEvent>} EventData
 */
/**
 * GET /v1/views: this node's view digest against its peers', and the degraded pairs.
 * @typedef {{ digest: number, distinct: number, agreeing: number, differing: string[], degraded: { member: string, since: string }[] }} Views
 */
/**
 * One verdict record of GET /v1/members/{name}/history (the fields the timeline shows).
 * @typedef {{ incarnation: number, suspectedAt: number | null, accuser: string, own: boolean, healthScore: number,
 *   probe: { directTimeoutMs: number, helpers: { name: string, answer: string }[], tcp: string } | null, heartbeat: { silentForMs: number } | null,
 *   confirmations: { from: string, at: number }[], outcome: { kind: string, at: number, by?: string, incarnation?: number, reason?: string } | null,
 *   returnedAt: number | null }} Verdict
 */
/** @typedef {{ member: string, node: string, status: Status | null, degradedSince: string | null, history: Verdict[] }} MemberHistory */
/** @typedef {{ error?: string }} ApiError the body of a 4xx or 5xx answer */
/**
 * One event as GET /v1/events/recent serves it; the SSE stream gives the same id.
 * @typedef {{ id: number, type: string, time: string, data: EventData }} EventRecord
 */
const TOKEN_KEY = 'hearsay.token';
const POLL_MS = 2000;
const RETRY_MS = 2000;
const REQUEST_TIMEOUT_MS = 5000;
/** As many as the agent keeps (GET /v1/events/recent). */
const MAX_EVENTS = 200;
/** @type {Status[]} */
const STATUSES = ['alive', 'suspect', 'failed', 'left'];
/** @param {string} id the id of an element the page has */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** A 401: the page waits for a token instead of retrying. */
class Unauthorized extends Error {}

// polled and streaming: undefined until the first try, then whether the last one worked.
// members: the last list polled, which the filters narrow; confirming: the member whose force-leave awaits a confirm.
// lastEvent: the newest event shown, by the agent's id and its data as JSON (a restarted agent numbers from 1 again).
// degraded: the members this node reaches only indirectly; opened: the member whose timeline is shown, and what its history fetch gave.
/**
 * @type {{ needsToken: boolean, polled: boolean | undefined, streaming: boolean | undefined, selfName: string | undefined, shownProtocol: string | undefined,
 *   members: Member[], confirming: string | undefined, lastEvent: { id: number, data: string } | undefined,
 *   degraded: Set<string>, opened: string | undefined, history: MemberHistory | string | undefined }}
 */
const state = {
  needsToken: false,
  polled: undefined,
  streaming: undefined,
  selfName: undefined,
  shownProtocol: undefined,
  members: [],
  confirming: undefined,
  lastEvent: undefined,
  degraded: new Set(),
  opened: undefined,
  history: undefined,
};

/**
 * @param {string} tag
 * @param {string} [className]
 * @param {string | number} [text]
 */
function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = String(text);
  return node;
}

// The fragment never reaches the server; drop it from the address bar once read.
function takeTokenFromFragment() {
  const match = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (!match) return;
  let token = /** @type {string} */ (match[1]); // the group is there whenever the pattern matched
  try {
    token = decodeURIComponent(token);
  } catch {} // not percent-encoded after all: take it as written
  sessionStorage.setItem(TOKEN_KEY, token);
  history.replaceState(null, '', location.pathname + location.search);
}

/**
 * This agent's API with the token, if the page has one; a 401 asks for a (new) one.
 * @param {string} path
 * @param {RequestInit} [init]
 * @returns {Promise<Response>}
 */
async function api(path, init = {}) {
  const headers = new Headers(init.headers);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.set('authorization', `Bearer ${token}`);
  const response = await fetch(path, { ...init, headers, cache: 'no-store' });
  if (response.status === 401) {
    askForToken(token !== null);
    throw new Unauthorized();
  }
  return response;
}

/**
 * @param {string} path
 * @returns {Promise<unknown>}
 */
async function getJson(path) {
  const response = await api(path, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`${path} answered HTTP ${response.status}`);
  return response.json();
}

/**
 * A write to the agent's API; rejects with the agent's own `error` message when it refuses.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
async function send(method, path, body) {
  // Every write goes as JSON, bodiless ones too: the agent refuses writes a foreign page could send.
  const response = await api(path, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  /** @type {ApiError} */
  let answer = {};
  try {
    answer = await response.json();
  } catch {} // no JSON body: the status says it
  if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  return answer;
}

/**
 * Shows what a control did, or why it failed.
 * @param {string} id the outcome element
 * @param {string} text
 * @param {boolean} [failed]
 */
function outcome(id, text, failed = false) {
  const shown = byId(id);
  shown.className = failed ? 'error' : 'muted';
  shown.textContent = text;
}

/** @param {unknown} error */
const failure = (error) => (error instanceof Unauthorized ? 'the agent needs its token' : /** @type {Error} */ (error).message);

function showConnection() {
  const badge = byId('connection');
  let mode = 'connecting';
  let text = 'connecting…';
  if (state.needsToken) [mode, text] = ['token', 'token needed'];
  else if (state.polled === false || state.streaming === false) [mode, text] = ['disconnected', 'disconnected — retrying'];
  else if (state.polled && state.streaming) [mode, text] = ['live', 'live'];
  badge.dataset.state = mode;
  badge.textContent = text;
}

/** @param {boolean} refused whether the agent turned down the token the page had */
function askForToken(refused) {
  state.needsToken = true;
  sessionStorage.removeItem(TOKEN_KEY);
  byId('token-message').textContent = refused ? 'The agent refused that token.' : 'This agent needs its HTTP token (--http-token).';
  byId('token-panel').hidden = false;
  byId('token-input').focus();
  showConnection();
}

// ---- rendering ----

/** @param {number} bytes */
function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** @param {string} iso a date-time */
function formatAge(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

/** @param {Member} self */
function renderSelf(self) {
  state.selfName = self.name;
  byId('self-name').textContent = self.name;
  byId('self-address').textContent = `${self.address}:${self.port}`;
  document.title = `hearsay · ${self.name}`;
  renderTags(self.tags || {});
}

/** @param {Record<string, string>} tags this agent's */
function renderTags(tags) {
  const shown = Object.entries(tags).map(([key, value]) => {
    const tag = element('span', 'tag', `${key}=${value}`);
    tag.dataset.key = key;
    const remove = element('button', 'delete-tag', '×');
    remove.title = `delete tag ${key}`;
    remove.setAttribute('aria-label', remove.title);
    remove.addEventListener('click', () => void deleteTag(key));
    tag.append(remove);
    return tag;
  });
  byId('tags-list').replaceChildren(...(shown.length > 0 ? shown : [element('span', 'muted', 'no tags')]));
}

/** @param {string} key */
async function deleteTag(key) {
  try {
    /** @type {{ tags: Record<string, string> }} */
    const answer = await send('DELETE', `/v1/tags/${encodeURIComponent(key)}`);
    renderTags(answer.tags);
    outcome('tags-outcome', `tag ${key} deleted; the cluster learns it by gossip`);
  } catch (error) {
    outcome('tags-outcome', `delete failed: ${failure(error)}`, true);
  }
}

/** @param {Protocol} protocol */
function renderProtocol(protocol) {
  byId('protocol').textContent = protocol.protocol;
  const detail = protocol.epoch === 0 ? 'as configured (epoch 0)' : `epoch ${protocol.epoch}, switched by ${protocol.origin}`;
  const extras = [];
  if (protocol.allToAll) extras.push('direct heartbeats to all');
  if (protocol.pinned && protocol.pinned.length > 0) extras.push(`pinned: ${protocol.pinned.join(', ')}`);
  byId('protocol-detail').textContent = [detail, ...extras].join(' · ');
  // Follow the cluster's choice without overriding one the user is about to submit.
  if (state.shownProtocol !== protocol.protocol) /** @type {HTMLSelectElement} */ (byId('protocol-choice')).value = protocol.protocol;
  state.shownProtocol = protocol.protocol;
}

/**
 * A filter's text as a test: a /regexp/ as written, anything else as a case-insensitive substring.
 * @param {string} text
 * @returns {(value: string) => boolean}
 */
function matcher(text) {
  const regexp = /^\/(.*)\/([a-z]*)$/.exec(text);
  if (regexp) {
    const pattern = new RegExp(/** @type {string} */ (regexp[1]), regexp[2]); // a SyntaxError says what is wrong with it
    return (value) => pattern.test(value);
  }
  const lower = text.toLowerCase();
  return (value) => value.toLowerCase().includes(lower);
}

/**
 * The members the filters let through; throws a SyntaxError for a filter that is not a valid regexp.
 * @param {Member[]} members
 */
function filtered(members) {
  const status = /** @type {HTMLSelectElement} */ (byId('filter-status')).value;
  const name = /** @type {HTMLInputElement} */ (byId('filter-name')).value.trim();
  const tag = /** @type {HTMLInputElement} */ (byId('filter-tag')).value.trim();
  const nameMatches = name ? matcher(name) : () => true;
  const eq = tag.indexOf('=');
  const tagKey = eq < 0 ? tag : tag.slice(0, eq);
  // `key` alone: members that have the tag; `key=value`: the value matches, exactly unless it is a /regexp/.
  const valueText = eq < 0 ? undefined : tag.slice(eq + 1);
  const valueMatches =
    valueText === undefined ? () => true : /^\/.*\/[a-z]*$/.test(valueText) ? matcher(valueText) : (/** @type {string} */ value) => value === valueText;
  return members.filter((member) => {
    if (status && member.status !== status) return false;
    if (!nameMatches(member.name)) return false;
    if (!tag) return true;
    const value = member.tags?.[tagKey];
    return value !== undefined && valueMatches(value);
  });
}

/** @param {Member} member a failed one: the button, or the confirm step once clicked */
function forceLeaveControls(member) {
  const cell = element('td', 'actions');
  if (state.confirming !== member.name) {
    const button = element('button', 'force-leave', 'force leave');
    button.title = 'mark this failed member as left, everywhere (it stops being probed and is reaped later)';
    button.addEventListener('click', () => {
      state.confirming = member.name;
      renderMembers(state.members);
    });
    cell.append(button);
    return cell;
  }
  const confirm = element('button', 'confirm-force-leave', `force ${member.name} to leave`);
  confirm.addEventListener('click', () => void forceLeave(member.name));
  const cancel = element('button', 'cancel-force-leave', 'cancel');
  cancel.addEventListener('click', () => {
    state.confirming = undefined;
    renderMembers(state.members);
  });
  cell.append(confirm, cancel);
  return cell;
}

/** @param {string} name */
async function forceLeave(name) {
  state.confirming = undefined;
  outcome('members-outcome', `forcing ${name} to leave…`);
  try {
    /** @type {{ node: string, status: string }} */
    const answer = await send('POST', '/v1/force-leave', { node: name });
    outcome('members-outcome', `${answer.node} is ${answer.status} now; the cluster learns it by gossip`);
  } catch (error) {
    outcome('members-outcome', `force-leave of ${name} failed: ${failure(error)}`, true);
  }
  void refreshSoon();
}

/** @param {Views} views */
function renderViews(views) {
  state.degraded = new Set(views.degraded.map((peer) => peer.member));
  const banner = byId('views-banner');
  banner.hidden = views.distinct <= 1;
  byId('views-detail').textContent =
    views.distinct > 1
      ? `${views.distinct} distinct membership views among this node and the peers it heard lately; differing: ${views.differing.join(', ') || '—'}. A split that lasts means partitioned views.`
      : '';
}

/** @param {number} ms */
function formatDuration(ms) {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** @param {number} at epoch milliseconds */
const clock = (at) => new Date(at).toLocaleTimeString();

/**
 * One episode of the timeline: how it was raised, on what evidence, and how it ended.
 * @param {Verdict} verdict
 * @param {string} observer this agent's name
 */
function verdictItem(verdict, observer) {
  const item = element('li');
  const { outcome, suspectedAt } = verdict;
  let opening;
  if (suspectedAt !== null) {
    let evidence = `a rumour from ${verdict.accuser}`;
    if (verdict.own && verdict.probe) {
      const helpers = verdict.probe.helpers.map((h) => `${h.name} ${h.answer === 'none' ? 'no answer' : h.answer}`).join(', ') || 'no helper';
      evidence = `this node: direct ping no ack in ${formatDuration(verdict.probe.directTimeoutMs)}; via ${helpers}; TCP ${verdict.probe.tcp}`;
    } else if (verdict.own && verdict.heartbeat) evidence = `this node: heartbeat silent for ${formatDuration(verdict.heartbeat.silentForMs)}`;
    else if (verdict.own) evidence = 'this node';
    opening = `${clock(suspectedAt)} suspected (incarnation ${verdict.incarnation}, health ${verdict.healthScore}) by ${evidence}`;
    if (verdict.confirmations.length > 0)
      opening += `; confirmed by ${verdict.confirmations.map((c) => `${c.from} +${formatDuration(c.at - suspectedAt)}`).join(', ')}`;
  } else {
    opening = `${outcome ? clock(outcome.at) : '?'} heard from ${verdict.accuser === observer ? 'this node' : verdict.accuser}, no suspicion here`;
  }
  item.append(element('span', 'opening', opening));
  let ending = 'still suspected';
  let kind = 'open';
  if (outcome) {
    kind = outcome.kind;
    const after = suspectedAt === null ? `at ${clock(outcome.at)}` : `after ${formatDuration(outcome.at - suspectedAt)}`;
    if (outcome.kind === 'refuted') ending = `refuted ${after} (incarnation ${outcome.incarnation})`;
    else if (outcome.kind === 'failed') ending = `failed ${after}, declared by ${outcome.by === observer ? 'this node' : outcome.by}`;
    else if (outcome.kind === 'left') ending = `left ${after}`;
    else ending = `dropped ${after} (${outcome.reason})`;
  }
  item.append(' → ', element('span', `outcome ${kind}`, ending));
  if (verdict.returnedAt !== null) item.append(element('span', 'muted', `; alive again at ${clock(verdict.returnedAt)}`));
  return item;
}

/** @param {Member} member the one whose timeline is open */
function historyRow(member) {
  const row = element('tr', 'history-row');
  row.dataset.historyFor = member.name;
  const cell = /** @type {HTMLTableCellElement} */ (element('td'));
  cell.colSpan = 8;
  const history = state.history;
  if (history === undefined || (typeof history !== 'string' && history.member !== member.name)) cell.append(element('span', 'muted', 'loading…'));
  else if (typeof history === 'string') cell.append(element('span', 'error', history));
  else if (history.history.length === 0) cell.append(element('span', 'muted', `${history.node} has no suspicion or verdict about ${member.name} on record`));
  else {
    const timeline = element('ol', 'timeline');
    timeline.append(...history.history.map((verdict) => verdictItem(verdict, history.node)));
    cell.append(timeline);
  }
  if (history !== undefined && typeof history !== 'string' && history.degradedSince) {
    cell.append(element('div', 'muted', `reached only through helpers or TCP since ${new Date(history.degradedSince).toLocaleTimeString()}`));
  }
  row.append(cell);
  return row;
}

/** The open member's history, again: the timeline follows each poll while it is open. */
async function loadHistory() {
  const name = state.opened;
  if (name === undefined) return;
  try {
    const response = await api(`/v1/members/${encodeURIComponent(name)}/history`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    /** @type {MemberHistory & ApiError} */
    const answer = await response.json();
    if (state.opened !== name) return;
    state.history = response.ok ? answer : answer.error || `HTTP ${response.status}`;
  } catch (error) {
    if (state.opened === name) state.history = `history failed: ${failure(error)}`;
  }
}

/** @param {string} name opens its timeline, or closes it if it is open */
async function toggleHistory(name) {
  if (state.opened === name) {
    state.opened = undefined;
    renderMembers(state.members);
    return;
  }
  state.opened = name;
  state.history = undefined;
  renderMembers(state.members);
  await loadHistory();
  renderMembers(state.members);
}

/** @param {Member[]} members */
function renderMembers(members) {
  state.members = members;
  /** @type {Record<Status, number>} */
  const counts = { alive: 0, suspect: 0, failed: 0, left: 0 };
  for (const member of members) counts[member.status] = (counts[member.status] || 0) + 1;
  for (const status of STATUSES) byId(`count-${status}`).textContent = String(counts[status]);
  let shown = members;
  try {
    shown = filtered(members);
    outcome('filter-outcome', shown.length === members.length ? '' : `${shown.length} of ${members.length} members shown`);
  } catch (error) {
    outcome('filter-outcome', `bad filter: ${/** @type {Error} */ (error).message}`, true);
  }
  if (!members.some((member) => member.name === state.confirming && member.status === 'failed')) state.confirming = undefined;
  const rows = [...shown]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((member) => {
      const row = element('tr');
      row.dataset.name = member.name;
      row.dataset.status = member.status;
      if (member.name === state.selfName) row.className = 'self';
      row.append(element('td', 'name', member.name), element('td', 'address', `${member.address}:${member.port}`));
      const status = element('td');
      status.append(element('span', `status ${member.status}`, member.status));
      if (state.degraded.has(member.name)) {
        const badge = element('span', 'degraded-badge', 'degraded');
        badge.title = 'this node reaches it only through helpers or TCP: its direct pings fail';
        status.append(badge);
      }
      const tags = element('td', 'tags');
      for (const [key, value] of Object.entries(member.tags || {})) tags.append(element('span', 'tag', `${key}=${value}`));
      const since = element('td', 'since', formatAge(member.since));
      since.title = member.since;
      const rtt = member.rttMs === undefined ? '—' : member.rttMs < 10 ? member.rttMs.toFixed(2) : member.rttMs.toFixed(0);
      row.append(status, element('td', 'incarnation', member.incarnation), tags, since, element('td', 'rtt', rtt));
      const actions = member.status === 'failed' ? forceLeaveControls(member) : element('td', 'actions');
      if (member.name !== state.selfName) {
        const open = element('button', 'history', state.opened === member.name ? 'hide history' : 'history');
        open.title = `what this node suspected or heard about ${member.name}, with the evidence`;
        open.addEventListener('click', () => void toggleHistory(member.name));
        actions.prepend(open);
      }
      row.append(actions);
      return state.opened === member.name ? [row, historyRow(member)] : [row];
    });
  byId('members').replaceChildren(...rows);
}

/** @param {Stats} stats */
function renderStats(stats) {
  const shown = {
    healthScore: stats.healthScore,
    probes: stats.probes,
    probesFailed: stats.probesFailed,
    suspicions: stats.suspicions,
    refutations: stats.refutations,
    packets: `${stats.packetsIn} / ${stats.packetsOut}`,
    bytes: `${formatBytes(stats.bytesIn)} / ${formatBytes(stats.bytesOut)}`,
    dropped: stats.dropped,
  };
  for (const [key, value] of Object.entries(shown)) byId(`stat-${key}`).textContent = String(value);
}

/**
 * Adds an event to the log unless it is shown already (an id at or below the newest shown).
 * @param {EventRecord} record
 */
function logEvent(record) {
  const { id, type, time, data } = record;
  if (state.lastEvent && id <= state.lastEvent.id) return;
  state.lastEvent = { id, data: JSON.stringify(data) };
  const entry = element('li');
  entry.dataset.id = String(id);
  entry.append(element('span', 'muted', `${new Date(time).toLocaleTimeString()} `), element('span', `type ${type}`, type));
  if (type === 'protocol') entry.append(` → ${data.protocol} (epoch ${data.epoch}${data.origin ? `, by ${data.origin}` : ''})`);
  else if (type === 'user') entry.append(` ${data.name}: ${data.payload}`);
  else if (type === 'query') entry.append(` ${data.name} from ${data.from}${data.payload ? `: ${data.payload}` : ''}`);
  else if (type === 'degraded')
    entry.append(data.degraded ? ` ${data.name}: reached only through helpers or TCP (direct pings fail)` : ` ${data.name}: reached directly again`);
  else if (data.status === undefined)
    entry.append(` ${data.name ?? ''}`); // a type this page does not know yet
  else entry.append(` ${data.name} ${data.address}:${data.port} · ${data.status} · incarnation ${data.incarnation}`);
  prependEvent(entry);
}

/** @param {HTMLElement} entry */
function prependEvent(entry) {
  const log = byId('events');
  log.prepend(entry);
  while (log.childElementCount > MAX_EVENTS) log.lastElementChild?.remove();
}

/**
 * The events the agent kept, shown before the stream's: what happened before this page was
 * (re)loaded or while its stream was down. An agent that restarted numbers from 1 again: the
 * event with the id last shown then holds other data (or is not there yet), and all it kept are new.
 */
async function showRecentEvents() {
  const { events } = /** @type {{ events: EventRecord[] }} */ (await getJson('/v1/events/recent'));
  const last = state.lastEvent;
  if (last) {
    const same = events.find((record) => record.id === last.id);
    const newest = events[events.length - 1];
    // The log is never empty once it had an event, nor does it drop the newest: either way, another run.
    if (same ? JSON.stringify(same.data) !== last.data : newest === undefined || newest.id < last.id) {
      state.lastEvent = undefined;
      prependEvent(element('li', 'restart', '— the agent restarted —'));
    }
  }
  for (const record of events) logEvent(record);
}

// ---- polling: the whole view every POLL_MS, and again after each event ----

async function refresh() {
  try {
    const [[self, protocol, members, stats, views]] = /** @type {[[Member, Protocol, Member[], Stats, Views], void]} */ (
      await Promise.all([Promise.all(['/v1/self', '/v1/protocol', '/v1/members', '/v1/stats', '/v1/views'].map(getJson)), loadHistory()])
    );
    renderSelf(self);
    renderProtocol(protocol);
    renderViews(views);
    renderMembers(members);
    renderStats(stats);
    state.polled = true;
  } catch (error) {
    if (!(error instanceof Unauthorized)) state.polled = false;
  }
  showConnection();
}

// One refresh at a time, so answers apply in order; asks made meanwhile fold into one more.
let refreshing = false;
let refreshAgain = false;
async function refreshSoon() {
  if (state.needsToken) return;
  if (refreshing) {
    refreshAgain = true;
    return;
  }
  refreshing = true;
  do {
    refreshAgain = false;
    await refresh();
  } while (refreshAgain && !state.needsToken);
  refreshing = false;
}

// ---- the event stream, read with fetch() so the token can go in a header ----

/**
 * Calls onEvent with each Server-Sent Event's id, type and parsed data until the stream ends.
 * @param {ReadableStream<BufferSource>} body the response body (TextDecoderStream takes any BufferSource)
 * @param {(id: number, type: string, data: EventData) => void} onEvent
 */
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = 'message';
      let id = 0;
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('id:')) id = Number(line.slice(3).trim());
        else if (line.startsWith('event:')) type = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) onEvent(id, type, JSON.parse(data.join('\n')));
    }
  }
}

/**
 * @param {number} id
 * @param {string} type
 * @param {EventData} data
 */
function onEvent(id, type, data) {
  logEvent({ id, type, time: new Date().toISOString(), data }); // the stream carries no time: it is now
  if (type === 'protocol') renderProtocol(/** @type {Protocol} */ (data));
  if (type !== 'user' && type !== 'query') void refreshSoon();
}

// Each (re)start gets a generation; a loop that sees a newer one stops.
let streamGeneration = 0;
/** @type {AbortController | undefined} */
let streamAbort;
async function followEvents() {
  const generation = ++streamGeneration;
  streamAbort?.abort();
  while (generation === streamGeneration && !state.needsToken) {
    streamAbort = new AbortController();
    try {
      const response = await api('/v1/events', { signal: streamAbort.signal, headers: { accept: 'text/event-stream' } });
      if (!response.ok || !response.body) throw new Error(`/v1/events answered HTTP ${response.status}`);
      state.streaming = true;
      showConnection();
      void refreshSoon(); // events may have been missed while the stream was down
      // Read while the stream's first events wait in its body; the ids keep them from showing twice.
      // Should the log not answer, the stream alone goes on.
      await showRecentEvents().catch((error) => {
        if (error instanceof Unauthorized) throw error;
      });
      await readEvents(response.body, onEvent);
    } catch (error) {
      if (error instanceof Unauthorized) return;
    }
    state.streaming = false;
    showConnection();
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

function start() {
  Object.assign(state, { needsToken: false, polled: undefined, streaming: undefined });
  byId('token-panel').hidden = true;
  showConnection();
  void refreshSoon();
  void followEvents();
}

byId('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = /** @type {HTMLInputElement} */ (byId('token-input'));
  if (!input.value) return;
  sessionStorage.setItem(TOKEN_KEY, input.value);
  input.value = '';
  start();
});

byId('protocol-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const protocol = /** @type {HTMLSelectElement} */ (byId('protocol-choice')).value;
  outcome('protocol-outcome', `switching to ${protocol}…`);
  try {
    /** @type {Protocol} */
    const answer = await send('PUT', '/v1/protocol', { protocol });
    outcome('protocol-outcome', `switch to ${answer.protocol} sent (epoch ${answer.epoch}); it spreads by gossip`);
    renderProtocol(answer);
  } catch (error) {
    outcome('protocol-outcome', `switch failed: ${failure(error)}`, true);
  }
});

byId('event-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = /** @type {HTMLInputElement} */ (byId('event-name')).value.trim();
  if (!name) return;
  try {
    /** @type {{ name: string, bytes: number }} */
    const answer = await send('POST', '/v1/event', { name, payload: /** @type {HTMLInputElement} */ (byId('event-payload')).value });
    outcome('event-outcome', `event ${answer.name} sent (${answer.bytes} bytes); it spreads by gossip`);
  } catch (error) {
    outcome('event-outcome', `event failed: ${failure(error)}`, true);
  }
});

byId('tag-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const key = /** @type {HTMLInputElement} */ (byId('tag-key')).value.trim();
  const value = /** @type {HTMLInputElement} */ (byId('tag-value')).value;
  if (!key) return;
  try {
    /** @type {{ tags: Record<string, string> }} */
    const answer = await send('PUT', '/v1/tags', { tags: { [key]: value } });
    renderTags(answer.tags);
    outcome('tags-outcome', `tag ${key}=${value} set; the cluster learns it by gossip`);
    void refreshSoon();
  } catch (error) {
    outcome('tags-outcome', `set failed: ${failure(error)}`, true);
  }
});

for (const id of ['filter-status', 'filter-name', 'filter-tag']) byId(id).addEventListener('input', () => renderMembers(state.members));
byId('filter-form').addEventListener('submit', (event) => event.preventDefault());

takeTokenFromFragment();
setInterval(() => void refreshSoon(), POLL_MS);
start();
