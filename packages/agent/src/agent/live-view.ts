/**
 * The agent's live view, GET /ui: one self-contained page (inline CSS and vanilla JS, nothing
 * fetched but this agent's own API), kept as text so `tsc` ships it in dist/ with no build step.
 *
 * The page reads the event stream with fetch() rather than EventSource, which cannot send the
 * bearer token. Member-supplied text only ever reaches the DOM through textContent.
 */
import { createHash } from 'node:crypto';

const STYLE = `
:root { --alive: #1a7f37; --suspect: #b7791f; --failed: #cf222e; --left: #6e7781; --line: #d0d7de; --muted: #57606a; --panel: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: #1f2328; background: #fff; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .4rem 1rem; padding: .8rem 1.2rem; border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { margin: 0; font-size: 1.15rem; }
main { display: grid; gap: 1rem; padding: 1rem 1.2rem; max-width: 78rem; }
h2 { margin: 0 0 .4rem; font-size: .95rem; color: var(--muted); font-weight: 600; }
.muted { color: var(--muted); }
#connection { margin-left: auto; padding: .1rem .6rem; border-radius: 1rem; font-weight: 600; color: #fff; background: var(--left); }
#connection[data-state="live"] { background: var(--alive); }
#connection[data-state="disconnected"], #connection[data-state="token"] { background: var(--failed); }
.row { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.2rem; }
.tiles { display: flex; flex-wrap: wrap; gap: .5rem; }
.tile { min-width: 7.5rem; padding: .35rem .7rem; border: 1px solid var(--line); border-radius: .4rem; background: var(--panel); }
.tile b { display: block; font-size: 1.15rem; font-variant-numeric: tabular-nums; }
.tile span { font-size: .8rem; color: var(--muted); }
.tile.alive b { color: var(--alive); } .tile.suspect b { color: var(--suspect); } .tile.failed b { color: var(--failed); } .tile.left b { color: var(--left); }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: .3rem .5rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { font-size: .8rem; color: var(--muted); }
td.name { font-weight: 600; word-break: break-all; }
tr.self td.name::after { content: " (this agent)"; font-weight: 400; color: var(--muted); }
.status { display: inline-block; min-width: 4.5rem; padding: 0 .5rem; border-radius: 1rem; color: #fff; text-align: center; font-weight: 600; }
.status.alive { background: var(--alive); } .status.suspect { background: var(--suspect); } .status.failed { background: var(--failed); } .status.left { background: var(--left); }
.tag { display: inline-block; margin: 0 .25rem .15rem 0; padding: 0 .35rem; border: 1px solid var(--line); border-radius: .3rem; font-size: .8rem; word-break: break-all; }
#events { margin: 0; padding: 0; list-style: none; max-height: 22rem; overflow-y: auto; font: 12.5px/1.5 ui-monospace, monospace; }
#events li { padding: .1rem 0; border-bottom: 1px dotted var(--line); }
#events .type { display: inline-block; min-width: 5.5rem; font-weight: 600; }
#events .alive, #events .join { color: var(--alive); } #events .suspect { color: var(--suspect); } #events .failed { color: var(--failed); } #events .left { color: var(--left); }
form { display: inline-flex; gap: .4rem; align-items: center; }
#token-panel { padding: .8rem; border: 2px solid var(--failed); border-radius: .4rem; }
.error { color: var(--failed); }
`;

