// Schedules: each cron with its spec in words, last and next run. The list
// is reloaded when the earliest next run has passed (at most every 5 s),
// since a run shows in no stream; relative times tick every second.
import { useEffect } from 'preact/hooks';
import { html, useLoad, useNow, Alert } from '../ui.js';
import { get } from '../api.js';
import { describe } from '../cron.js';
import { ago, dateTime } from '../format.js';

export function Schedules() {
  const now = useNow();
  const res = useLoad(() => get('/api/schedules'), []);
  const items = res.data?.items || [];
  const next = Math.min(...items.map((s) => (s.nextRun ? Date.parse(s.nextRun) : Infinity)));
  useEffect(() => {
    if (!Number.isFinite(next)) return;
    const timer = setTimeout(res.reload, Math.max(next - Date.now() + 250, 5000));
    return () => clearTimeout(timer);
  }, [next]);
  return html`
    <h1>Schedules</h1>
    <p class="hint">From <code>GET /api/schedules</code>. Each slot fires once across all eventsd processes. Cron fields are read in UTC unless the spec names a zone; times below are in your time zone.</p>
    <${Alert} error=${res.error} />
    <div class="table-wrap" tabindex="0" role="region" aria-label="Schedules">
      <table class="table" data-testid="schedules-table">
        <thead><tr><th scope="col">Name</th><th scope="col">Spec</th><th scope="col">In words</th><th scope="col">Last run</th><th scope="col">Next run</th></tr></thead>
        <tbody>${items.map((s) => html`<tr>
          <th scope="row">${s.name}</th>
          <td><code>${s.spec}</code></td>
          <td>${describe(s.spec) || html`<span class="muted">—</span>`}</td>
          <td>${s.lastRun ? html`<span title=${dateTime(s.lastRun)}>${ago(s.lastRun, now)}</span>` : html`<span class="muted">not yet</span>`}</td>
          <td>${s.nextRun ? html`<span title=${dateTime(s.nextRun)}>${dateTime(s.nextRun)} <span class="muted">(${ago(s.nextRun, now)})</span></span>` : html`<span class="muted">none</span>`}</td>
        </tr>`)}</tbody>
      </table>
      ${!res.loading && items.length === 0 && html`<p class="empty">No schedules: this process runs no scheduler, or none is configured.</p>`}
    </div>
  `;
}
