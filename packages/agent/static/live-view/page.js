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
/**
 * One event's data from /v1/events: a member's fields for member events (join, update, suspect, alive,
 * failed, left), a Protocol for `protocol`, a UserEvent for `user`, a QueryEvent for `query`.
 * @typedef {Partial<Member & Protocol & UserEvent & QueryEvent>} EventData
 */
/** @typedef {{ error?: string }} ApiError the body of a 4xx or 5xx answer */
const TOKEN_KEY = 'hearsay.token';
const POLL_MS = 2000;
const RETRY_MS = 2000;
const REQUEST_TIMEOUT_MS = 5000;
const MAX_EVENTS = 100;
/** @type {Status[]} */
const STATUSES = ['alive', 'suspect', 'failed', 'left'];
/** @param {string} id the id of an element the page has */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** A 401: the page waits for a token instead of retrying. */
class Unauthorized extends Error {}

// polled and streaming: undefined until the first try, then whether the last one worked.
/** @type {{ needsToken: boolean, polled: boolean | undefined, streaming: boolean | undefined, selfName: string | undefined, shownProtocol: string | undefined }} */
const state = { needsToken: false, polled: undefined, streaming: undefined, selfName: undefined, shownProtocol: undefined };

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

/** @param {Member[]} members */
function renderMembers(members) {
  /** @type {Record<Status, number>} */
  const counts = { alive: 0, suspect: 0, failed: 0, left: 0 };
  for (const member of members) counts[member.status] = (counts[member.status] || 0) + 1;
  for (const status of STATUSES) byId(`count-${status}`).textContent = String(counts[status]);
  const rows = [...members]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((member) => {
      const row = element('tr');
      row.dataset.name = member.name;
      row.dataset.status = member.status;
      if (member.name === state.selfName) row.className = 'self';
      row.append(element('td', 'name', member.name), element('td', 'address', `${member.address}:${member.port}`));
      const status = element('td');
      status.append(element('span', `status ${member.status}`, member.status));
      const tags = element('td', 'tags');
      for (const [key, value] of Object.entries(member.tags || {})) tags.append(element('span', 'tag', `${key}=${value}`));
      const since = element('td', 'since', formatAge(member.since));
      since.title = member.since;
      const rtt = member.rttMs === undefined ? '—' : member.rttMs < 10 ? member.rttMs.toFixed(2) : member.rttMs.toFixed(0);
      row.append(status, element('td', 'incarnation', member.incarnation), tags, since, element('td', 'rtt', rtt));
      return row;
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
 * @param {string} type
 * @param {EventData} data
 */
function logEvent(type, data) {
  const entry = element('li');
  entry.append(element('span', 'muted', `${new Date().toLocaleTimeString()} `), element('span', `type ${type}`, type));
  if (type === 'protocol') entry.append(` → ${data.protocol} (epoch ${data.epoch}${data.origin ? `, by ${data.origin}` : ''})`);
  else if (type === 'user') entry.append(` ${data.name}: ${data.payload}`);
  else if (type === 'query') entry.append(` ${data.name} from ${data.from}${data.payload ? `: ${data.payload}` : ''}`);
  else entry.append(` ${data.name} ${data.address}:${data.port} · ${data.status} · incarnation ${data.incarnation}`);
  const log = byId('events');
  log.prepend(entry);
  while (log.childElementCount > MAX_EVENTS) log.lastElementChild?.remove();
}

// ---- polling: the whole view every POLL_MS, and again after each event ----

async function refresh() {
  try {
    const [self, protocol, members, stats] = /** @type {[Member, Protocol, Member[], Stats]} */ (
      await Promise.all(['/v1/self', '/v1/protocol', '/v1/members', '/v1/stats'].map(getJson))
    );
    renderSelf(self);
    renderProtocol(protocol);
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
 * Calls onEvent with each Server-Sent Event's type and parsed data until the stream ends.
 * @param {ReadableStream<BufferSource>} body the response body (TextDecoderStream takes any BufferSource)
 * @param {(type: string, data: EventData) => void} onEvent
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
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) type = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) onEvent(type, JSON.parse(data.join('\n')));
    }
  }
}

/**
 * @param {string} type
 * @param {EventData} data
 */
function onEvent(type, data) {
  logEvent(type, data);
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
  const outcome = byId('protocol-outcome');
  const protocol = /** @type {HTMLSelectElement} */ (byId('protocol-choice')).value;
  outcome.className = 'muted';
  outcome.textContent = `switching to ${protocol}…`;
  try {
    const response = await api('/v1/protocol', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ protocol }) });
    /** @type {Protocol & ApiError} */
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
    outcome.textContent = `switch to ${body.protocol} sent (epoch ${body.epoch}); it spreads by gossip`;
    renderProtocol(body);
  } catch (error) {
    outcome.className = 'error';
    outcome.textContent = error instanceof Unauthorized ? 'the agent needs its token' : `switch failed: ${/** @type {Error} */ (error).message}`;
  }
});

byId('event-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const outcome = byId('event-outcome');
  const name = /** @type {HTMLInputElement} */ (byId('event-name')).value.trim();
  if (!name) return;
  outcome.className = 'muted';
  try {
    const response = await api('/v1/event', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, payload: /** @type {HTMLInputElement} */ (byId('event-payload')).value }),
    });
    /** @type {{ name: string, bytes: number } & ApiError} */
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
    outcome.textContent = `event ${body.name} sent (${body.bytes} bytes); it spreads by gossip`;
  } catch (error) {
    outcome.className = 'error';
    outcome.textContent = error instanceof Unauthorized ? 'the agent needs its token' : `event failed: ${/** @type {Error} */ (error).message}`;
  }
});

takeTokenFromFragment();
setInterval(() => void refreshSoon(), POLL_MS);
start();
