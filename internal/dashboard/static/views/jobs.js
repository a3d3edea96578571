// Jobs: one queue's jobs (the default queue's unless the URL names another),
// a tab per state with its count, a table paged by cursor (stable while jobs
// move) that follows the stream, find by id, and retry of every failed job.
import { useEffect, useState } from 'preact/hooks';
import { html, useStore, useLoad, useNow, Alert, confirmAction } from '../ui.js';
import { get, post, enc } from '../api.js';
import { state, queueStats, followQueue, refreshStats } from '../store.js';
import { ago, dateTime, firstLine, percent } from '../format.js';

export const states = ['waiting', 'paused', 'active', 'delayed', 'failed', 'completed'];
const pageSize = 20;

export function Jobs({ state: st, queue, query }) {
  useStore();
  const now = useNow();
  useEffect(() => followQueue(queue), [queue]);
  const cursor = query.get('cursor') || '';
  // Cursors of the pages before this one ('-' the first), so that
  // "Previous" can go back: a cursor only goes forward.
  const back = (query.get('back') || '').split(',').filter(Boolean);
  const valid = states.includes(st);
  const res = useLoad(() => (valid ? get('/api/jobs', { query: { state: st, cursor, limit: pageSize, queue } }) : null), [st, cursor, queue], {
    accept: (ev) => ev.queue === queue && (ev.jobId !== undefined || ev.type === 'paused' || ev.type === 'resumed'),
    throttle: 1000,
  });
  const counts = queueStats(queue);
  const total = res.data?.counts?.[st] ?? counts?.[st];
  const items = res.data?.items || [];
  return html`
    <h1>Jobs</h1>
    <${QueuePicker} st=${st} queue=${queue} />
    <${FindJob} queue=${queue} />
    <nav aria-label="Job states" class="tabs">
      <ul>${states.map((s) => html`<li><a href=${jobsHash(s, queue)} aria-current=${s === st ? 'page' : undefined}>${s} <span class="count" data-testid=${'tab-count-' + s}>${counts ? counts[s].toLocaleString() : ''}</span></a></li>`)}</ul>
    </nav>
    ${!valid && html`<${Alert}>Unknown state “${st}”; pick one above.<//>`}
    ${st === 'failed' && html`<${RetryAll} count=${total} queue=${queue} />`}
    <${Alert} error=${res.error} />
    ${valid && html`<div class="table-wrap" tabindex="0" role="region" aria-label=${st + ' jobs'}>
      <table class="table" data-testid="jobs-table">
        <thead><tr>
          <th scope="col">Id</th><th scope="col">Name</th><th scope="col">Attempts</th>
          <th scope="col">Added</th><th scope="col">Progress</th><th scope="col">${st === 'delayed' ? 'Due' : 'Error'}</th>
        </tr></thead>
        <tbody>
          ${items.map((j) => html`<tr>
            <td><a href=${jobHash(j.id, queue)}>${j.id}</a></td>
            <td>${j.name}</td>
            <td>${j.attempt} / ${j.maxAttempts}${j.stalls ? html` <span class="muted" title="stalls: deliveries lost with their worker">(${j.stalls} stalled)</span>` : ''}</td>
            <td title=${dateTime(j.addedAt)}>${ago(j.addedAt, now)}</td>
            <td><${Progress} value=${j.progress} /></td>
            <td class="error-cell">${st === 'delayed' ? j.dueAt && html`<span title=${dateTime(j.dueAt)}>${ago(j.dueAt, now)}</span>` : firstLine(j.error)}</td>
          </tr>`)}
        </tbody>
      </table>
      ${!res.loading && items.length === 0 && html`<p class="empty">No ${st} jobs${cursor ? ' on this page' : ''}.</p>`}
    </div>
    <${Pager} st=${st} queue=${queue} cursor=${cursor} back=${back} next=${res.data?.nextCursor} shown=${items.length} total=${total} />`}
  `;
}

export function Progress({ value }) {
  if (value === undefined || value === null) return '';
  const p = percent(value);
  if (p === null) return html`<code>${JSON.stringify(value)}</code>`;
  return html`<progress max="100" value=${p} aria-label=${`progress ${p}%`}></progress> <span class="muted">${p}%</span>`;
}

/** jobsHash links to a page of queue's jobs in state st: the first, or the one at cursor with back the cursors before it. */
export function jobsHash(st, queue = '', cursor = '', back = []) {
  const q = new URLSearchParams();
  if (queue) q.set('queue', queue);
  if (cursor) q.set('cursor', cursor);
  if (back.length) q.set('back', back.join(','));
  const qs = q.toString();
  return `#/jobs/${st}` + (qs ? '?' + qs : '');
}

