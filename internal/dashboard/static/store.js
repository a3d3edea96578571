// store.js: what every view shares. One connection to the lifecycle stream
// feeds the live figures and tells the views when to reload what they show;
// the queue counts are reloaded after events, a few times a second at most,
// never on a timer.
import { Live, windowSeconds } from './live.js';
import { apiURL, authHeaders, get, needToken } from './api.js';
import { Stream } from './sse.js';

export const live = new Live();

export const state = {
  stats: null, // GET /api/events/stats
  statsError: '',
  stream: { status: 'connecting', reason: '' },
};

const listeners = new Set();
/** subscribe calls fn whenever state changes; it returns the unsubscribe. */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
export function changed() {
  for (const fn of listeners) fn();
}

const jobListeners = new Set();
/**
 * onJobEvent calls fn with each lifecycle event, and with {type: 'connected'}
 * each time the stream (re)connects, after which a view should reload what
 * it shows in case it missed something.
 */
export function onJobEvent(fn) {
  jobListeners.add(fn);
  return () => jobListeners.delete(fn);
}

// Stats reloads: at most one in flight, and one more after it if events
// arrived meanwhile.
const statsDelay = 250;
let statsTimer = null;
let statsLoading = false;
let statsAgain = false;

/** refreshStats reloads the counts now (or right after the load in flight). */
export async function refreshStats() {
  if (statsLoading) {
    statsAgain = true;
    return;
  }
  statsLoading = true;
  try {
    state.stats = await get('/api/events/stats');
    state.statsError = '';
  } catch (err) {
    state.statsError = err.message;
  } finally {
    statsLoading = false;
  }
  changed();
  if (statsAgain) {
    statsAgain = false;
    scheduleStats();
  }
}

function scheduleStats() {
  if (statsTimer) return;
  statsTimer = setTimeout(() => {
    statsTimer = null;
    refreshStats();
  }, statsDelay);
}

let stream = null;
/** startStream connects to GET /api/jobs/events, first replaying the last 15 minutes for the charts. */
export function startStream() {
  stream ??= new Stream({
    url: apiURL('/api/jobs/events'),
    firstQuery: 'after=' + (Date.now() - windowSeconds * 1000),
    fetchInit: () => ({ headers: authHeaders() }),
    onAuth: (status, problem) => needToken(status, problem),
    onStatus: (status, reason) => {
      state.stream = { status, reason };
      if (status === 'live') {
        refreshStats();
        for (const fn of jobListeners) fn({ type: 'connected' });
      }
      changed();
    },
    onMessage: (m) => {
      let ev;
      try {
        ev = JSON.parse(m.data);
      } catch {
        return;
      }
      ev.type ??= m.event;
      live.ingest(ev);
      for (const fn of jobListeners) fn(ev);
      scheduleStats();
    },
  }).start();
  return stream;
}

/** reconnectStream connects again at once, e.g. with a new token. */
export function reconnectStream() {
  stream?.reconnect();
}
