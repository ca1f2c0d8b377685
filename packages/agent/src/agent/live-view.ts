/**
 * The agent's live view, GET /ui: one self-contained page (inline CSS and vanilla JS, nothing
 * fetched but this agent's own API). Its parts are files in static/live-view/ of this package,
 * shipped beside dist/ and read once when this module loads: body.html, style.css and page.js,
 * the browser script (type-checked against the DOM by tsconfig.live-view.json).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** From src/agent/ and from dist/agent/ alike, static/ is two levels up. */
const part = (name: string) => readFileSync(new URL(`../../static/live-view/${name}`, import.meta.url), 'utf8');

// The CSP below allows the style and the script by their hashes: exactly the text between the tags.
const STYLE = `\n${part('style.css')}`;
const SCRIPT = `\n${part('page.js')}`;
if (/<\/(script|style)/i.test(STYLE + SCRIPT)) throw new Error('static/live-view: the style and script must not close their own tags');

export const LIVE_VIEW_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hearsay</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
${part('body.html')}<script>${SCRIPT}</script>
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
