// cron.js words a schedule spec as eventsd's scheduler reads it: six fields
// with seconds first, five without, a descriptor (@daily), or an interval
// (@every 10s), optionally after "TZ=Area/City ". Cron fields are in UTC
// unless the spec names a zone. cronstrue does the wording of cron fields.
import './vendor/cronstrue.min.js';

const units = { h: 'hour', m: 'minute', s: 'second', ms: 'millisecond', us: 'microsecond', µs: 'microsecond', ns: 'nanosecond' };

/** describe returns the spec in words, or '' when it cannot. */
export function describe(spec, cronstrue = globalThis.cronstrue) {
  let text = String(spec || '').trim();
  let zone = 'UTC';
  const tz = /^(?:CRON_)?TZ=(\S+)\s+(.*)$/.exec(text);
  if (tz) {
    zone = tz[1];
    text = tz[2].trim();
  }
  const every = /^@every\s+(.+)$/.exec(text);
  if (every) return everyWords(every[1]);
  try {
    return cronstrue.toString(text, { use24HourTimeFormat: true, throwExceptionOnParseError: true }) + ` (${zone})`;
  } catch {
    return '';
  }
}

// everyWords words a Go duration ("1h30m", "10s", "200ms"). Intervals are
// counted from the Unix epoch, so they do not depend on a time zone.
function everyWords(d) {
  const parts = [...d.trim().matchAll(/([0-9.]+)(h|ms|us|µs|ns|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== d.trim()) return '';
  return 'Every ' + parts.map(([, n, u]) => `${n} ${units[u]}${n === '1' ? '' : 's'}`).join(' ');
}
