// Webhooks: subscriptions, their deliveries, and retry of a delivery, where
// the server has them (GET /api/webhooks in its OpenAPI document). Until
// then the view says that this server has no webhooks.
import { useState } from 'preact/hooks';
import { html, useLoad, Alert, Json, confirmAction } from '../ui.js';
import { get, post, enc, capabilities } from '../api.js';
import { dateTime } from '../format.js';

export function Webhooks({ query }) {
  const caps = useLoad(() => capabilities(), []);
  const sub = query.get('id');
  return html`
    <h1>Webhooks</h1>
    <${Alert} error=${caps.error} />
    ${caps.data && !caps.data.webhooks && html`<p class="notice" data-testid="webhooks-absent">Not available from this server: its API has no webhook subscriptions (<code>GET /api/webhooks</code> is not in <a href="../api/docs">its OpenAPI document</a>).</p>`}
    ${caps.data?.webhooks && (sub ? html`<${Deliveries} id=${sub} />` : html`<${Subscriptions} />`)}
  `;
}

function Subscriptions() {
  const res = useLoad(() => get('/api/webhooks'), []);
  const items = res.data?.items || [];
  return html`
    <${Alert} error=${res.error} />
    <div class="table-wrap" tabindex="0" role="region" aria-label="Subscriptions">
      <table class="table">
        <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Enabled</th><th scope="col">Description</th><th scope="col">Created</th></tr></thead>
        <tbody>${items.map((w) => html`<tr>
          <td><a href=${'#/webhooks?id=' + enc(w.id)}>${w.url}</a></td>
          <td>${(w.events || []).join(', ')}</td>
          <td>${w.enabled ? 'yes' : html`no${w.disabledReason ? `: ${w.disabledReason}` : ''}`}</td>
          <td>${w.description || ''}</td>
          <td>${w.createdAt ? dateTime(w.createdAt) : ''}</td>
        </tr>`)}</tbody>
      </table>
      ${!res.loading && items.length === 0 && html`<p class="empty">No subscriptions.</p>`}
    </div>`;
}

function Deliveries({ id }) {
  const res = useLoad(() => get(`/api/webhooks/${enc(id)}/deliveries`), [id]);
  const [error, setError] = useState(null);
  const items = res.data?.items || [];
  const retry = async (d) => {
    if (!(await confirmAction({ title: 'Send this delivery again?', message: `Delivery ${d.id} is sent again (POST /api/webhooks/{id}/deliveries/{deliveryId}/retry).`, confirm: 'Retry' }))) return;
    try {
      await post(`/api/webhooks/${enc(id)}/deliveries/${enc(d.id)}/retry`);
      setError(null);
      res.reload();
    } catch (err) {
      setError(err);
    }
  };
  return html`
    <p class="crumbs"><a href="#/webhooks">Webhooks</a> / <code>${id}</code></p>
    <h2>Deliveries</h2>
    <${Alert} error=${res.error || error} />
    <ul class="deliveries">${items.map((d) => html`<li>
      <details>
        <summary><code>${d.id}</code> ${d.statusCode ?? d.status ?? ''} ${d.error ? '· ' + d.error : ''}</summary>
        <${Json} value=${d} label=${'Delivery ' + d.id} />
      </details>
      <button type="button" class="small" onClick=${() => retry(d)}>Retry</button>
    </li>`)}</ul>
    ${!res.loading && items.length === 0 && html`<p class="empty">No deliveries.</p>`}`;
}