const SCRIPT = String.raw`
'use strict';
const TOKEN_KEY = 'hearsay.token';
const POLL_MS = 2000;
const RETRY_MS = 2000;
const REQUEST_TIMEOUT_MS = 5000;
const MAX_EVENTS = 100;
const STATUSES = ['alive', 'suspect', 'failed', 'left'];
const byId = (id) => document.getElementById(id);

/** A 401: the page waits for a token instead of retrying. */
class Unauthorized extends Error {}

// polled and streaming: undefined until the first try, then whether the last one worked.
const state = { needsToken: false, polled: undefined, streaming: undefined, selfName: undefined, shownProtocol: undefined };

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
  let token = match[1];
  try {
    token = decodeURIComponent(token);
  } catch {} // not percent-encoded after all: take it as written
  sessionStorage.setItem(TOKEN_KEY, token);
  history.replaceState(null, '', location.pathname + location.search);
}

async function api(path, init = {}) {
  const headers = new Headers(init.headers);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.set('authorization', 'Bearer ' + token);
  const response = await fetch(path, { ...init, headers, cache: 'no-store' });
  if (response.status === 401) {
    askForToken(token !== null);
    throw new Unauthorized();
  }
  return response;
}

async function getJson(path) {
  const response = await api(path, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  if (!response.ok) throw new Error(path + ' answered HTTP ' + response.status);
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

function askForToken(refused) {
  state.needsToken = true;
  sessionStorage.removeItem(TOKEN_KEY);
  byId('token-message').textContent = refused ? 'The agent refused that token.' : 'This agent needs its HTTP token (--http-token).';
  byId('token-panel').hidden = false;
  byId('token-input').focus();
  showConnection();
}

// ---- rendering ----

function formatBytes(bytes) {
  if (bytes < 1024) return bytes + ' B';
  if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + ' kB';
  return (bytes / 1024 / 1024).toFixed(1) + ' MB';
}

function formatAge(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 60) return seconds + ' s ago';
  if (seconds < 3600) return Math.floor(seconds / 60) + ' min ago';
  if (seconds < 86400) return Math.floor(seconds / 3600) + ' h ago';
  return Math.floor(seconds / 86400) + ' d ago';
}

function renderSelf(self) {
  state.selfName = self.name;
  byId('self-name').textContent = self.name;
  byId('self-address').textContent = self.address + ':' + self.port;
  document.title = 'hearsay · ' + self.name;
}

function renderProtocol(protocol) {
  byId('protocol').textContent = protocol.protocol;
  const detail = protocol.epoch === 0 ? 'as configured (epoch 0)' : 'epoch ' + protocol.epoch + ', switched by ' + protocol.origin;
  const extras = [];
  if (protocol.allToAll) extras.push('direct heartbeats to all');
  if (protocol.pinned && protocol.pinned.length > 0) extras.push('pinned: ' + protocol.pinned.join(', '));
  byId('protocol-detail').textContent = [detail, ...extras].join(' · ');
  // Follow the cluster's choice without overriding one the user is about to submit.
  if (state.shownProtocol !== protocol.protocol) byId('protocol-choice').value = protocol.protocol;
  state.shownProtocol = protocol.protocol;
}

function renderMembers(members) {
  const counts = { alive: 0, suspect: 0, failed: 0, left: 0 };
  for (const member of members) counts[member.status] = (counts[member.status] || 0) + 1;
  for (const status of STATUSES) byId('count-' + status).textContent = counts[status];
  const rows = [...members]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((member) => {
      const row = element('tr');
      row.dataset.name = member.name;
      row.dataset.status = member.status;
      if (member.name === state.selfName) row.className = 'self';
      row.append(element('td', 'name', member.name), element('td', 'address', member.address + ':' + member.port));
      const status = element('td');
      status.append(element('span', 'status ' + member.status, member.status));
      const tags = element('td', 'tags');
      for (const [key, value] of Object.entries(member.tags || {})) tags.append(element('span', 'tag', key + '=' + value));
      const since = element('td', 'since', formatAge(member.since));
      since.title = member.since;
      const rtt = member.rttMs === undefined ? '—' : member.rttMs < 10 ? member.rttMs.toFixed(2) : member.rttMs.toFixed(0);
      row.append(status, element('td', 'incarnation', member.incarnation), tags, since, element('td', 'rtt', rtt));
      return row;
    });
  byId('members').replaceChildren(...rows);
}

function renderStats(stats) {
  const shown = {
    healthScore: stats.healthScore,
    probes: stats.probes,
    probesFailed: stats.probesFailed,
    suspicions: stats.suspicions,
    refutations: stats.refutations,
    packets: stats.packetsIn + ' / ' + stats.packetsOut,
    bytes: formatBytes(stats.bytesIn) + ' / ' + formatBytes(stats.bytesOut),
    dropped: stats.dropped,
  };
  for (const [key, value] of Object.entries(shown)) byId('stat-' + key).textContent = value;
}

function logEvent(type, data) {
  const entry = element('li');
  entry.append(element('span', 'muted', new Date().toLocaleTimeString() + ' '), element('span', 'type ' + type, type));
  if (type === 'protocol') entry.append(' → ' + data.protocol + ' (epoch ' + data.epoch + (data.origin ? ', by ' + data.origin : '') + ')');
  else if (type === 'user') entry.append(' ' + data.name + ': ' + data.payload);
  else if (type === 'query') entry.append(' ' + data.name + ' from ' + data.from + (data.payload ? ': ' + data.payload : ''));
  else entry.append(' ' + data.name + ' ' + data.address + ':' + data.port + ' · ' + data.status + ' · incarnation ' + data.incarnation);
  const log = byId('events');
  log.prepend(entry);
  while (log.childElementCount > MAX_EVENTS) log.lastElementChild.remove();
}

// ---- polling: the whole view every POLL_MS, and again after each event ----

async function refresh() {
  try {
    const [self, protocol, members, stats] = await Promise.all(['/v1/self', '/v1/protocol', '/v1/members', '/v1/stats'].map(getJson));
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

async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
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

function onEvent(type, data) {
  logEvent(type, data);
  if (type === 'protocol') renderProtocol(data);
  if (type !== 'user' && type !== 'query') void refreshSoon();
}

// Each (re)start gets a generation; a loop that sees a newer one stops.
let streamGeneration = 0;
let streamAbort;
async function followEvents() {
  const generation = ++streamGeneration;
  streamAbort?.abort();
  while (generation === streamGeneration && !state.needsToken) {
    streamAbort = new AbortController();
    try {
      const response = await api('/v1/events', { signal: streamAbort.signal, headers: { accept: 'text/event-stream' } });
      if (!response.ok || !response.body) throw new Error('/v1/events answered HTTP ' + response.status);
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
  const input = byId('token-input');
  if (!input.value) return;
  sessionStorage.setItem(TOKEN_KEY, input.value);
  input.value = '';
  start();
});

byId('protocol-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const outcome = byId('protocol-outcome');
  const protocol = byId('protocol-choice').value;
  outcome.className = 'muted';
  outcome.textContent = 'switching to ' + protocol + '…';
  try {
    const response = await api('/v1/protocol', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ protocol }) });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || 'HTTP ' + response.status);
    outcome.textContent = 'switch to ' + body.protocol + ' sent (epoch ' + body.epoch + '); it spreads by gossip';
    renderProtocol(body);
  } catch (error) {
    outcome.className = 'error';
    outcome.textContent = error instanceof Unauthorized ? 'the agent needs its token' : 'switch failed: ' + error.message;
  }
});

byId('event-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const outcome = byId('event-outcome');
  const name = byId('event-name').value.trim();
  if (!name) return;
  outcome.className = 'muted';
  try {
    const response = await api('/v1/event', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, payload: byId('event-payload').value }) });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || 'HTTP ' + response.status);
    outcome.textContent = 'event ' + body.name + ' sent (' + body.bytes + ' bytes); it spreads by gossip';
  } catch (error) {
    outcome.className = 'error';
    outcome.textContent = error instanceof Unauthorized ? 'the agent needs its token' : 'event failed: ' + error.message;
  }
});

takeTokenFromFragment();
setInterval(() => void refreshSoon(), POLL_MS);
start();
`;

