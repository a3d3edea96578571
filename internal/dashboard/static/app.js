// app.js: the dashboard's shell: routes (in the URL's hash, so any view can
// be bookmarked and the server needs to know none of them), the header with
// the pause switch of the queue shown, and the dialogs.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html, useStore, Dialogs, promptToken, Alert } from './ui.js';
import { getToken, setToken, onTokenChange, setTokenPrompt, tokenDeclined, askAgain, post } from './api.js';
import { state, queueStats, startStream, refreshStats, reconnectStream } from './store.js';
import { Overview } from './views/overview.js';
import { Jobs } from './views/jobs.js';
import { Job } from './views/job.js';
import { Schedules } from './views/schedules.js';
import { Events, EventDetail } from './views/events.js';
import { Webhooks } from './views/webhooks.js';

/**
 * route parses location.hash: "#/jobs/failed?queue=webhooks&cursor=x" →
 * {path: ["jobs", "failed"], query, queue: "webhooks"}; queue is '' (the
 * default queue) unless the query names one.
 */
function route() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [p, q = ''] = raw.split('?');
  const query = new URLSearchParams(q);
  return { path: p.split('/').filter(Boolean).map(decodeURIComponent), query, queue: query.get('queue') || '' };
}

const nav = [
  ['Overview', '#/', (p) => p.length === 0],
  ['Jobs', '#/jobs', (p) => p[0] === 'jobs' || p[0] === 'job'],
  ['Schedules', '#/schedules', (p) => p[0] === 'schedules'],
  ['Events', '#/events', (p) => p[0] === 'events'],
  ['Webhooks', '#/webhooks', (p) => p[0] === 'webhooks'],
];

function View({ r }) {
  const [a, b] = r.path;
  switch (a) {
    case undefined: return html`<${Overview} />`;
    case 'jobs': return html`<${Jobs} state=${b || 'waiting'} queue=${r.queue} query=${r.query} />`;
    case 'job': return html`<${Job} id=${b} queue=${r.queue} />`;
    case 'schedules': return html`<${Schedules} />`;
    case 'events': return b ? html`<${EventDetail} id=${b} />` : html`<${Events} query=${r.query} />`;
    case 'webhooks': return html`<${Webhooks} query=${r.query} />`;
  }
  return html`<h1>Not found</h1><p>No view at <code>${location.hash}</code>. <a href="#/">Overview</a></p>`;
}

const streamWords = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  stopped: 'Not live',
};

/**
 * QueueSwitch shows whether a queue hands out jobs, and pauses or resumes
 * it: the queue the view shows, named beside the switch unless it is the
 * default.
 */
function QueueSwitch({ queue }) {
  useStore();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const q = queueStats(queue);
  if (!q) return null;
  const running = !q.isPaused;
  const action = (running ? '/api/queue/pause' : '/api/queue/resume') + (queue ? '?queue=' + encodeURIComponent(queue) : '');
  const toggle = async () => {
    setBusy(true);
    setError(null);
    try {
      await post(action);
      await refreshStats();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="queue-switch">
    ${queue && html`<span class="muted" data-testid="queue-name">${queue}</span>`}
    <button type="button" role="switch" aria-checked=${running} aria-label=${queue ? `Queue ${queue} running` : 'Queue running'} class=${'switch' + (running ? ' on' : '')} onClick=${toggle} disabled=${busy}
      title=${running ? `Running: click to pause (POST ${action})` : `Paused: click to resume (POST ${action})`}>
      <span class="knob" aria-hidden="true"></span>
      <span class="switch-label" data-testid="queue-state">${running ? 'Running' : 'Paused'}</span>
    </button>
    ${error && html`<span class="alert small" role="alert">${error.message}</span>`}
  </div>`;
}

// TokenButton forgets the session's token, or asks for one after the user
// declined to give it.
function TokenButton() {
  const [, bump] = useState(0);
  useEffect(() => onTokenChange(() => bump((n) => n + 1)), []);
  if (getToken()) return html`<button type="button" class="link" onClick=${() => { setToken(''); reconnectStream(); }}>Forget token</button>`;
  if (!tokenDeclined()) return null;
  const enter = async () => {
    if (await askAgain()) {
      reconnectStream();
      refreshStats();
    }
  };
  return html`<button type="button" class="link" onClick=${enter}>Enter token</button>`;
}

function App() {
  const [r, setR] = useState(route());
  useStore();
  useEffect(() => {
    const f = () => {
      setR(route());
      document.getElementById('main')?.focus({ preventScroll: true });
    };
    addEventListener('hashchange', f);
    return () => removeEventListener('hashchange', f);
  }, []);
  const s = state.stream;
  return html`
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
    <header class="top">
      <a class="brand" href="#/">eventsd</a>
      <nav aria-label="Dashboard">
        <ul>
          ${nav.map(([label, href, active]) => html`<li><a href=${href} aria-current=${active(r.path) ? 'page' : undefined}>${label}</a></li>`)}
          <li><a href="../api/docs">API docs</a></li>
        </ul>
      </nav>
      <div class="status">
        <span class=${'live-dot ' + s.status} role="status" title=${s.reason || 'GET /api/jobs/events'} data-testid="stream-status">${streamWords[s.status] || s.status}</span>
        <${QueueSwitch} queue=${r.queue} />
        <${TokenButton} />
      </div>
    </header>
    ${s.status !== 'live' && s.reason && html`<p class="banner" role="status">Lifecycle stream: ${s.reason}</p>`}
    ${state.statsError && html`<div class="banner"><${Alert}>Queue counts: ${state.statsError}<//></div>`}
    <main id="main" tabindex="-1">
      <${View} r=${r} />
    </main>
    <${Dialogs} />
  `;
}

setTokenPrompt(promptToken);
render(html`<${App} />`, document.getElementById('app'));
startStream();
refreshStats();
