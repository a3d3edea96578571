// store.js: what every view shares. One connection to the default queue's
// lifecycle stream feeds the live figures and tells the views when to reload
// what they show; a view of another queue follows that queue's stream while
// it is open. The queue counts are reloaded after events, a few times a
// second at most, never on a timer.
//
// A queue is named as the API names it, and '' is the default queue (the
// seed's): the API's queue parameter and the page's URLs leave it out.
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
 * onJobEvent calls fn with each lifecycle event, its queue in ev.queue, and
 * with {type: 'connected'} each time a stream (re)connects, after which a
 * view should reload what it shows in case it missed something.
 */
export function onJobEvent(fn) {
  jobListeners.add(fn);
  return () => jobListeners.delete(fn);
}

function emit(ev) {
  for (const fn of jobListeners) fn(ev);
}

/**
 * queueParam names a queue as the page's URLs do: '' for the default queue
 * (the stats' first), else its name. Until the stats load every name is
 * kept, which the API takes as well.
 */
export function queueParam(name) {
  return name && name === state.stats?.queue?.name ? '' : name || '';
}

/** queueStats returns queue's counts from the latest stats; undefined before they load or for a queue the server lacks. */
export function queueStats(queue) {
  return queue ? state.stats?.queues?.find((q) => q.name === queue) : state.stats?.queue;
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

// parseEvent reads a stream message's lifecycle event, or null.
function parseEvent(m) {
  try {
    const ev = JSON.parse(m.data);
    ev.type ??= m.event;
    return ev;
  } catch {
    return null;
  }
}

function streamOf(queue, opts) {
  return new Stream({
    url: apiURL('/api/jobs/events' + (queue ? '?queue=' + encodeURIComponent(queue) : '')),
    fetchInit: () => ({ headers: authHeaders() }),
    onAuth: (status, problem) => needToken(status, problem),
    ...opts,
  }).start();
}

let stream = null;
/** startStream connects to GET /api/jobs/events, first replaying the last 15 minutes for the charts. */
export function startStream() {
  stream ??= streamOf('', {
    firstQuery: 'after=' + (Date.now() - windowSeconds * 1000),
    onStatus: (status, reason) => {
      state.stream = { status, reason };
      if (status === 'live') {
        refreshStats();
        emit({ type: 'connected' });
      }
      changed();
    },
    onMessage: (m) => {
      const ev = parseEvent(m);
      if (!ev) return;
      ev.queue = '';
      live.ingest(ev);
      emit(ev);
      scheduleStats();
    },
  });
  return stream;
}

const followed = new Set();
/**
 * followQueue follows the stream of a queue other than the default (which
 * is always followed) for a view that shows it, from now on: its events go
 * to onJobEvent's listeners and reload the counts; the live figures stay
 * the default queue's. It returns the stop.
 */
export function followQueue(queue) {
  if (!queue) return () => {};
  const s = streamOf(queue, {
    onStatus: (status) => {
      if (status !== 'live') return;
      refreshStats();
      emit({ type: 'connected' });
    },
    onMessage: (m) => {
      const ev = parseEvent(m);
      if (!ev) return;
      ev.queue = queue;
      emit(ev);
      scheduleStats();
    },
  });
  followed.add(s);
  return () => {
    followed.delete(s);
    s.stop();
  };
}

/** reconnectStream connects again at once, e.g. with a new token. */
export function reconnectStream() {
  stream?.reconnect();
  for (const s of followed) s.reconnect();
}
