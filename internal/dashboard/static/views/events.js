// Events: newest first, a page at a time by cursor, filtered by name and
// time; an event's page; delete. The first page follows the stream: a
// completed job has usually just stored an event. Filter inputs are
// uncontrolled (defaultValue): the page re-renders every second for
// relative times, which would otherwise undo what the user types.
import { useState } from 'preact/hooks';
import { html, useLoad, useNow, Alert, confirmAction } from '../ui.js';
import { get, del, enc } from '../api.js';
import { refreshStats } from '../store.js';
import { ago, dateTime, localInput, fromLocalInput } from '../format.js';

const pageSize = 25;

function hashWith(query, changes) {
  const q = new URLSearchParams(query);
  for (const [k, v] of Object.entries(changes)) {
    if (v) q.set(k, v);
    else q.delete(k);
  }
  const s = q.toString();
  return '#/events' + (s ? '?' + s : '');
}

export function Events({ query }) {
  const now = useNow();
  const name = query.get('name') || '';
  const from = query.get('from') || '';
  const to = query.get('to') || '';
  const cursor = query.get('cursor') || '';
  // Cursors of the pages before this one, so that "Newer" can go back.
  const back = (query.get('back') || '').split(',').filter(Boolean);
  const res = useLoad(() => get('/api/events', { query: { limit: pageSize, name, from, to, cursor } }), [name, from, to, cursor], {
    accept: (ev) => !cursor && ev.type === 'completed',
    throttle: 2000,
  });
  const [error, setError] = useState(null);
  const items = res.data?.items || [];

  const filter = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    location.hash = hashWith('', {
      name: f.get('name').trim(),
      from: fromLocalInput(f.get('from')),
      to: fromLocalInput(f.get('to')),
    });
  };
  const remove = async (ev) => {
    if (!(await confirmAction({ title: 'Delete this event?', message: `Event ${ev.id} (“${ev.name}”) is deleted from the store (DELETE /api/events/{id}).`, confirm: 'Delete', danger: true }))) return;
    try {
      await del(`/api/events/${enc(ev.id)}`);
      setError(null);
      refreshStats();
      res.reload();
    } catch (err) {
      setError(err);
    }
  };
  const prev = back.length > 0 ? hashWith(query, { cursor: back[back.length - 1] === '-' ? '' : back[back.length - 1], back: back.slice(0, -1).join(',') }) : null;
  const next = res.data?.nextCursor ? hashWith(query, { cursor: res.data.nextCursor, back: [...back, cursor || '-'].join(',') }) : null;

  return html`
    <h1>Events</h1>
    <form class="filters" onSubmit=${filter} aria-label="Filter events" key=${[name, from, to].join('|')}>
      <div><label for="ev-name">Name</label><input id="ev-name" name="name" defaultValue=${name} maxlength="200" spellcheck="false" /></div>
      <div><label for="ev-from">From (your time)</label><input id="ev-from" name="from" type="datetime-local" step="1" defaultValue=${localInput(from)} /></div>
      <div><label for="ev-to">Before (your time)</label><input id="ev-to" name="to" type="datetime-local" step="1" defaultValue=${localInput(to)} /></div>
      <div class="filter-actions"><button type="submit" class="primary">Filter</button> <a href="#/events">Clear</a></div>
    </form>
    <${Alert} error=${res.error || error} />
    <div class="table-wrap" tabindex="0" role="region" aria-label="Events">
      <table class="table" data-testid="events-table">
        <thead><tr><th scope="col">Created</th><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Job</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>${items.map((ev) => html`<tr>
          <td title=${ago(ev.createdAt, now)}>${dateTime(ev.createdAt)}</td>
          <td>${ev.name}</td>
          <td><a href=${'#/events/' + enc(ev.id)}><code>${ev.id}</code></a></td>
          <td>${ev.jobId && html`<a href=${'#/job/' + enc(ev.jobId)}>${ev.jobId}</a>`}</td>
          <td><button type="button" class="small danger" onClick=${() => remove(ev)} aria-label=${'Delete event ' + ev.id}>Delete</button></td>
        </tr>`)}</tbody>
      </table>
      ${!res.loading && items.length === 0 && html`<p class="empty">No events${name || from || to ? ' match the filter' : ''}.</p>`}
    </div>
    <nav class="pager" aria-label="Pages">
      ${prev ? html`<a href=${prev}>← Newer</a>` : html`<span></span>`}
      <span class="muted">newest first, ${pageSize} a page</span>
      ${next ? html`<a href=${next}>Older →</a>` : html`<span></span>`}
    </nav>
  `;
}

export function EventDetail({ id }) {
  const res = useLoad(() => get(`/api/events/${enc(id)}`), [id]);
  const [deleted, setDeleted] = useState(false);
  const [error, setError] = useState(null);
  const ev = res.data;
  const remove = async () => {
    if (!(await confirmAction({ title: 'Delete this event?', message: `Event ${id} is deleted from the store (DELETE /api/events/{id}).`, confirm: 'Delete', danger: true }))) return;
    try {
      await del(`/api/events/${enc(id)}`);
      setDeleted(true);
      refreshStats();
    } catch (err) {
      setError(err);
    }
  };
  return html`
    <p class="crumbs"><a href="#/events">Events</a></p>
    <h1>Event <code>${id}</code></h1>
    ${deleted ? html`<p class="notice" role="status">Deleted.</p>` : html`<${Alert} error=${res.error || error} />`}
    ${ev && !deleted && html`
      <dl class="facts">
        <div><dt>Name</dt><dd>${ev.name}</dd></div>
        <div><dt>Created</dt><dd>${dateTime(ev.createdAt)} <span class="muted">(${ev.createdAt})</span></dd></div>
        <div><dt>Job</dt><dd>${ev.jobId ? html`<a href=${'#/job/' + enc(ev.jobId)}>${ev.jobId}</a>` : html`<span class="muted">none: created through the API</span>`}</dd></div>
      </dl>
      <button type="button" class="danger" onClick=${remove}>Delete event</button>
    `}
  `;
}
