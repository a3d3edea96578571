// live.js turns the lifecycle stream into the figures the overview charts
// and the job pages show. No API serves these figures; they are counted
// here from the events this page received (the stream replays what it still
// holds of the last 15 minutes when the page opens).

export const windowSeconds = 15 * 60;

// Bounds on what is kept, so a busy queue cannot grow the page without end.
const maxTracked = 50000; // jobs waiting for their pickup to be measured
const maxJobLogs = 5000; // jobs whose events are kept for their pages
const maxEventsPerJob = 200;

/** Live holds per-second counts, pickup latencies and each job's recent events. */
export class Live {
  constructor() {
    this.completed = new Map(); // second → count
    this.failed = new Map();
    this.latency = new Map(); // second → [ms]
    this.ready = new Map(); // job id → when it became ready to run (ms)
    this.jobs = new Map(); // job id → events, oldest first
    this.since = null; // time of the first event seen (ms)
    this.paused = null;
  }

  /**
   * ingest records one lifecycle event. Pickup latency is the time from a
   * job becoming ready (added, due after a delay or backoff, promoted,
   * handed back, or the queue resumed) to its start (active), by the event
   * times, which come from Redis's clock at millisecond resolution.
   */
  ingest(ev) {
    const t = Date.parse(ev.time);
    if (!Number.isFinite(t)) return;
    this.since ??= t;
    const sec = Math.floor(t / 1000);
    const id = ev.jobId;
    const due = ev.dueAt ? Date.parse(ev.dueAt) : NaN;
    switch (ev.type) {
      case 'added':
      case 'retrying':
        if (id) this.track(id, Number.isFinite(due) ? due : t);
        break;
      case 'promoted':
      case 'released':
      case 'stalled':
        if (id) this.track(id, t);
        break;
      case 'active': {
        const r = this.ready.get(id);
        if (r !== undefined) {
          this.ready.delete(id);
          push(this.latency, sec, Math.max(0, t - r));
        }
        break;
      }
      case 'completed':
        bump(this.completed, sec);
        this.ready.delete(id);
        break;
      case 'failed':
        bump(this.failed, sec);
        this.ready.delete(id);
        break;
      case 'removed':
      case 'cancelled':
        this.ready.delete(id);
        break;
      case 'paused':
        this.paused = true;
        break;
      case 'resumed':
        this.paused = false;
        // A job that waited in the paused queue became ready on resume.
        for (const [jid, r] of this.ready) if (r < t) this.ready.set(jid, t);
        break;
    }
    if (id) this.log(id, ev);
    this.prune(sec);
  }

  track(id, readyAt) {
    this.ready.delete(id);
    this.ready.set(id, readyAt);
    if (this.ready.size > maxTracked) this.ready.delete(this.ready.keys().next().value);
  }

  log(id, ev) {
    let evs = this.jobs.get(id);
    if (!evs) {
      evs = [];
      this.jobs.set(id, evs);
      if (this.jobs.size > maxJobLogs) this.jobs.delete(this.jobs.keys().next().value);
    }
    evs.push(ev);
    if (evs.length > maxEventsPerJob) evs.shift();
  }

  /**
   * start is where the charts begin: 15 minutes ago, or shortly before the
   * first event seen if that is later, so that a page with little history
   * does not squeeze it into a sliver; at least a minute.
   */
  start(nowSec) {
    const first = this.since === null ? nowSec : Math.floor(this.since / 1000) - 5;
    return Math.max(nowSec - windowSeconds + 1, Math.min(first, nowSec - 59));
  }

  /** eventsOf returns the events seen for a job, oldest first. */
  eventsOf(id) {
    return this.jobs.get(id) || [];
  }

  prune(nowSec) {
    const oldest = nowSec - windowSeconds;
    for (const m of [this.completed, this.failed, this.latency]) {
      for (const k of m.keys()) if (k <= oldest) m.delete(k);
    }
  }

  /**
   * series returns the charts' data from fromSec (at most the window) to
   * nowSec, in bins of bin seconds: completed and failed per second (the
   * bin's count over its length), and the median and maximum pickup latency
   * of the jobs that started in each bin (null where none did). Bins end at
   * nowSec; x is each bin's first second.
   */
  series(nowSec, fromSec = nowSec - windowSeconds + 1, bin = 1) {
    const x = [], completed = [], failed = [], p50 = [], max = [];
    const from = Math.max(fromSec, nowSec - windowSeconds + 1);
    const last = nowSec - bin + 1;
    const first = last - bin * Math.ceil((last - from) / bin);
    for (let b = first; b <= nowSec; b += bin) {
      let c = 0, f = 0;
      const l = [];
      for (let s = b; s < b + bin && s <= nowSec; s++) {
        c += this.completed.get(s) || 0;
        f += this.failed.get(s) || 0;
        const ls = this.latency.get(s);
        if (ls) l.push(...ls);
      }
      x.push(b);
      completed.push(c / bin);
      failed.push(f / bin);
      l.sort((a, b) => a - b);
      p50.push(l.length ? median(l) : null);
      max.push(l.length ? l[l.length - 1] : null);
    }
    return { x, completed, failed, p50, max };
  }

  /** bin is the width of a chart's bins, in seconds, for a span: about 60 to 120 points. */
  static bin(spanSec) {
    return spanSec <= 120 ? 1 : spanSec <= 300 ? 5 : 10;
  }

  /** totals sums the window: jobs completed and failed, and the latencies' median. */
  totals() {
    let completed = 0, failed = 0;
    for (const n of this.completed.values()) completed += n;
    for (const n of this.failed.values()) failed += n;
    const all = [];
    for (const l of this.latency.values()) all.push(...l);
    all.sort((a, b) => a - b);
    return { completed, failed, pickups: all.length, p50: all.length ? median(all) : null, max: all.length ? all[all.length - 1] : null };
  }
}

function bump(m, k) {
  m.set(k, (m.get(k) || 0) + 1);
}

function push(m, k, v) {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}

function median(sorted) {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}
