// ui.js: the pieces views share: the html tag, dialogs, charts, badges.
import { h } from 'preact';
import { useEffect, useReducer, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import uPlot from './vendor/uPlot.esm.js';
import { subscribe, onJobEvent } from './store.js';

export const html = htm.bind(h);

/** useStore re-renders the component whenever the shared state changes. */
export function useStore() {
  const [, bump] = useReducer((n) => n + 1, 0);
  useEffect(() => subscribe(bump), []);
}

/** useNow re-renders every second, for relative times; it returns Date.now(). */
export function useNow(ms = 1000) {
  const [now, set] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => set(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/**
 * useLoad runs load() now, again when deps change, and again after stream
 * events that accept(ev) says concern it (throttled to one run per
 * `throttle` ms). It returns {data, error, loading, reload}.
 */
export function useLoad(load, deps, { accept = () => false, throttle = 500 } = {}) {
  const [res, set] = useState({ data: null, error: null, loading: true });
  const gen = useRef(0);
  const run = useRef(null);
  run.current = async () => {
    const g = ++gen.current;
    set((r) => ({ ...r, loading: true }));
    try {
      const data = await load();
      if (g === gen.current) set({ data, error: null, loading: false });
    } catch (error) {
      if (g === gen.current) set({ data: null, error, loading: false });
    }
  };
  useEffect(() => {
    run.current();
  }, deps);
  useEffect(() => {
    let timer = null;
    const off = onJobEvent((ev) => {
      if (ev.type !== 'connected' && !accept(ev)) return;
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        run.current();
      }, throttle);
    });
    return () => {
      off();
      clearTimeout(timer);
    };
  }, deps);
  return { ...res, reload: () => run.current() };
}

/** Alert shows an error for screen readers and eyes. */
export function Alert({ error, children }) {
  if (!error && !children) return null;
  return html`<p class="alert" role="alert">${children || error.message || String(error)}</p>`;
}

export function StateBadge({ state }) {
  return html`<span class=${'badge state-' + state}>${state}</span>`;
}

/** Json shows a JSON value formatted, in a region the keyboard can scroll. */
export function Json({ value, label }) {
  return html`<pre class="json" tabindex="0" aria-label=${label}>${JSON.stringify(value, null, 2)}</pre>`;
}

// Dialogs: one at a time, the rest queued. Each resolves a promise.
let queue = [];
let show = () => {};

/** confirmAction asks before an action: resolves true to go ahead. */
export function confirmAction({ title, message, confirm = 'Confirm', danger = false }) {
  return open({ kind: 'confirm', title, message, confirm, danger });
}

/** promptToken asks for the API token: resolves to it, or null. */
export function promptToken(reason) {
  return open({ kind: 'token', reason });
}

function open(d) {
  return new Promise((resolve) => {
    queue.push({ ...d, resolve });
    if (queue.length === 1) show(queue[0]);
  });
}

function done(value) {
  const d = queue.shift();
  d?.resolve(value);
  show(queue[0] || null);
}

export function Dialogs() {
  const [d, set] = useState(queue[0] || null);
  show = set;
  const ref = useRef(null);
  useEffect(() => {
    const el = ref.current;
    if (d && el && !el.open) el.showModal();
  }, [d]);
  if (!d) return null;
  const cancel = (e) => {
    e?.preventDefault();
    ref.current?.close();
    done(d.kind === 'token' ? null : false);
  };
  if (d.kind === 'token') {
    const submit = (e) => {
      e.preventDefault();
      const v = new FormData(e.target).get('token').trim();
      ref.current?.close();
      done(v || null);
    };
    return html`<dialog ref=${ref} onCancel=${cancel} aria-labelledby="token-title" class="dialog">
      <form onSubmit=${submit}>
        <h2 id="token-title">API token</h2>
        <p>${d.reason}</p>
        <label for="token-input">Token</label>
        <input id="token-input" name="token" type="password" autocomplete="off" required autofocus />
        <p class="hint">Kept for this browser tab only (sessionStorage) and sent as <code>Authorization: Bearer</code>.</p>
        <div class="actions">
          <button type="submit" class="primary">Use token</button>
          <button type="button" onClick=${cancel}>Cancel</button>
        </div>
      </form>
    </dialog>`;
  }
  const ok = (e) => {
    e.preventDefault();
    ref.current?.close();
    done(true);
  };
  return html`<dialog ref=${ref} onCancel=${cancel} aria-labelledby="confirm-title" aria-describedby="confirm-message" class="dialog">
    <form onSubmit=${ok}>
      <h2 id="confirm-title">${d.title}</h2>
      <p id="confirm-message">${d.message}</p>
      <div class="actions">
        <button type="submit" class=${d.danger ? 'danger' : 'primary'} autofocus>${d.confirm}</button>
        <button type="button" onClick=${cancel}>Cancel</button>
      </div>
    </form>
  </dialog>`;
}

const two = (n) => String(n).padStart(2, '0');
const clock = (sec) => {
  const d = new Date(sec * 1000);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
};

// Charts read their colours from the page's CSS, so they follow light and dark.
function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function useColorScheme() {
  const [dark, set] = useState(() => matchMedia('(prefers-color-scheme: dark)').matches);
  useEffect(() => {
    const m = matchMedia('(prefers-color-scheme: dark)');
    const f = () => set(m.matches);
    m.addEventListener('change', f);
    return () => m.removeEventListener('change', f);
  }, []);
  return dark;
}

/**
 * Chart draws time series with uPlot: data is [x seconds[], ...ys[]],
 * series [{label, color (a CSS variable), unit, points (draw each point,
 * for sparse series)}]. summary is its text
 * alternative.
 */
export function Chart({ title, series, data, summary, id }) {
  const ref = useRef(null);
  const plot = useRef(null);
  const dark = useColorScheme();
  useEffect(() => {
    const el = ref.current;
    const fg = cssVar('--muted');
    const grid = cssVar('--grid');
    const opts = {
      width: Math.max(el.clientWidth, 200),
      height: 180,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max, 1)] } },
      axes: [
        { stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid }, values: (u, splits) => splits.map(clock) },
        { stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid }, size: 48 },
      ],
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: cssVar(s.color), width: 2, points: { show: !!s.points, size: 5, fill: cssVar(s.color) }, value: (u, v) => (v == null ? '–' : `${+v.toFixed(2)}${s.unit || ''}`) }))],
    };
    plot.current = new uPlot(opts, data, el);
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(el.clientWidth, 200), height: 180 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [dark]);
  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);
  return html`<figure class="chart" id=${id}>
    <figcaption>${title}</figcaption>
    <div ref=${ref} role="img" aria-label=${summary}></div>
    <p class="hint">${summary}</p>
  </figure>`;
}