/** jobHash links to the page of job id of queue. */
export function jobHash(id, queue = '') {
  return '#/job/' + enc(id) + (queue ? '?queue=' + enc(queue) : '');
}

function Pager({ st, queue, cursor, back, next, shown, total }) {
  if (back.length === 0 && !next) return null;
  const prev = back.length > 0 ? jobsHash(st, queue, back[back.length - 1] === '-' ? '' : back[back.length - 1], back.slice(0, -1)) : null;
  // Where this page starts is approximate: jobs before it may have moved.
  const first = back.length * pageSize;
  return html`<nav class="pager" aria-label="Pages">
    ${prev ? html`<a href=${prev}>← Previous</a>` : html`<span></span>`}
    <span class="muted" data-testid="jobs-page">${shown ? `${first + 1}–${first + shown}` : '0'}${total !== undefined ? ` of ${total.toLocaleString()}` : ''}</span>
    ${next ? html`<a href=${jobsHash(st, queue, next, [...back, cursor || '-'])}>Next →</a>` : html`<span></span>`}
  </nav>`;
}

// QueuePicker names the queue shown, from the stats' list; picking another
// starts at its first page. The default queue stays out of the URL.
function QueuePicker({ st, queue }) {
  const all = state.stats?.queues || [];
  if (all.length < 2) return null;
  const pick = (e) => {
    const name = e.target.value;
    location.hash = jobsHash(st, name === all[0].name ? '' : name);
  };
  return html`<div class="inline">
    <label for="job-queue">Queue</label>
    <select id="job-queue" value=${queue || all[0].name} onChange=${pick}>
      ${all.map((q) => html`<option value=${q.name}>${q.name}</option>`)}
    </select>
  </div>`;
}

function FindJob({ queue }) {
  const submit = (e) => {
    e.preventDefault();
    const id = new FormData(e.target).get('id').trim();
    if (id) location.hash = jobHash(id, queue);
  };
  return html`<form class="inline" role="search" onSubmit=${submit}>
    <label for="find-job">Job id</label>
    <input id="find-job" name="id" type="search" required autocomplete="off" spellcheck="false" />
    <button type="submit">Open job</button>
  </form>`;
}

function RetryAll({ count, queue }) {
  const [msg, setMsg] = useState('');
  const [error, setError] = useState(null);
  const click = async () => {
    const ok = await confirmAction({
      title: 'Retry every failed job?',
      message: `All ${count ?? ''} failed jobs go back to waiting with their retries renewed (POST /api/jobs/retry-failed).`,
      confirm: 'Retry all',
    });
    if (!ok) return;
    setError(null);
    try {
      const r = await post('/api/jobs/retry-failed', undefined, { query: { queue } });
      setMsg(`${r.retried} job${r.retried === 1 ? '' : 's'} put back to waiting.`);
      refreshStats();
    } catch (err) {
      setError(err);
    }
  };
  return html`<div class="inline">
    <button type="button" onClick=${click} disabled=${!count}>Retry all failed</button>
    <span role="status" class="muted">${msg}</span>
    <${Alert} error=${error} />
  </div>`;
}
