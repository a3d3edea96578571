// Webhooks: subscriptions, a page at a time; a subscription's page with its
// delivery attempts (outcome, status, duration, error, next retry) and a
// retry per delivery, behind a confirmation; an attempt's number links to
// the job that made it, in that job's queue. Where the server has no
// webhooks (GET /api/webhooks absent from its OpenAPI document) the view
// says so.
import { useState } from 'preact/hooks';
import { html, useLoad, useNow, Alert, Json, confirmAction } from '../ui.js';
import { get, post, enc, capabilities } from '../api.js';
import { queueParam } from '../store.js';
import { ago, dateTime, firstLine } from '../format.js';
import { jobHash } from './jobs.js';

const pageSize = 25;

export function Webhooks({ query }) {
  const caps = useLoad(() => capabilities(), []);
  const sub = query.get('id');
  return html`
    <h1>Webhooks</h1>
    <${Alert} error=${caps.error} />
    ${caps.data && !caps.data.webhooks && html`<p class="notice" data-testid="webhooks-absent">Not available from this server: its API has no webhook subscriptions (<code>GET /api/webhooks</code> is not in <a href="../api/docs">its OpenAPI document</a>).</p>`}
    ${caps.data?.webhooks && (sub ? html`<${Deliveries} id=${sub} cursor=${query.get('cursor') || ''} />` : html`<${Subscriptions} cursor=${query.get('cursor') || ''} />`)}
  `;
}

function Subscriptions({ cursor }) {
  const res = useLoad(() => get('/api/webhooks', { query: { limit: pageSize, cursor } }), [cursor]);
  const items = res.data?.items || [];
  return html`
    <p>Events whose names match a subscription's patterns are POSTed to its URL, signed (Standard Webhooks). Create subscriptions with <code>POST /api/webhooks</code>.</p>
    <${Alert} error=${res.error} />
    <div class="table-wrap" tabindex="0" role="region" aria-label="Subscriptions">
      <table class="table" data-testid="webhooks-table">
        <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Enabled</th><th scope="col">Failures</th><th scope="col">Description</th><th scope="col">Created</th></tr></thead>
        <tbody>${items.map((w) => html`<tr>
          <td><a href=${'#/webhooks?id=' + enc(w.id)} aria-label=${'Deliveries of ' + w.url}>${w.url}</a></td>
          <td>${(w.events || []).map((p) => html`<code>${p}</code> `)}</td>
          <td>${w.enabled ? html`<span class="badge state-completed">enabled</span>` : html`<span class="badge state-failed">disabled</span>${w.disabledReason ? html` <small>${w.disabledReason}</small>` : ''}`}</td>
          <td>${w.failures || 0}</td>
          <td>${w.description || ''}</td>
          <td>${w.createdAt ? dateTime(w.createdAt) : ''}</td>
        </tr>`)}</tbody>
      </table>
      ${!res.loading && items.length === 0 && html`<p class="empty">No subscriptions.</p>`}
    </div>
    <nav class="pager" aria-label="Pages">
      ${cursor ? html`<a href="#/webhooks">← First</a>` : html`<span></span>`}
      ${res.data?.nextCursor && html`<a href=${'#/webhooks?cursor=' + enc(res.data.nextCursor)}>Next →</a>`}
    </nav>`;
}

const outcomeClass = { delivered: 'state-completed', retrying: 'state-delayed', failed: 'state-failed' };

