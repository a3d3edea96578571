// api.js: the dashboard's only way to the server. Every call goes to the
// public REST API under /api, with the session's bearer token when it has
// one, so anything the page does can be done with curl.

const tokenKey = 'eventsd.token';

/** ApiError is a failed call: its status and the server's problem document. */
export class ApiError extends Error {
  constructor(status, problem, method, path) {
    super(problemText(problem) || `${method} ${path}: HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** problemText words an RFC 9457 problem: its detail and each error's message. */
export function problemText(p) {
  if (!p || typeof p !== 'object') return '';
  const parts = [p.detail || p.title || ''];
  for (const e of p.errors || []) parts.push([e.location, e.message].filter(Boolean).join(': '));
  return parts.filter(Boolean).join('; ');
}

/** apiURL resolves an /api path against the page, so a proxy prefix before /dashboard/ is kept. */
export function apiURL(path) {
  return new URL('..' + path, globalThis.location?.href ?? 'http://localhost/dashboard/').toString();
}

export function getToken() {
  return globalThis.sessionStorage?.getItem(tokenKey) || '';
}

export function setToken(t) {
  if (t) sessionStorage.setItem(tokenKey, t);
  else sessionStorage.removeItem(tokenKey);
  for (const fn of tokenListeners) fn(t);
}

const tokenListeners = new Set();
export function onTokenChange(fn) {
  tokenListeners.add(fn);
  return () => tokenListeners.delete(fn);
}

export function authHeaders() {
  const t = getToken();
  return t ? { Authorization: 'Bearer ' + t } : {};
}

// askToken is replaced by the page with its token dialog: it resolves to the
// token entered, or null when the user declines.
let askToken = async () => null;
let asking = null;
// declined is set when the user cancels the prompt: the page then stops
// asking on every refusal (the stream retries on its own) until the user
// asks to enter a token (askAgain).
let declined = false;
export function setTokenPrompt(fn) {
  askToken = fn;
}

export function tokenDeclined() {
  return declined;
}

/** askAgain prompts for a token now, even after a refusal; it resolves true when one was entered. */
export async function askAgain() {
  declined = false;
  return needToken(401, null);
}

/**
 * needToken asks the user for a token after the server refused one (401) or
 * refused this one for the request (403). Concurrent refusals share one
 * prompt. It resolves to true when there is a new token to try.
 */
export async function needToken(status, problem) {
  if (status === 403 && !getToken()) return false; // not about a token
  if (declined) return false;
  const had = getToken();
  let reason = 'This server needs an API token (the API_TOKEN it was started with).';
  if (status === 401 && had) reason = 'The server did not accept that token. Enter the right one.';
  if (status === 403) reason = problemText(problem) || 'That token may not do this. Enter one that may.';
  if (!asking) {
    asking = askToken(reason).finally(() => { asking = null; });
  }
  const t = await asking;
  if (!t) {
    declined = true;
    for (const fn of tokenListeners) fn(getToken());
    return false;
  }
  setToken(t);
  return true;
}

/**
 * request calls the API and returns its JSON body, or null when there is
 * none. A 401 (or a 403 to a token) asks for a token and tries again; other
 * failures throw ApiError.
 */
export async function request(method, path, { body, query, signal } = {}) {
  let url = apiURL(path);
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    const s = q.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  for (;;) {
    const headers = { Accept: 'application/json, application/problem+json', ...authHeaders() };
    const init = { method, headers, signal, credentials: 'same-origin', cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(url, init);
    const text = await res.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch { data = { detail: text.slice(0, 300) }; }
    }
    if (res.ok) return data;
    if ((res.status === 401 || res.status === 403) && (await needToken(res.status, data))) continue;
    throw new ApiError(res.status, data, method, path);
  }
}

export const get = (path, opts) => request('GET', path, opts);
export const post = (path, body, opts) => request('POST', path, { ...opts, body });
export const del = (path, opts) => request('DELETE', path, opts);

/** enc escapes one path segment. */
export const enc = encodeURIComponent;

let spec = null;
/**
 * capabilities reads the OpenAPI document once and says which optional
 * routes this server has, so views of features it lacks can say so instead
 * of failing.
 */
export function capabilities() {
  spec ??= get('/api/openapi.json').then(
    (doc) => {
      const paths = doc?.paths || {};
      return {
        eventCounts: !!paths['/api/events/counts']?.get,
        webhooks: !!paths['/api/webhooks']?.get,
        webhookDeliveries: !!paths['/api/webhooks/{id}/deliveries']?.get,
      };
    },
    (err) => {
      spec = null; // try again next time
      throw err;
    },
  );
  return spec;
}
