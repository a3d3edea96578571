// bench.mjs measures BullMQ the way `eventsd bench queue --throughput-only`
// measures eventsd: bulk-add N no-op jobs of P bytes, then let one Worker of
// concurrency C process them all. It prints one JSON line on stdout whose
// field names are eventsd's where the figure means the same; progress goes
// to stderr. See ../README.md.
//
//   node bench.mjs [--jobs N] [--concurrency C] [--payload-size P] [--redis-url URL]
//
// Keys go under a prefix of its own (bullmq-bench-<random>:) and are deleted
// afterwards with SCAN and UNLINK of that prefix only. Redis's statistics are
// read as deltas of INFO; nothing is reset. Standalone Redis only.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';

const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '100' },
    'payload-size': { type: 'string', default: '64' },
    'redis-url': { type: 'string', default: process.env.REDIS_URL || 'redis://127.0.0.1:6379/15' },
  },
});
// count reads a whole-number flag of at least least.
const count = (name, least) => {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < least) {
    process.stderr.write(`bullmq bench: --${name} ${args[name]}: want a whole number of at least ${least}\n`);
    process.exit(2);
  }
  return n;
};
const jobs = count('jobs', 1);
const concurrency = count('concurrency', 1);
const payloadSize = count('payload-size', 0);
const url = args['redis-url'];

// Bulk adds go in chunks of 1,000, as eventsd's benchmark adds them.
const chunk = 1000;
// The background load is measured for 2 s, as eventsd's benchmark does.
const backgroundMs = 2000;
// Commands the benchmark itself sends to measure and clean up; left out of
// every count, as eventsd's benchmark leaves out its own.
const ownCommands = new Set(['info', 'scan', 'unlink', 'config|resetstat']);

const progress = (msg) => process.stderr.write(`bullmq bench: ${msg}\n`);
const version = (pkg) =>
  JSON.parse(readFileSync(new URL(`./node_modules/${pkg}/package.json`, import.meta.url))).version;

// commandStats reads INFO commandstats: calls per command.
async function commandStats(redis) {
  const stats = new Map();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) stats.set(m[1], Number(m[2]));
  }
  return stats;
}

// delta says how many commands ran between two snapshots, by name, leaving
// out the benchmark's own.
function delta(after, before) {
  const byName = {};
  let all = 0;
  for (const [name, n] of after) {
    const d = n - (before.get(name) ?? 0);
    if (d > 0 && !ownCommands.has(name)) {
      byName[name] = d;
      all += d;
    }
  }
  return { all, byName };
}

// redisCPU returns the server's used CPU seconds (user + system).
async function redisCPU(redis) {
  const info = await redis.info('cpu');
  const field = (name) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? 0);
  return field('used_cpu_sys') + field('used_cpu_user');
}

async function redisVersion(redis) {
  return /^redis_version:(\S+)/m.exec(await redis.info('server'))?.[1] ?? 'unknown';
}

// deleteKeys unlinks every key under prefix, and nothing else.
async function deleteKeys(redis, prefix) {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

const cpuSeconds = (since) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};
const round = (f, digits) => Math.round(f * 10 ** digits) / 10 ** digits;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A signal ends the run early; the keys are still deleted.
let interrupt;
const interrupted = new Promise((_, reject) => {
  interrupt = (signal) => reject(new Error(`interrupted by ${signal}`));
});
interrupted.catch(() => {});
process.once('SIGINT', () => interrupt('SIGINT'));
process.once('SIGTERM', () => interrupt('SIGTERM'));

