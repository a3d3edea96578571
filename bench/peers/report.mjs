// report.mjs prints the table of a run.sh run from its results.jsonl: one
// row per benchmark run, the medians per system, and eventsd's median over
// BullMQ's. Node built-ins only.
//
//   node report.mjs results.jsonl

import { readFileSync } from 'node:fs';

const runs = readFileSync(process.argv[2], 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line));
if (runs.length === 0) {
  throw new Error(`${process.argv[2]}: no runs`);
}

// The figures, each from one run's result r; CPU is per processed job.
const columns = [
  { title: 'add/s', get: (r) => r.addPerSec, digits: 0 },
  { title: 'process/s', get: (r) => r.processPerSec, digits: 0 },
  { title: 'client µs/job', get: (r) => (r.processCpuSeconds * 1e6) / r.jobs, digits: 1 },
  { title: 'client µs/job, all', get: (r) => (r.cpuSeconds * 1e6) / r.jobs, digits: 1 },
  { title: 'Redis µs/job', get: (r) => (r.redisCpuSeconds * 1e6) / r.jobs, digits: 1 },
  { title: 'Redis cmds/job', get: (r) => r.redisCallsPerJob, digits: 2 },
  { title: 'others cmds/s', get: (r) => r.backgroundCommandsPerSec, digits: 1 },
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x, digits) =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '-';

const rows = [];
for (const run of runs) {
  rows.push([String(run.round), run.system, run.load1, ...columns.map((c) => fmt(c.get(run.result), c.digits))]);
}
const systems = [...new Set(runs.map((run) => run.system))];
const medians = {};
for (const system of systems) {
  const results = runs.filter((run) => run.system === system).map((run) => run.result);
  medians[system] = columns.map((c) => median(results.map(c.get)));
  rows.push(['median', system, '', ...medians[system].map((m, i) => fmt(m, columns[i].digits))]);
}
if (medians.eventsd && medians.bullmq) {
  rows.push(['ratio', 'eventsd/BullMQ', '', ...columns.map((c, i) =>
    i === columns.length - 1 ? '' : fmt(medians.eventsd[i] / medians.bullmq[i], 2))]);
}

const head = ['round', 'system', 'load', ...columns.map((c) => c.title)];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
const line = (row) => row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
const first = runs[0].result;
const about = (system) => runs.find((run) => run.system === system)?.result;

console.log(`${first.jobs.toLocaleString('en-US')} no-op jobs of ${first.payloadSize} bytes, concurrency ${first.concurrency}, on ${first.redis}`);
if (about('bullmq')) console.log(`bullmq: ${about('bullmq').system}, removeOnComplete true`);
console.log('');
console.log(line(head));
console.log(line(widths.map((w) => '-'.repeat(w))));
let sep = false;
for (const row of rows) {
  if (row[0] === 'median' && !sep) {
    console.log(line(widths.map((w) => '-'.repeat(w))));
    sep = true;
  }
  console.log(line(row));
}
console.log(`
load: 1-minute load average when the run started. CPU per processed job:
client = the benchmark process while processing ("all": add and process);
Redis = the server while processing. Redis cmds/job: every command Redis ran
while processing, scripts' included, per job. others cmds/s: commands other
clients ran on the server in the 2 s before the run.`);
const busy = runs.filter((run) => run.result.backgroundCommandsPerSec > 1);
if (busy.length > 0) {
  console.log(`WARNING: other clients used this Redis before ${busy.length} of ${runs.length} runs;` +
    ' its command and CPU figures include some of their work.');
}
