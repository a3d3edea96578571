// timeline.js: a job's story, from its record and the stream's events.
import { dateTime } from './format.js';

const t = (iso) => Date.parse(iso);

/**
 * timeline merges what the job record says (added, each failed or stalled
 * attempt, the latest start, the end) with the lifecycle events this page
 * saw for the job (every start, progress, retry, hand action). An entry of
 * the record is dropped when an event says the same thing within a second.
 */
export function timeline(j, seen) {
  const fromStream = seen.map((ev) => streamEntry(ev));
  const fromRecord = [];
  if (j) {
    fromRecord.push({ key: 'added', at: t(j.addedAt), kind: 'added', text: 'Added' });
    for (const h of j.history || []) {
      fromRecord.push(h.stalled
        ? { key: 'stalled:' + h.attempt, at: t(h.at), kind: 'stalled', text: `Attempt ${h.attempt} stalled: its worker was lost (no retry used)`, error: h.error }
        : { key: 'fail:' + h.attempt, at: t(h.at), kind: 'failed', text: h.attempt ? `Attempt ${h.attempt} failed` : 'Cancelled before it ran', error: h.error });
    }
    if (j.startedAt) fromRecord.push({ key: 'active:' + j.attempt, at: t(j.startedAt), kind: 'active', text: `Attempt ${j.attempt} started` });
    if (j.finishedAt && j.state === 'completed') fromRecord.push({ key: 'completed', at: t(j.finishedAt), kind: 'completed', text: 'Completed' });
    if (j.finishedAt && j.state === 'failed') fromRecord.push({ key: 'fail:' + j.attempt, at: t(j.finishedAt), kind: 'failed', text: 'Failed for good', error: j.error });
    if (j.dueAt && j.state === 'delayed') fromRecord.push({ key: 'due', at: t(j.dueAt), kind: 'due', text: 'Due to run' });
  }
  const kept = fromRecord.filter((r) => !fromStream.some((s) => s.key === r.key && Math.abs(s.at - r.at) <= 1000));
  return [...kept, ...fromStream].filter((e) => Number.isFinite(e.at)).sort((a, b) => a.at - b.at);
}

function streamEntry(ev) {
  const at = t(ev.time);
  const a = ev.attempt ?? 0; // 0, and left out, for a job that never ran
  const due = ev.dueAt ? ` at ${dateTime(ev.dueAt)}` : '';
  switch (ev.type) {
    case 'added': return { key: 'added', at, kind: 'added', text: 'Added' + (ev.dueAt ? `, delayed until ${dateTime(ev.dueAt)}` : '') };
    case 'active': return { key: 'active:' + a, at, kind: 'active', text: `Attempt ${a} started` };
    case 'progress': return { key: 'progress', at, kind: 'progress', text: `Progress ${JSON.stringify(ev.progress)}` };
    case 'completed': return { key: 'completed', at, kind: 'completed', text: `Completed${a ? ` (attempt ${a})` : ''}` };
    case 'retrying': return a
      ? { key: 'fail:' + a, at, kind: 'failed', text: `Attempt ${a} failed; retry${due || ' now'}`, error: ev.error }
      : { key: 'retried', at, kind: 'retried', text: 'Retried by hand: back to waiting' };
    case 'failed': return { key: 'fail:' + a, at, kind: 'failed', text: `Failed for good${a ? ` (attempt ${a})` : ''}`, error: ev.error };
    case 'stalled': return { key: 'stalled:' + a, at, kind: 'stalled', text: `Attempt ${a} stalled: its worker was lost (no retry used)` };
    case 'cancelled': return { key: 'cancelled', at, kind: 'failed', text: 'Cancel requested' };
    case 'promoted': return { key: 'promoted', at, kind: 'added', text: 'Promoted: ready to run now' };
    case 'released': return { key: 'released', at, kind: 'stalled', text: 'Handed back unfinished by a stopping worker (no retry used)' };
    case 'removed': return { key: 'removed', at, kind: 'failed', text: 'Removed' };
  }
  return { key: ev.type, at, kind: 'other', text: ev.type };
}
