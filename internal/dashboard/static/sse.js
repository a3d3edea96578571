// sse.js reads a text/event-stream with fetch, not EventSource: EventSource
// cannot send an Authorization header, and the stream needs one when the
// server requires tokens for reads. It keeps EventSource's behaviour: it
// reconnects after the server's retry delay and resumes with Last-Event-ID.
// Event ids are opaque strings.

/**
 * createParser returns a function that takes the stream's text in chunks of
 * any size and calls onMessage({event, data, id}) for each message, and
 * onRetry(ms) for each retry field, as the HTML standard's event-stream
 * interpretation says: lines end in CRLF, LF or CR; a line starting with a
 * colon is a comment; a blank line dispatches; a message without data is
 * not dispatched; the last id persists across messages.
 */
export function createParser(onMessage, onRetry = () => {}) {
  let buf = '';
  let data = [];
  let event = '';
  let lastId = '';
  let sawCR = false;
  const line = (l) => {
    if (l === '') {
      if (data.length > 0) onMessage({ event: event || 'message', data: data.join('\n'), id: lastId });
      data = [];
      event = '';
      return;
    }
    if (l[0] === ':') return;
    const i = l.indexOf(':');
    const field = i < 0 ? l : l.slice(0, i);
    let value = i < 0 ? '' : l.slice(i + 1);
    if (value[0] === ' ') value = value.slice(1);
    switch (field) {
      case 'event': event = value; break;
      case 'data': data.push(value); break;
      case 'id': if (!value.includes('\0')) lastId = value; break;
      case 'retry': if (/^[0-9]+$/.test(value)) onRetry(Number(value)); break;
    }
  };
  return (chunk) => {
    for (const c of chunk) {
      if (sawCR) {
        sawCR = false;
        if (c === '\n') continue; // the LF of a CRLF
      }
      if (c === '\r' || c === '\n') {
        sawCR = c === '\r';
        line(buf);
        buf = '';
      } else {
        buf += c;
      }
    }
  };
}

/**
 * Stream follows one event-stream URL until stop. fetchInit() gives each
 * connection's headers; onAuth(status, problem) is asked what to do about a
 * 401 or 403 and resolves true to try again at once. Each message goes to
 * onMessage; onStatus gets 'connecting', 'live', 'reconnecting' or 'stopped'
 * with a reason. firstQuery is added to the first connection only; a 422 for
 * it retries without it (a server that does not take it).
 */
export class Stream {
  constructor({ url, firstQuery = '', fetchInit = () => ({}), onMessage, onStatus = () => {}, onAuth = async () => false, fetch = globalThis.fetch.bind(globalThis) }) {
    Object.assign(this, { url, firstQuery, fetchInit, onMessage, onStatus, onAuth, fetch });
    this.lastId = '';
    this.retryMs = 3000;
    this.failures = 0;
    this.abort = null;
    this.stopped = false;
    this.immediate = false;
    this.wake = null;
  }

  start() {
    this.loop();
    return this;
  }

  stop() {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
  }

  /** reconnect drops the connection (if any) and connects again at once. */
  reconnect() {
    this.immediate = true;
    this.abort?.abort();
    this.wake?.();
  }

  async loop() {
    while (!this.stopped) {
      const reason = await this.connectOnce();
      if (this.stopped) break;
      if (this.immediate) {
        this.immediate = false;
        this.failures = 0;
        continue;
      }
      this.failures++;
      // The server's retry delay, doubled for each failure in a row, at most 30 s.
      const delay = Math.min(this.retryMs * 2 ** Math.max(0, this.failures - 1), 30000);
      this.onStatus('reconnecting', reason);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, delay);
        this.wake = () => { clearTimeout(t); resolve(); };
      });
      this.wake = null;
    }
    this.onStatus('stopped', '');
  }

  // connectOnce reads one connection to its end and says why it ended.
  async connectOnce() {
    this.abort = new AbortController();
    const headers = { Accept: 'text/event-stream', ...(this.fetchInit().headers || {}) };
    let url = this.url;
    if (this.lastId) headers['Last-Event-ID'] = this.lastId;
    else if (this.firstQuery) url += (url.includes('?') ? '&' : '?') + this.firstQuery;
    this.onStatus('connecting', '');
    let res;
    try {
      res = await this.fetch(url, { headers, signal: this.abort.signal, cache: 'no-store', credentials: 'same-origin' });
    } catch (err) {
      return this.stopped ? '' : 'cannot reach the server: ' + err.message;
    }
    if (!res.ok) {
      let problem = null;
      try { problem = await res.json(); } catch {}
      if (res.status === 422 && this.firstQuery && !this.lastId) {
        this.firstQuery = '';
        this.immediate = true;
        return 'the server does not replay the stream; live from now on';
      }
      if ((res.status === 401 || res.status === 403) && (await this.onAuth(res.status, problem))) {
        this.immediate = true;
        return 'retrying with the new token';
      }
      return `the stream answered HTTP ${res.status}` + (problem?.detail ? ': ' + problem.detail : '');
    }
    this.firstQuery = '';
    let ended = 'the server closed the stream';
    const parse = createParser(
      (m) => {
        if (m.id) this.lastId = m.id;
        if (m.event === 'error') {
          try { ended = 'the server reported: ' + (JSON.parse(m.data).detail || m.data); } catch { ended = 'the server reported an error'; }
          return;
        }
        this.onMessage(m);
      },
      (ms) => { this.retryMs = Math.max(ms, 500); },
    );
    this.onStatus('live', '');
    this.failures = 0;
    try {
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parse(value);
      }
    } catch (err) {
      if (!this.stopped && err.name !== 'AbortError') ended = 'the connection broke: ' + err.message;
      if (err.name === 'AbortError') ended = 'reconnecting';
    }
    return ended;
  }
}
