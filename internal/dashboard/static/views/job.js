// A job's page: its state, data and options, a timeline of its attempts,
// progress, result and actions, following the stream while it runs. Job ids
// are unique within a queue only, so the page names its queue in every call.
import { useEffect, useState } from 'preact/hooks';
import { html, useLoad, useNow, Alert, StateBadge, Json, confirmAction } from '../ui.js';
import { get, post, del, enc } from '../api.js';
import { live, followQueue, refreshStats } from '../store.js';
import { ago, dateTime } from '../format.js';
import { Progress, jobsHash } from './jobs.js';
import { timeline } from '../timeline.js';

// What each action does, when it is allowed, and how the API words it.
const actions = [
  { key: 'retry', label: 'Retry', states: ['failed'], run: (id, queue) => post(`/api/jobs/${enc(id)}/retry`, undefined, { query: { queue } }),
    message: 'The job goes back to waiting with its retries renewed (POST /api/jobs/{id}/retry).' },
  { key: 'promote', label: 'Promote', states: ['delayed'], run: (id, queue) => post(`/api/jobs/${enc(id)}/promote`, undefined, { query: { queue } }),
    message: 'The delayed job becomes ready to run now (POST /api/jobs/{id}/promote).' },
  { key: 'cancel', label: 'Cancel job', states: ['waiting', 'paused', 'delayed', 'active'], danger: true, run: (id, queue) => post(`/api/jobs/${enc(id)}/cancel`, undefined, { query: { queue } }),
    message: 'A waiting or delayed job fails at once; a running one has its handler cancelled, in whichever process runs it, and fails without a retry (POST /api/jobs/{id}/cancel).' },
  { key: 'remove', label: 'Remove', states: ['waiting', 'paused', 'delayed', 'failed', 'completed'], danger: true, run: (id, queue) => del(`/api/jobs/${enc(id)}`, { query: { queue } }),
    message: 'The job is deleted from the queue and cannot be retried (DELETE /api/jobs/{id}).' },
];

export function Job({ id, queue }) {
  const now = useNow();
  useEffect(() => followQueue(queue), [queue]);
  const res = useLoad(() => get(`/api/jobs/${enc(id)}`, { query: { queue } }), [id, queue], { accept: (ev) => ev.queue === queue && ev.jobId === id, throttle: 300 });
  const [msg, setMsg] = useState('');
  const [actionError, setActionError] = useState(null);
  const j = res.data;
  // The live figures keep the default queue's events only; another queue's
  // job has the timeline its record tells.
  const seen = queue ? [] : live.eventsOf(id);
  const lastSeen = seen[seen.length - 1];
  // A completed job is removed by default: the stream still tells how it ended.
  const goneState = !j && lastSeen && { completed: 'completed', removed: 'removed' }[lastSeen.type];

  const act = async (a) => {
    const ok = await confirmAction({ title: `${a.label}: job ${id}?`, message: a.message, confirm: a.label, danger: a.danger });
    if (!ok) return;
    setActionError(null);
    setMsg('');
    try {
      await a.run(id, queue);
      setMsg(`${a.label}: done.`);
      refreshStats();
      res.reload();
    } catch (err) {
      setActionError(err);
    }
  };

  return html`
    <p class="crumbs"><a href=${jobsHash('waiting', queue)}>Jobs${queue ? ` (${queue})` : ''}</a>${j && html` / <a href=${jobsHash(j.state, queue)}>${j.state}</a>`}</p>
    <h1>Job <code>${id}</code> ${j ? html`<span data-testid="job-state"><${StateBadge} state=${j.state} /></span>` : goneState && html`<span data-testid="job-state"><${StateBadge} state=${goneState} /></span>`}</h1>
    ${res.error && (res.error.status === 404 ? html`<${Gone} error=${res.error} seen=${seen} />` : html`<${Alert} error=${res.error} />`)}
    ${j && html`
      <dl class="facts">
        <div><dt>Name</dt><dd>${j.name}</dd></div>
        <div><dt>Attempts</dt><dd data-testid="job-attempts">${j.attempt} of ${j.maxAttempts}${j.failures ? ` (${j.failures} failed)` : ''}${j.stalls ? `, ${j.stalls} stalled` : ''}</dd></div>
        <div><dt>Added</dt><dd title=${dateTime(j.addedAt)}>${ago(j.addedAt, now)}</dd></div>
        ${j.startedAt && html`<div><dt>Started</dt><dd title=${dateTime(j.startedAt)}>${ago(j.startedAt, now)}</dd></div>`}
        ${j.finishedAt && html`<div><dt>Finished</dt><dd title=${dateTime(j.finishedAt)}>${ago(j.finishedAt, now)}</dd></div>`}
        ${j.dueAt && html`<div><dt>Due</dt><dd title=${dateTime(j.dueAt)}>${ago(j.dueAt, now)}</dd></div>`}
        ${j.progress !== undefined && html`<div><dt>Progress</dt><dd><${Progress} value=${j.progress} /></dd></div>`}
      </dl>
      ${j.error && html`<div class="error-box"><h2>Error</h2><pre tabindex="0">${j.error}</pre></div>`}
      <div class="actions" role="group" aria-label="Job actions">
        ${actions.filter((a) => a.states.includes(j.state)).map((a) => html`<button type="button" class=${a.danger ? 'danger' : 'primary'} onClick=${() => act(a)}>${a.label}</button>`)}
        <span role="status" class="muted">${msg}</span>
      </div>
      <${Alert} error=${actionError} />
    `}
    ${(j || seen.length > 0) && html`<section aria-labelledby="timeline-h">
      <h2 id="timeline-h">Timeline</h2>
      <${Timeline} items=${timeline(j, seen)} now=${now} />
    </section>`}
    ${j && html`<div class="columns">
      <section><h2>Data</h2><${Json} value=${j.data ?? null} label="Job data" /></section>
      <section><h2>Options</h2><${Json} value=${j.options} label="Job options" /></section>
      ${j.result !== undefined && html`<section><h2>Result</h2><${Json} value=${j.result} label="Job result" /></section>`}
    </div>`}
  `;
}

// Gone explains a 404: the server's words, with a link to the event a
// completed job produced when the server names it.
function Gone({ error, seen }) {
  const detail = error.problem?.detail || error.message;
  const m = /\/api\/events\/([0-9a-f]{24})/.exec(detail);
  return html`<div class="notice" role="status" data-testid="job-gone">
    <p>${detail}</p>
    ${m && html`<p><a href=${'#/events/' + m[1]}>Open event ${m[1]}</a></p>`}
    ${seen.length === 0 && html`<p class="muted">This page saw no lifecycle events for the job.</p>`}
  </div>`;
}

function Timeline({ items, now }) {
  return html`<ol class="timeline" data-testid="timeline">
    ${items.map((it) => html`<li class=${'tl-' + it.kind}>
      <time datetime=${new Date(it.at).toISOString()} title=${dateTime(new Date(it.at).toISOString())}>${dateTime(new Date(it.at).toISOString()).slice(11)} <span class="muted">(${ago(it.at, now)})</span></time>
      <span class="tl-text">${it.text}</span>
      ${it.error && html`<pre class="tl-error">${it.error}</pre>`}
    </li>`)}
  </ol>`;
}
