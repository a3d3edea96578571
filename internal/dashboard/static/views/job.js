// A job's page: its state, data and options, a timeline of its attempts,
// progress, result and actions, following the stream while it runs.
import { useState } from 'preact/hooks';
import { html, useLoad, useNow, Alert, StateBadge, Json, confirmAction } from '../ui.js';
import { get, post, del, enc } from '../api.js';
import { live, refreshStats } from '../store.js';
import { ago, dateTime } from '../format.js';
import { Progress } from './jobs.js';

// What each action does, when it is allowed, and how the API words it.
const actions = [
  { key: 'retry', label: 'Retry', states: ['failed'], run: (id) => post(`/api/jobs/${enc(id)}/retry`),
    message: 'The job goes back to waiting with its retries renewed (POST /api/jobs/{id}/retry).' },
  { key: 'promote', label: 'Promote', states: ['delayed'], run: (id) => post(`/api/jobs/${enc(id)}/promote`),
    message: 'The delayed job becomes ready to run now (POST /api/jobs/{id}/promote).' },
  { key: 'cancel', label: 'Cancel job', states: ['waiting', 'paused', 'delayed', 'active'], danger: true, run: (id) => post(`/api/jobs/${enc(id)}/cancel`),
    message: 'A waiting or delayed job fails at once; a running one has its handler cancelled, in whichever process runs it, and fails without a retry (POST /api/jobs/{id}/cancel).' },
  { key: 'remove', label: 'Remove', states: ['waiting', 'paused', 'delayed', 'failed', 'completed'], danger: true, run: (id) => del(`/api/jobs/${enc(id)}`),
    message: 'The job is deleted from the queue and cannot be retried (DELETE /api/jobs/{id}).' },
];

export function Job({ id }) {
  const now = useNow();
  const res = useLoad(() => get(`/api/jobs/${enc(id)}`), [id], { accept: (ev) => ev.jobId === id, throttle: 300 });
  const [msg, setMsg] = useState('');
  const [actionError, setActionError] = useState(null);
  const j = res.data;
  const seen = live.eventsOf(id);
  const lastSeen = seen[seen.length - 1];
  // A completed job is removed by default: the stream still tells how it ended.
  const goneState = !j && lastSeen && { completed: 'completed', removed: 'removed' }[lastSeen.type];

  const act = async (a) => {
    const ok = await confirmAction({ title: `${a.label}: job ${id}?`, message: a.message, confirm: a.label, danger: a.danger });
    if (!ok) return;
    setActionError(null);
    setMsg('');
    try {
      await a.run(id);
      setMsg(`${a.label}: done.`);
      refreshStats();
      res.reload();
    } catch (err) {
      setActionError(err);
    }
  };

  return html`
    <p class="crumbs"><a href="#/jobs">Jobs</a> / ${j ? html`<a href=${'#/jobs/' + j.state}>${j.state}</a>` : '…'}</p>
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

const t = (iso) => Date.parse(iso);

/**
 * timeline merges what the job record says (added, each failed or stalled
 * attempt, the latest start, the end) with the lifecycle events this page
 * saw for the job (every start, progress, retry, hand action). An entry of
 * the record is dropped when an event says the same thing within a second.
 */
export function timeline(j, seen) {
  const fromStream = seen.map((ev) => streamEntry(ev));
  const fromRecord = [];
  if (j) {
    fromRecord.push({ key: 'added', at: t(j.addedAt), kind: 'added', text: 'Added' });
    for (const h of j.history || []) {
      fromRecord.push(h.stalled
        ? { key: 'stalled:' + h.attempt, at: t(h.at), kind: 'stalled', text: `Attempt ${h.attempt} stalled: its worker was lost (no retry used)`, error: h.error }
        : { key: 'fail:' + h.attempt, at: t(h.at), kind: 'failed', text: `Attempt ${h.attempt} failed`, error: h.error });
    }
    if (j.startedAt) fromRecord.push({ key: 'active:' + j.attempt, at: t(j.startedAt), kind: 'active', text: `Attempt ${j.attempt} started` });
    if (j.finishedAt && j.state === 'completed') fromRecord.push({ key: 'completed', at: t(j.finishedAt), kind: 'completed', text: 'Completed' });
    if (j.finishedAt && j.state === 'failed') fromRecord.push({ key: 'fail:' + j.attempt, at: t(j.finishedAt), kind: 'failed', text: 'Failed for good', error: j.error });
    if (j.dueAt && j.state === 'delayed') fromRecord.push({ key: 'due', at: t(j.dueAt), kind: 'due', text: 'Due to run' });
  }
  const kept = fromRecord.filter((r) => !fromStream.some((s) => s.key === r.key && Math.abs(s.at - r.at) <= 1000));
  return [...kept, ...fromStream].filter((e) => Number.isFinite(e.at)).sort((a, b) => a.at - b.at);
}

function streamEntry(ev) {
  const at = t(ev.time);
  const a = ev.attempt;
  const due = ev.dueAt ? ` at ${dateTime(ev.dueAt)}` : '';
  switch (ev.type) {
    case 'added': return { key: 'added', at, kind: 'added', text: 'Added' + (ev.dueAt ? `, delayed until ${dateTime(ev.dueAt)}` : '') };
    case 'active': return { key: 'active:' + a, at, kind: 'active', text: `Attempt ${a} started` };
    case 'progress': return { key: 'progress', at, kind: 'progress', text: `Progress ${JSON.stringify(ev.progress)}` };
    case 'completed': return { key: 'completed', at, kind: 'completed', text: `Completed${a ? ` (attempt ${a})` : ''}` };
    case 'retrying': return a
      ? { key: 'fail:' + a, at, kind: 'failed', text: `Attempt ${a} failed; retry${due || ' now'}`, error: ev.error }
      : { key: 'retried', at, kind: 'retried', text: 'Retried by hand: back to waiting' };
    case 'failed': return { key: 'fail:' + a, at, kind: 'failed', text: `Failed for good${a ? ` (attempt ${a})` : ''}`, error: ev.error };
    case 'stalled': return { key: 'stalled:' + a, at, kind: 'stalled', text: `Attempt ${a} stalled: its worker was lost (no retry used)` };
    case 'cancelled': return { key: 'cancelled', at, kind: 'failed', text: 'Cancel requested' };
    case 'promoted': return { key: 'promoted', at, kind: 'added', text: 'Promoted: ready to run now' };
    case 'released': return { key: 'released', at, kind: 'stalled', text: 'Handed back unfinished by a stopping worker (no retry used)' };
    case 'removed': return { key: 'removed', at, kind: 'failed', text: 'Removed' };
  }
  return { key: ev.type, at, kind: 'other', text: ev.type };
}
