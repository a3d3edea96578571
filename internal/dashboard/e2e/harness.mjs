// harness.mjs: what the browser tests share: a real `eventsd dev` on a free
// port with its own data directory, Debian's Chromium driven by
// playwright-core, and pages that fail the test on console errors or on any
// request that leaves the server (the dashboard must work offline).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

let built = null;
/** binary is $EVENTSD_BIN, or eventsd built from this checkout once per run. */
export function binary() {
  if (process.env.EVENTSD_BIN) return process.env.EVENTSD_BIN;
  if (!built) {
    const dir = mkdtempSync(join(tmpdir(), 'eventsd-e2e-bin-'));
    built = join(dir, 'eventsd');
    execFileSync('go', ['build', '-o', built, './cmd/eventsd'], { cwd: repo, stdio: 'inherit' });
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return built;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * startEventsd runs `eventsd dev` with env added to a clean environment
 * (no cron unless asked, so counts change only when a test acts), and
 * resolves once /healthz answers. stop() ends it and removes its data.
 */
export async function startEventsd(env = {}) {
  for (let attempt = 0; ; attempt++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'eventsd-e2e-data-'));
    const port = await freePort();
    const proc = spawn(binary(), ['dev'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir, CRON_ENABLED: 'false', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    proc.stderr.on('data', (b) => { log += b; });
    const exited = new Promise((resolve) => proc.on('exit', resolve));
    const url = `http://127.0.0.1:${port}`;
    const stop = async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    };
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline && proc.exitCode === null) {
      try {
        if ((await fetch(url + '/healthz')).ok) return { url, stop, log: () => log };
      } catch {}
      await new Promise((r) => setTimeout(r, 100));
    }
    await stop();
    // Another process may have taken the port between our probe and eventsd's listen.
    if (attempt < 3 && log.includes('address already in use')) continue;
    throw new Error(`eventsd did not start on ${url}:\n${log}`);
  }
}

/** browserPath is Debian's Chromium, or $CHROMIUM; '' when there is none. */
export function browserPath() {
  for (const p of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (p && existsSync(p)) return p;
  }
  return '';
}

/** skipReason says why the browser tests cannot run here, or '' when they can. */
export function skipReason() {
  if (browserPath()) return '';
  if (process.env.EVENTSD_BROWSER_TESTS === '1') throw new Error('EVENTSD_BROWSER_TESTS=1 but no Chromium (apt-get install chromium)');
  return 'no Chromium (apt-get install chromium); CI runs these tests';
}

export function launch() {
  return chromium.launch({
    executablePath: browserPath(),
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/**
 * openPage opens a page on server url that records console errors, page
 * errors and requests to anywhere but the server (which are aborted).
 * allow(msg) may excuse a console error the test expects, such as the
 * browser's own log line for a 404 the page handles.
 */
export async function openPage(browser, url, { viewport = { width: 1280, height: 860 }, colorScheme = 'light', allow = () => false } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, reducedMotion: 'reduce' });
  const page = await context.newPage();
  const problems = [];
  const origin = new URL(url).origin;
  await page.route('**/*', (route) => {
    const u = route.request().url();
    if (new URL(u).origin === origin) return route.continue();
    problems.push(`request off the server: ${u}`);
    return route.abort();
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && !allow(m)) problems.push(`console error: ${m.text()} at ${m.location().url}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return { page, context, problems };
}

/** api calls the server as curl would. */
export async function api(url, method, path, body, token) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = 'Bearer ' + token;
  const res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** eventually retries check until it stops throwing, for at most ms. */
export async function eventually(check, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