const BODY = `
<header>
  <h1>hearsay</h1>
  <span><b id="self-name">…</b> <span id="self-address" class="muted"></span></span>
  <span id="connection" data-state="connecting">connecting…</span>
</header>
<main>
  <section id="token-panel" hidden>
    <h2>Token</h2>
    <p id="token-message"></p>
    <form id="token-form" autocomplete="off">
      <input id="token-input" type="password" placeholder="HTTP token" aria-label="HTTP token">
      <button type="submit">Use token</button>
    </form>
  </section>
  <section>
    <h2>Failure detector</h2>
    <div class="row">
      <span><b id="protocol">…</b> <span id="protocol-detail" class="muted"></span></span>
      <form id="protocol-form">
        <label for="protocol-choice">switch the cluster to</label>
        <select id="protocol-choice"><option>swim</option><option>heartbeat</option><option>hybrid</option></select>
        <button type="submit">Switch</button>
      </form>
      <span id="protocol-outcome" class="muted"></span>
    </div>
  </section>
  <section>
    <h2>Members</h2>
    <div class="tiles">
      <div class="tile alive"><b id="count-alive">–</b><span>alive</span></div>
      <div class="tile suspect"><b id="count-suspect">–</b><span>suspect</span></div>
      <div class="tile failed"><b id="count-failed">–</b><span>failed</span></div>
      <div class="tile left"><b id="count-left">–</b><span>left</span></div>
    </div>
  </section>
  <section>
    <h2>This node</h2>
    <div class="tiles">
      <div class="tile"><b id="stat-healthScore">–</b><span>health score (0 is healthy)</span></div>
      <div class="tile"><b id="stat-probes">–</b><span>probes</span></div>
      <div class="tile"><b id="stat-probesFailed">–</b><span>failed probes</span></div>
      <div class="tile"><b id="stat-suspicions">–</b><span>suspicions</span></div>
      <div class="tile"><b id="stat-refutations">–</b><span>refutations</span></div>
      <div class="tile"><b id="stat-packets">–</b><span>packets in / out</span></div>
      <div class="tile"><b id="stat-bytes">–</b><span>bytes in / out</span></div>
      <div class="tile"><b id="stat-dropped">–</b><span>dropped</span></div>
    </div>
  </section>
  <section>
    <table>
      <thead><tr><th>name</th><th>address</th><th>status</th><th>incarnation</th><th>tags</th><th>since</th><th>RTT ms</th></tr></thead>
      <tbody id="members"></tbody>
    </table>
  </section>
  <section>
    <h2>Events (newest first)</h2>
    <div class="row">
      <form id="event-form" autocomplete="off">
        <label for="event-name">broadcast an event</label>
        <input id="event-name" placeholder="name" aria-label="event name" required>
        <input id="event-payload" placeholder="payload" aria-label="event payload">
        <button type="submit">Send</button>
      </form>
      <span id="event-outcome" class="muted"></span>
    </div>
    <ol id="events"></ol>
  </section>
</main>`;

export const LIVE_VIEW_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hearsay</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>${BODY}
<script>${SCRIPT}</script>
</body>
</html>
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * Only the page's own script and style run, and it talks only to this agent: injected markup
 * could do nothing, and nothing (the token least of all) can leave for another origin.
 */
export const LIVE_VIEW_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': [
    "default-src 'none'",
    `script-src ${sha256(SCRIPT)}`,
    `style-src ${sha256(STYLE)}`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};
