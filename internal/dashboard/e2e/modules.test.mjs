// Unit tests of the dashboard's modules that need no browser: the
// event-stream parser and reconnecting reader, the live figures, the job
// timeline, cron specs in words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createParser, Stream } from '../static/sse.js';
import { Live } from '../static/live.js';
import { timeline } from '../static/timeline.js';
import { describe as describeSpec } from '../static/cron.js';
import { duration } from '../static/format.js';

// The same cronstrue as static/vendor (vendor.mjs --check), loaded as Node loads it.
const cronstrue = createRequire(import.meta.url)('cronstrue');

test('the parser follows the event-stream format, in chunks of any size', () => {
  const input = ': comment\nretry: 3000\r\n\r\nid: 1732-0\nevent: added\ndata: {"a":1}\n\n' +
    'event: x\ndata:no space\ndata: second\r\rid: 1732-0-5\ndata: {}\n\nid\ndata: y\n\nevent: empty\n\n';
  const want = [
    { event: 'added', data: '{"a":1}', id: '1732-0' },
    { event: 'x', data: 'no space\nsecond', id: '1732-0' },
    { event: 'message', data: '{}', id: '1732-0-5' },
    { event: 'message', data: 'y', id: '' },
  ];
  for (const size of [1, 2, 7, input.length]) {
    const got = [];
    const retries = [];
    const feed = createParser((m) => got.push(m), (ms) => retries.push(ms));
    for (let i = 0; i < input.length; i += size) feed(input.slice(i, i + size));
    assert.deepEqual(got, want, `chunks of ${size}`);
    assert.deepEqual(retries, [3000]);
  }
});

// fakeServer answers the Stream's fetches from a script, one entry per
// connection, and records the headers and URLs it got.
function fakeServer(script) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, headers: init.headers });
    const next = script.shift();
    if (!next) return new Promise(() => {}); // the last connection stays open
    if (next.status) return new Response(JSON.stringify({ detail: 'no' }), { status: next.status });
    return new Response(next.body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
  };
  return { fetch, calls };
}

test('the stream resumes after the last id, drops a refused replay, and asks for a token', async () => {
  const { fetch, calls } = fakeServer([
    { status: 422 }, // the server does not take ?after=
    { body: 'retry: 1\n\nid: 5-0\nevent: added\ndata: {"type":"added"}\n\nid: 6-0-1\nevent: active\ndata: {"type":"active"}\n\n' },
    { status: 401 },
    { body: 'id: 7-0\nevent: completed\ndata: {"type":"completed"}\n\n' },
  ]);
  const got = [];
  let asked = 0;
  let token = '';
  const done = new Promise((resolve) => {
    const s = new Stream({
      url: 'http://x/api/jobs/events',
      firstQuery: 'after=1',
      fetch,
      fetchInit: () => ({ headers: token ? { Authorization: 'Bearer ' + token } : {} }),
      onAuth: async (status) => {
        asked++;
        token = 't';
        return status === 401;
      },
      onMessage: (m) => {
        got.push(m.event);
        if (m.event === 'completed') {
          s.stop();
          resolve();
        }
      },
    }).start();
  });
  await done;
  assert.deepEqual(got, ['added', 'active', 'completed']);
  assert.equal(asked, 1);
  assert.equal(calls[0].url, 'http://x/api/jobs/events?after=1');
  assert.equal(calls[1].url, 'http://x/api/jobs/events');
  assert.equal(calls[2].headers['Last-Event-ID'], '6-0-1', 'ids are passed back as they came');
  assert.equal(calls[3].headers['Last-Event-ID'], '6-0-1');
  assert.equal(calls[3].headers.Authorization, 'Bearer t');
});

const at = (ms) => new Date(ms).toISOString();

