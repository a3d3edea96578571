// The overview: the default queue's counts per state, live, and a line for
// each other queue; charts of the last 15 minutes; dependency health; a form
// to add mock-data jobs.
import { useEffect, useState } from 'preact/hooks';
import { html, useStore, useNow, Chart, Alert } from '../ui.js';
import { get, post, capabilities } from '../api.js';
import { state, live, refreshStats, followQueue } from '../store.js';
import { Live } from '../live.js';
import { dateTime, duration } from '../format.js';
import { jobsHash } from './jobs.js';

const counts = [
  ['waiting', 'Waiting', 'Ready to run'],
  ['active', 'Active', 'Running now'],
  ['delayed', 'Delayed', 'Due later, or backing off before a retry'],
  ['paused', 'Paused', 'Waiting in the paused queue'],
  ['failed', 'Failed', 'Failed for good and kept'],
  ['completed', 'Completed', 'Completed and kept (removed by default)'],
];

export function Overview() {
  useStore();
  const s = state.stats;
  return html`
    <h1>Overview</h1>
    <section aria-labelledby="counts-h">
      <h2 id="counts-h">${s ? s.queue.name : 'Queue'} ${s && html`<span class="muted">· ${s.queue.isPaused ? 'paused' : 'running'}</span>`}</h2>
      <ul class="cards">
        ${counts.map(([k, label, help]) => html`<li>
          <a class="card" href=${'#/jobs/' + k} title=${help}>
            <span class="card-label">${label}</span>
            <span class="card-value" data-testid=${'count-' + k}>${s ? s.queue[k].toLocaleString() : '–'}</span>
          </a></li>`)}
      </ul>
      <ul class="cards totals">
        <li><div class="card"><span class="card-label">Completed, all time</span><span class="card-value" data-testid="count-completedTotal">${s ? s.queue.completedTotal.toLocaleString() : '–'}</span></div></li>
        <li><div class="card"><span class="card-label">Failed, all time</span><span class="card-value" data-testid="count-failedTotal">${s ? s.queue.failedTotal.toLocaleString() : '–'}</span></div></li>
        <li><div class="card"><span class="card-label">Cancelled, all time</span><span class="card-value" data-testid="count-cancelledTotal">${s ? (s.queue.cancelledTotal ?? 0).toLocaleString() : '–'}</span></div></li>
        <li><a class="card" href="#/events"><span class="card-label">Events stored</span><span class="card-value" data-testid="count-events">${s ? s.events.total.toLocaleString() : '–'}</span></a></li>
      </ul>
      <p class="hint">Counts from <code>GET /api/events/stats</code>, reloaded when the lifecycle stream reports a change.</p>
      <${Generate} />
    </section>
    ${s?.queues?.length > 1 && html`<${OtherQueues} queues=${s.queues.slice(1)} />`}
    <${Charts} />
    <${EventRate} />
    <${Health} />
  `;
}

// OtherQueues gives each queue but the default one a line of counts, each
// linking to its jobs. While it shows, it follows those queues' streams, so
// that their counts are reloaded on their own events too.
function OtherQueues({ queues }) {
  const names = queues.map((q) => q.name).join('\n');
  useEffect(() => {
    const stops = names.split('\n').map((name) => followQueue(name));
    return () => stops.forEach((stop) => stop());
  }, [names]);
  return html`<section aria-labelledby="queues-h">
    <h2 id="queues-h">Other queues</h2>
    <ul class="queue-lines">${queues.map((q) => html`<li data-testid=${'queue-' + q.name}>
      <a href=${jobsHash('waiting', q.name)}><strong>${q.name}</strong></a> <span class="muted">${q.isPaused ? 'paused' : 'running'}</span>: ${counts.map(([k, label, help], i) => html`${i ? ', ' : ''}<a href=${jobsHash(k, q.name)} title=${help} data-testid=${`queue-${q.name}-${k}`}>${q[k].toLocaleString()} ${label.toLowerCase()}</a>`)}
    </li>`)}</ul>
  </section>`;
}

function Generate() {
  const [msg, setMsg] = useState('');
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const count = Number(new FormData(e.target).get('count'));
    setError(null);
    try {
      const r = await post('/api/events/generate-mock', { count });
      setMsg(`Added ${r.jobIds.length} job${r.jobIds.length === 1 ? '' : 's'}.`);
      refreshStats();
    } catch (err) {
      setError(err);
      setMsg('');
    }
  };
  return html`<form class="inline" onSubmit=${submit}>
    <label for="mock-count">Mock-data jobs to add</label>
    <input id="mock-count" name="count" type="number" min="1" max="1000" defaultValue="10" required />
    <button type="submit">Add jobs</button>
    <span role="status" class="muted">${msg}</span>
    <${Alert} error=${error} />
  </form>`;
}

