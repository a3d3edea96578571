// format.js: how times, durations and JSON read on the page.

/** ago words the time from iso to now: "12 s ago", "in 3 min". */
export function ago(iso, now = Date.now()) {
  const t = typeof iso === 'number' ? iso : Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const d = now - t;
  const s = duration(Math.abs(d));
  return d >= 0 ? `${s} ago` : `in ${s}`;
}

/** duration words milliseconds at a readable precision: "850 ms", "12 s", "3 min 5 s", "2 h 4 min", "3 d 2 h". */
export function duration(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** dateTime shows an RFC 3339 time in the browser's time zone, to the millisecond. */
export function dateTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** firstLine is the first line of s, cut to n characters. */
export function firstLine(s, n = 120) {
  if (!s) return '';
  const l = String(s).split('\n', 1)[0];
  return l.length > n ? l.slice(0, n - 1) + '…' : l;
}

/** pretty formats a JSON value for reading. */
export function pretty(v) {
  return JSON.stringify(v, null, 2);
}

/** percent is progress as a percentage when it is a number from 0 to 100, else null. */
export function percent(progress) {
  const p = typeof progress === 'number' ? progress : typeof progress?.percent === 'number' ? progress.percent : null;
  return p !== null && p >= 0 && p <= 100 ? p : null;
}

/** localInput turns an RFC 3339 time into a datetime-local value, and fromLocalInput back. */
export function localInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fromLocalInput(v) {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}