test('live counts finishes per second and measures pickup from when a job became ready', () => {
  const l = new Live();
  const t0 = Date.UTC(2026, 10, 28, 10, 0, 0);
  const evs = [
    { type: 'added', jobId: 'a', time: at(t0) },
    { type: 'active', jobId: 'a', time: at(t0 + 3), attempt: 1 }, // 3 ms
    { type: 'retrying', jobId: 'a', time: at(t0 + 10), attempt: 1, dueAt: at(t0 + 2010) },
    { type: 'active', jobId: 'a', time: at(t0 + 2015), attempt: 2 }, // 5 ms after due, not 2005
    { type: 'completed', jobId: 'a', time: at(t0 + 2020) },
    { type: 'paused', time: at(t0 + 3000) },
    { type: 'added', jobId: 'b', time: at(t0 + 3100) },
    { type: 'resumed', time: at(t0 + 9000) },
    { type: 'active', jobId: 'b', time: at(t0 + 9001), attempt: 1 }, // 1 ms after resume
    { type: 'failed', jobId: 'b', time: at(t0 + 9002) },
    { type: 'active', jobId: 'unknown', time: at(t0 + 9003) }, // added before the page watched
  ];
  for (const ev of evs) l.ingest(ev);
  const sec = Math.floor(t0 / 1000);
  const s = l.series(sec + 9, sec);
  assert.deepEqual(s.x, [...Array(10)].map((_, i) => sec + i));
  assert.deepEqual(s.completed, [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(s.failed, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(s.p50, [3, null, 5, null, null, null, null, null, null, 1]);
  const binned = l.series(sec + 9, sec, 5); // the last bin ends now
  assert.deepEqual(binned.x, [sec, sec + 5]);
  assert.deepEqual(binned.completed, [1 / 5, 0]);
  assert.deepEqual(binned.failed, [0, 1 / 5]);
  assert.deepEqual(binned.p50, [4, 1]);
  assert.deepEqual(binned.max, [5, 1]);
  assert.deepEqual(l.totals(), { completed: 1, failed: 1, pickups: 3, p50: 3, max: 5 });
  assert.equal(l.paused, false);
  assert.deepEqual(l.eventsOf('a').map((e) => e.type), ['added', 'active', 'retrying', 'active', 'completed']);
  // The charts span at least a minute, starting before the first event.
  assert.equal(l.start(sec + 9), sec + 9 - 59);
  assert.equal(l.start(sec + 300), sec - 5);
  assert.equal(l.start(sec + 3000), sec + 3000 - 899);
});

test('the timeline keeps each attempt once, from the record and the stream', () => {
  const t0 = Date.UTC(2026, 10, 28, 10, 0, 0);
  const job = {
    state: 'failed', attempt: 2, error: 'boom 2', addedAt: at(t0), startedAt: at(t0 + 2000), finishedAt: at(t0 + 2100),
    history: [{ attempt: 1, error: 'boom 1', at: at(t0 + 100) }, { attempt: 2, error: 'boom 2', at: at(t0 + 2100) }],
  };
  // The page saw only the end.
  const seen = [
    { type: 'active', jobId: 'j', attempt: 2, time: at(t0 + 2000) },
    { type: 'failed', jobId: 'j', attempt: 2, error: 'boom 2', time: at(t0 + 2100) },
    { type: 'retrying', jobId: 'j', time: at(t0 + 5000) }, // retried by hand
  ];
  const items = timeline(job, seen);
  assert.deepEqual(items.map((i) => i.text), [
    'Added', 'Attempt 1 failed', 'Attempt 2 started', 'Failed for good (attempt 2)', 'Retried by hand: back to waiting',
  ]);
  assert.deepEqual(items.map((i) => i.error), [undefined, 'boom 1', undefined, 'boom 2', undefined]);
});

test('schedule specs in words', () => {
  const cases = {
    '*/2 * * * * *': 'Every 2 seconds (UTC)',
    '0 0 0 * * *': 'At 00:00 (UTC)',
    '0 0 * * *': 'At 00:00 (UTC)',
    'TZ=Europe/Paris 0 30 9 * * 1-5': 'At 09:30, Monday through Friday (Europe/Paris)',
    '@every 10s': 'Every 10 seconds',
    '@every 1h30m': 'Every 1 hour 30 minutes',
    '@every 1s': 'Every 1 second',
    '@every nonsense': '',
    'not a spec': '',
  };
  for (const [spec, want] of Object.entries(cases)) assert.equal(describeSpec(spec, cronstrue), want, spec);
});

test('durations read as people say them', () => {
  assert.equal(duration(850), '850 ms');
  assert.equal(duration(12_000), '12 s');
  assert.equal(duration(185_000), '3 min 5 s');
  assert.equal(duration(2 * 3600_000 + 4 * 60_000), '2 h 4 min');
  assert.equal(duration(3 * 86400_000), '3 d');
});