function Charts() {
  const now = useNow(1000);
  const queue = state.stats?.queue.name;
  const sec = Math.floor(now / 1000) - 1; // the last whole second
  const start = live.start(sec);
  const bin = Live.bin(sec - start);
  const d = live.series(sec, start, bin);
  const t = live.totals();
  const since = live.since ? `the charts start at ${dateTime(new Date(start * 1000).toISOString())}${bin > 1 ? `, one point per ${bin} s` : ''}` : 'no events yet';
  return html`<section aria-labelledby="charts-h">
    <h2 id="charts-h">Throughput and pickup latency, last 15 minutes</h2>
    <p class="hint">Counted in this page from the lifecycle stream${queue ? ` of ${queue}` : ''} (<code>GET /api/jobs/events</code>), which replays what it still holds of the last 15 minutes when the page opens; ${since}.</p>
    <div class="charts">
      <${Chart} id="chart-throughput" title="Jobs finished per second"
        series=${[{ label: 'completed', color: '--ok' }, { label: 'failed', color: '--bad' }]}
        data=${[d.x, d.completed, d.failed]}
        summary=${`${t.completed} completed and ${t.failed} failed in the window.`} />
      <${Chart} id="chart-latency" title="Pickup latency (ready → started), ms"
        series=${[{ label: 'median', color: '--accent', unit: ' ms', points: true }, { label: 'max', color: '--warn', unit: ' ms', points: true }]}
        data=${[d.x, d.p50, d.max]}
        summary=${t.pickups ? `${t.pickups} pickups measured: median ${t.p50} ms, max ${t.max} ms (event times have millisecond resolution).` : 'No pickups measured yet: a job must be added and started while the page watches.'} />
    </div>
  </section>`;
}

// rateEvery is how often the events-per-minute chart reloads: the counts
// of a minute are stored once it has closed.
const rateEvery = 60000;

// EventRate charts events stored per minute over the last hour from the
// stored per-minute counts (GET /api/events/counts), where the server has
// them. Minutes without events are drawn as 0; the minute in progress is
// not counted yet, so the chart ends at the last closed minute.
function EventRate() {
  const [res, set] = useState({ state: 'loading' });
  useEffect(() => {
    let stop = false;
    const load = async () => {
      try {
        const caps = await capabilities();
        if (!caps.eventCounts) return !stop && set({ state: 'absent' });
        const to = Math.floor(Date.now() / 60000) * 60000; // the open minute's start
        const from = to - 60 * 60000;
        const r = await get('/api/events/counts', { query: { from: new Date(from).toISOString(), to: new Date(to).toISOString() } });
        const per = new Map();
        for (let m = from; m < to; m += 60000) per.set(m / 1000, 0);
        for (const it of r.items || []) {
          const m = Math.floor(Date.parse(it.minute) / 1000);
          per.set(m, (per.get(m) || 0) + it.count);
        }
        const x = [...per.keys()].sort((a, b) => a - b);
        !stop && set({ state: 'ok', data: [x, x.map((k) => per.get(k))] });
      } catch (error) {
        if (error.status === 404) return !stop && set({ state: 'absent' });
        !stop && set({ state: 'error', error });
      }
    };
    load();
    const t = setInterval(load, rateEvery);
    return () => { stop = true; clearInterval(t); };
  }, []);
  const total = res.state === 'ok' ? res.data[1].reduce((a, b) => a + b, 0) : 0;
  return html`<section aria-labelledby="rate-h">
    <h2 id="rate-h">Events stored per minute</h2>
    ${res.state === 'absent' && html`<p class="notice" data-testid="event-rate-absent">Not available from this server: it has no <code>GET /api/events/counts</code> (per-minute rollups), so this chart is not drawn rather than estimated.</p>`}
    ${res.state === 'error' && html`<${Alert} error=${res.error} />`}
    ${res.state === 'ok' && html`<${Chart} id="chart-rate" title="Events per minute, last hour" series=${[{ label: 'events', color: '--accent' }]} data=${res.data} summary=${`${total.toLocaleString()} events in the last hour's closed minutes.`} />
      <p class="hint" data-testid="event-rate-total" data-total=${total}>From <code>GET /api/events/counts</code>: counts stored as each minute closes (and at once for imported past events), reloaded every ${duration(rateEvery)}.</p>`}
  </section>`;
}

const healthEvery = 30000;

function Health() {
  const [h, set] = useState(null);
  const [error, setError] = useState(null);
  const [at, setAt] = useState(null);
  const check = async () => {
    try {
      set(await get('/api/events/health'));
      setError(null);
    } catch (err) {
      // A 503 carries the same body: show which dependency is down.
      if (err.problem?.dependencies) set(err.problem);
      else setError(err);
    }
    setAt(new Date().toISOString());
  };
  useEffect(() => {
    check();
    // Health is not in the stream: it is checked on open, every 30 s while
    // the overview is shown, and on demand.
    const t = setInterval(check, healthEvery);
    return () => clearInterval(t);
  }, []);
  const deps = Object.entries(h?.dependencies || {}).sort();
  return html`<section aria-labelledby="health-h">
    <h2 id="health-h">Health</h2>
    <${Alert} error=${error} />
    ${h && html`<table class="table compact">
      <caption class="hint">${h.version ? `eventsd ${h.version}. ` : ''}Checked ${at ? dateTime(at) : ''} (every ${duration(healthEvery)} here).</caption>
      <thead><tr><th scope="col">Dependency</th><th scope="col">Status</th><th scope="col">Latency</th><th scope="col">Error</th></tr></thead>
      <tbody>${deps.map(([name, d]) => html`<tr data-testid=${'health-' + name}>
        <th scope="row">${name}</th>
        <td><span class=${'badge ' + (d.status === 'up' ? 'state-completed' : 'state-failed')}>${d.status}</span></td>
        <td>${d.latencyMs.toFixed(2)} ms</td>
        <td>${d.error || ''}</td>
      </tr>`)}</tbody>
    </table>`}
    <button type="button" onClick=${check}>Check now</button>
  </section>`;
}