// admin reads INFO and deletes the keys; it does not reconnect, so a Redis
// that is not there ends the run at once.
const admin = new IORedis(url, { lazyConnect: true, retryStrategy: () => null });
let connectError;
admin.on('error', (err) => {
  connectError = err;
});
try {
  await admin.connect();
} catch (err) {
  process.stderr.write(`bullmq bench: redis at ${url}: ${(connectError ?? err).message}\n`);
  process.exit(1);
}
const prefix = `bullmq-bench-${randomBytes(4).toString('hex')}`;
const connection = { url }; // BullMQ opens its own ioredis connections from this
let queue;
let worker;
try {
  const res = {
    kind: 'queue',
    system: `BullMQ ${version('bullmq')} (ioredis ${version('ioredis')}, Node ${process.version})`,
    redis: `Redis ${await redisVersion(admin)}`,
    jobs,
    concurrency,
    payloadSize,
    removeOnComplete: true,
  };
  // Job data is a string: JSON-encoded, as BullMQ stores it, it is P bytes
  // (2 when P < 2).
  const payload = 'x'.repeat(Math.max(payloadSize - 2, 0));
  // Completed jobs are removed, as eventsd removes them by default.
  queue = new Queue('bench', { connection, prefix, defaultJobOptions: { removeOnComplete: true } });
  await queue.waitUntilReady();
  const cpu0 = process.cpuUsage();

  // What other clients run on the server: the command figures include it.
  let before = await commandStats(admin);
  let start = performance.now();
  await Promise.race([sleep(backgroundMs), interrupted]);
  const bg = delta(await commandStats(admin), before);
  res.backgroundCommandsPerSec = round(bg.all / ((performance.now() - start) / 1000), 1);

  progress(`add ${jobs} jobs`);
  before = await commandStats(admin);
  start = performance.now();
  const batch = Array.from({ length: chunk }, () => ({ name: 'noop', data: payload }));
  for (let added = 0; added < jobs; added += chunk) {
    await Promise.race([queue.addBulk(batch.slice(0, Math.min(chunk, jobs - added))), interrupted]);
  }
  res.addPerSec = Math.round(jobs / ((performance.now() - start) / 1000));
  const mid = await commandStats(admin);
  res.addRedisCallsPerJob = round(delta(mid, before).all / jobs, 2);

  // The worker's connections are ready before the clock starts, as the
  // connection of eventsd's benchmark is.
  let done = 0;
  let finish;
  const finished = new Promise((resolve, reject) => {
    finish = { resolve, reject };
  });
  worker = new Worker('bench', async () => {}, { connection, prefix, concurrency, autorun: false });
  worker.on('completed', () => {
    if (++done === jobs) finish.resolve();
  });
  worker.on('failed', (job, err) => finish.reject(new Error(`job ${job?.id} failed: ${err.message}`)));
  worker.on('error', (err) => finish.reject(err));
  await worker.waitUntilReady();

  progress(`process ${jobs} jobs at concurrency ${concurrency}`);
  const before2 = await commandStats(admin);
  const redisCPU0 = await redisCPU(admin);
  const cpu1 = process.cpuUsage();
  start = performance.now();
  worker.run().catch((err) => finish.reject(err));
  // 'completed' is emitted once the job's outcome is recorded in Redis (and
  // the job removed), so this ends when every outcome is recorded.
  await Promise.race([finished, interrupted]);
  const elapsed = (performance.now() - start) / 1000;
  await worker.close();
  res.processPerSec = Math.round(jobs / elapsed);
  res.processCpuSeconds = round(cpuSeconds(cpu1), 3);
  res.redisCpuSeconds = round((await redisCPU(admin)) - redisCPU0, 3);
  const proc = delta(await commandStats(admin), before2);
  res.redisCallsPerJob = round(proc.all / jobs, 2);
  res.redisCallsPerJobByCommand = Object.fromEntries(
    Object.entries(proc.byName)
      .sort(([, a], [, b]) => b - a)
      .map(([name, n]) => [name, round(n / jobs, 3)]),
  );
  res.cpuSeconds = round(cpuSeconds(cpu0), 3);
  res.peakRssBytes = process.resourceUsage().maxRSS * 1024; // Node reports kilobytes
  process.stdout.write(`${JSON.stringify(res)}\n`);
} catch (err) {
  process.stderr.write(`bullmq bench: ${err.message}\n`);
  process.exitCode = 1;
} finally {
  await worker?.close(true).catch(() => {});
  await queue?.close().catch(() => {});
  await deleteKeys(admin, prefix).catch((err) => {
    process.stderr.write(`bullmq bench: delete the keys under ${prefix}: ${err.message}\n`);
    process.exitCode = 1;
  });
  admin.disconnect();
}