function Deliveries({ id, cursor }) {
  const now = useNow();
  const sub = useLoad(() => get(`/api/webhooks/${enc(id)}`), [id]);
  const res = useLoad(() => get(`/api/webhooks/${enc(id)}/deliveries`, { query: { limit: pageSize, cursor } }), [id, cursor]);
  const [error, setError] = useState(null);
  const [sent, setSent] = useState(null); // the job a retry queued: {jobId, jobQueue}
  const items = res.data?.items || [];
  const w = sub.data;
  const retry = async (d) => {
    if (!(await confirmAction({ title: 'Send this delivery again?', message: `Delivery ${d.deliveryId} (event “${d.eventName}”) is sent once more, with the same webhook-id (POST /api/webhooks/{id}/deliveries/{deliveryId}/retry).`, confirm: 'Send again' }))) return;
    try {
      const r = await post(`/api/webhooks/${enc(id)}/deliveries/${enc(d.deliveryId)}/retry`);
      setError(null);
      setSent(r);
      res.reload();
      setTimeout(() => res.reload(), 1000); // the attempt runs in a moment
    } catch (err) {
      setError(err);
    }
  };
  return html`
    <p class="crumbs"><a href="#/webhooks">Webhooks</a> / <code>${id}</code></p>
    <${Alert} error=${sub.error} />
    ${w && html`<dl class="facts">
      <div><dt>URL</dt><dd>${w.url}</dd></div>
      <div><dt>Events</dt><dd>${w.events.map((p) => html`<code>${p}</code> `)}</dd></div>
      <div><dt>State</dt><dd data-testid="webhook-state">${w.enabled ? 'enabled' : 'disabled' + (w.disabledReason ? ': ' + w.disabledReason : '')}</dd></div>
      <div><dt>Failures in a row</dt><dd>${w.failures}</dd></div>
    </dl>`}
    <div class="actions"><h2>Deliveries</h2> <button type="button" class="small" onClick=${() => res.reload()}>Refresh</button></div>
    <${Alert} error=${res.error || error} />
    ${sent && html`<p role="status">Queued as job <a href=${jobHash(sent.jobId, queueParam(sent.jobQueue))}>${sent.jobId}</a>.</p>`}
    <div class="table-wrap" tabindex="0" role="region" aria-label="Deliveries">
      <table class="table" data-testid="deliveries-table">
        <thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Attempt</th><th scope="col">Outcome</th><th scope="col">Status</th><th scope="col">Took</th><th scope="col">Error or answer</th><th scope="col">Next retry</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>${items.map((d) => html`<tr>
          <td title=${ago(d.createdAt, now)}>${dateTime(d.createdAt)}</td>
          <td>${d.eventName === 'webhook.test' ? d.eventName : html`<a href=${'#/events/' + enc(d.eventId)}>${d.eventName}</a>`}</td>
          <td>${d.jobId && d.jobQueue ? html`<a href=${jobHash(d.jobId, queueParam(d.jobQueue))} title="Its deliver-webhook job" aria-label=${'Job of attempt ' + d.attempt + ' of ' + d.deliveryId}>${d.attempt}</a>` : d.attempt}</td>
          <td><span class=${'badge ' + (outcomeClass[d.outcome] || '')} data-testid="delivery-outcome">${d.outcome}</span></td>
          <td>${d.statusCode || '–'}</td>
          <td>${d.durationMs} ms</td>
          <td>${d.error ? firstLine(d.error) : html`<small>${firstLine(d.response || '')}</small>`}</td>
          <td>${d.nextRetryAt ? dateTime(d.nextRetryAt) : ''}</td>
          <td><button type="button" class="small" onClick=${() => retry(d)} aria-label=${'Send delivery ' + d.deliveryId + ' again'}>Retry</button></td>
        </tr>`)}</tbody>
      </table>
      ${!res.loading && items.length === 0 && html`<p class="empty">No deliveries yet.</p>`}
    </div>
    <nav class="pager" aria-label="Pages">
      ${cursor ? html`<a href=${'#/webhooks?id=' + enc(id)}>← Newest</a>` : html`<span></span>`}
      ${res.data?.nextCursor && html`<a href=${'#/webhooks?id=' + enc(id) + '&cursor=' + enc(res.data.nextCursor)}>Older →</a>`}
    </nav>
    ${items[0] && html`<details><summary>The latest attempt as JSON</summary><${Json} value=${items[0]} label="The latest attempt" /></details>`}`;
}
