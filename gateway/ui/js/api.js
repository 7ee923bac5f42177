// @ts-check
// The gateway's API as the UI uses it. Same-origin requests: the browser adds
// the basic-auth credentials the user gave when the page loaded.
//
// Every URL is built against the page's origin, never against the page's
// own address: opened as http://user:password@host/ui/, the document's URL
// carries the credentials, and fetch() refuses any URL resolved against it
// ("Request cannot be constructed from a URL that includes credentials").

/** @typedef {import('./types.js').FunctionStatus} FunctionStatus */

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message what the gateway said (or the status text)
   * @param {any} [details] the parsed JSON error body, when there was one
   */
  constructor(status, message, details) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.details = details;
  }
}

/**
 * The absolute URL of a gateway path: the origin (scheme, host, port) and the
 * path, without any user-info part.
 * @param {string} path e.g. "/system/functions?x=1"
 * @param {string} [origin] defaults to the page's origin
 */
export function apiUrl(path, origin = globalThis.location?.origin ?? '') {
  const base = new URL(origin);
  const url = new URL(path, base.origin);
  // A path such as "//elsewhere/x" would leave the gateway: never.
  if (url.origin !== base.origin) throw new Error(`not a path of the gateway: ${path}`);
  url.username = '';
  url.password = '';
  return url.href;
}

/**
 * Text of an error response: JSON {message|error} or plain text.
 * @param {Response} res
 */
async function errorOf(res) {
  const text = (await res.text().catch(() => '')).trim();
  /** @type {any} */
  let details;
  try {
    details = JSON.parse(text);
  } catch {
    details = undefined;
  }
  const fromJson = details && typeof details === 'object' ? details.message ?? details.error : undefined;
  let message = typeof fromJson === 'string' && fromJson ? fromJson : text || res.statusText || `HTTP ${res.status}`;
  if (res.status === 401) message = 'Not signed in (401): reload the page and enter the gateway credentials.';
  return new ApiError(res.status, message, details);
}

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body] sent as JSON
 */
async function call(method, path, body) {
  let res;
  for (let attempt = 1; ; attempt++) {
    try {
      res = await fetch(apiUrl(path), {
        method,
        cache: 'no-store',
        credentials: 'same-origin',
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      break;
    } catch (err) {
      // A read is sent once more: the browser aborts requests in flight when a
      // network interface changes, which Docker does for every task it starts
      // or stops on the machine that runs it (boot.js says more).
      if (method === 'GET' && attempt === 1) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      throw new ApiError(0, `The gateway did not answer (${err instanceof Error ? err.message : err}).`);
    }
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

/** @returns {Promise<FunctionStatus[]>} */
export async function listFunctions() {
  const list = await (await call('GET', '/system/functions')).json();
  return Array.isArray(list) ? list : [];
}

/**
 * @param {string} name
 * @returns {Promise<FunctionStatus>}
 */
export async function getFunction(name) {
  return (await call('GET', `/system/function/${encodeURIComponent(name)}`)).json();
}

/**
 * One function's history from Prometheus, through the gateway (503 when Prometheus is down).
 * @param {string} name
 * @param {string} window one of WINDOWS (history.js)
 * @returns {Promise<import('./types.js').FunctionHistory>}
 */
export async function functionHistory(name, window) {
  return (await call('GET', `/system/function/${encodeURIComponent(name)}/history?window=${encodeURIComponent(window)}`)).json();
}

/**
 * Every function's rate and replicas over the window, in one request.
 * @param {string} window
 * @returns {Promise<import('./types.js').FunctionsHistory>}
 */
export async function functionsHistory(window) {
  return (await call('GET', `/system/functions/history?window=${encodeURIComponent(window)}`)).json();
}

/** @returns {Promise<import('./types.js').Overview>} */
export async function overview() {
  return (await call('GET', '/system/overview')).json();
}

/**
 * POST /system/functions with the OpenFaaS deployment body.
 * @param {Record<string, unknown>} spec
 */
export async function deployFunction(spec) {
  await call('POST', '/system/functions', spec);
}

/** @param {string} name */
export async function deleteFunction(name) {
  await call('DELETE', '/system/functions', { functionName: name });
}

/**
 * @param {string} name
 * @param {number} replicas
 */
export async function scaleFunction(name, replicas) {
  await call('POST', `/system/scale-function/${encodeURIComponent(name)}`, { serviceName: name, replicas });
}

/**
 * Recent log lines of a function (newline-delimited JSON, follow=false).
 * @param {string} name
 * @param {{tail?: number, since?: string}} [options]
 * @returns {Promise<Array<Partial<import('./types.js').LogEntry> & {text: string}>>}
 */
export async function readLogs(name, { tail = 100, since } = {}) {
  const query = new URLSearchParams({ name, tail: String(tail), follow: 'false' });
  if (since) query.set('since', since);
  const text = await (await call('GET', `/system/logs?${query}`)).text();
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        const entry = JSON.parse(line);
        return typeof entry === 'object' && entry ? { ...entry, text: String(entry.text ?? '') } : { text: line };
      } catch {
        return { text: line };
      }
    });
}

/** @returns {Promise<import('./types.js').SecretName[]>} the secrets functions may use (names only) */
export async function listSecrets() {
  const list = await (await call('GET', '/system/secrets')).json();
  return Array.isArray(list) ? list : [];
}

/**
 * Creates (POST) or changes (PUT) a secret; a change rolls the functions that use it.
 * @param {'create' | 'change'} how
 * @param {string} name
 * @param {string} value
 */
export async function writeSecret(how, name, value) {
  await call(how === 'create' ? 'POST' : 'PUT', '/system/secrets', { name, value });
}

/** @param {string} name */
export async function deleteSecret(name) {
  await call('DELETE', '/system/secrets', { name });
}

/** @returns {Promise<Partial<import('./types.js').Info>>} GET /system/info (OpenFaaS shape; read defensively) */
export async function systemInfo() {
  return (await call('GET', '/system/info')).json();
}

/**
 * Invokes a function the way curl would and measures the round trip.
 * @param {string} name
 * @param {{method: string, contentType?: string, body?: string, signal?: AbortSignal}} request
 */
export async function invokeFunction(name, { method, contentType, body, signal }) {
  /** @type {Record<string, string>} */
  const headers = {};
  const hasBody = method !== 'GET' && method !== 'HEAD';
  if (hasBody && contentType) headers['Content-Type'] = contentType;
  const started = performance.now();
  const res = await fetch(apiUrl(`/function/${encodeURIComponent(name)}`), {
    method,
    headers,
    body: hasBody ? body ?? '' : undefined,
    cache: 'no-store',
    credentials: 'same-origin',
    signal,
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const roundTrip = (performance.now() - started) / 1000;
  return {
    status: res.status,
    statusText: res.statusText,
    /** @type {Array<[string, string]>} */
    headers: [...res.headers.entries()],
    contentType: res.headers.get('content-type') ?? '',
    duration: Number.parseFloat(res.headers.get('x-duration-seconds') ?? ''),
    roundTrip,
    size: bytes.byteLength,
    text: new TextDecoder().decode(bytes),
  };
}

/** @returns {Promise<import('./types.js').AsyncQueue[]>} each function's queue of asynchronous calls */
export async function asyncQueues() {
  return (await call('GET', '/system/async/queues')).json();
}

/**
 * The dead letters, oldest first.
 * @param {number} [limit]
 * @returns {Promise<import('./types.js').DeadLetter[]>}
 */
export async function deadLetters(limit = 100) {
  return (await call('GET', `/system/async/dead-letters?limit=${limit}`)).json();
}

/**
 * Queues a dead letter's call again (the dead letter goes).
 * @param {number} id
 * @returns {Promise<import('./types.js').ReplayAnswer>}
 */
export async function replayDeadLetter(id) {
  return (await call('POST', `/system/async/dead-letters/${id}/replay`)).json();
}

/** @param {number} id */
export async function deleteDeadLetter(id) {
  await call('DELETE', `/system/async/dead-letters/${id}`);
}

/**
 * A function's topics, schedule, backlog, last runs and queue depth over the window.
 * @param {string} name
 * @param {string} window
 * @returns {Promise<import('./types.js').FunctionEvents>}
 */
export async function functionEvents(name, window) {
  return (await call('GET', `/system/function/${encodeURIComponent(name)}/events?window=${encodeURIComponent(window)}`)).json();
}

/**
 * Publishes a body to a NATS subject (POST /system/events/{subject}); answers whatever the gateway said.
 * @param {string} subject
 * @param {string} body
 * @param {string} contentType
 * @returns {Promise<{status: number, json: any, text: string}>}
 */
export async function publishEvent(subject, body, contentType) {
  try {
    const res = await fetch(apiUrl(`/system/events/${encodeURIComponent(subject)}`), {
      method: 'POST',
      cache: 'no-store',
      credentials: 'same-origin',
      headers: { 'Content-Type': contentType || 'text/plain' },
      body,
    });
    const text = await res.text();
    /** @type {any} */
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: res.status, json, text };
  } catch (err) {
    return { status: 0, json: null, text: err instanceof Error ? err.message : String(err) };
  }
}

/** The most of an answer the UI reads (a try-it answer, a function's OpenAPI document). */
export const MAX_READ_BYTES = 1024 * 1024;

/**
 * Reads at most `max` bytes of an answer's body; `truncated` when there was more (the rest is not read).
 * @param {Response} res
 * @param {number} max
 */
export async function readBounded(res, max = MAX_READ_BYTES) {
  const reader = res.body?.getReader();
  /** @type {Uint8Array[]} */
  const chunks = [];
  let size = 0;
  let truncated = false;
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (size + value.byteLength > max) {
        chunks.push(value.subarray(0, max - size));
        size = max;
        truncated = true;
        await reader.cancel().catch(() => undefined);
        break;
      }
      chunks.push(value);
      size += value.byteLength;
    }
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { text: new TextDecoder().decode(bytes), size, truncated };
}

/**
 * A request of the try-it forms (the API page, a function's own API): any
 * method, to a path of the gateway only, with the page's credentials.
 * @param {{method: string, url: string, headers?: Record<string, string>, contentType?: string, body?: string, signal?: AbortSignal}} request
 */
export async function sendRequest({ method, url, headers = {}, contentType, body, signal }) {
  const hasBody = method !== 'GET' && method !== 'HEAD' && body !== undefined;
  const started = performance.now();
  const res = await fetch(apiUrl(url), {
    method,
    headers: { ...headers, ...(hasBody && contentType ? { 'Content-Type': contentType } : {}) },
    body: hasBody ? body : undefined,
    cache: 'no-store',
    credentials: 'same-origin',
    redirect: 'manual',
    signal,
  });
  const read = await readBounded(res);
  return {
    status: res.status,
    statusText: res.statusText,
    /** @type {Array<[string, string]>} */
    headers: [...res.headers.entries()],
    contentType: res.headers.get('content-type') ?? '',
    roundTrip: (performance.now() - started) / 1000,
    ...read,
  };
}

/**
 * The gateway's own OpenAPI document.
 * @returns {Promise<unknown>}
 */
export async function gatewayOpenApi() {
  return (await call('GET', '/system/openapi.json')).json();
}

/**
 * A function's own OpenAPI document, from the path its annotation names:
 * read through /function/ like any call, at most MAX_READ_BYTES and 30 s
 * (the function may be waking from zero). Throws an Error saying what was wrong.
 * @param {string} name
 * @param {string} path e.g. "/openapi.json"
 * @returns {Promise<unknown>}
 */
export async function functionOpenApi(name, path) {
  if (!/^\/[^\s?#]*$/.test(path) || /(^|\/)\.\.?(\/|$)|%2e/i.test(path)) throw new Error(`the annotation's path ${JSON.stringify(path.slice(0, 100))} is not a plain path such as /openapi.json`);
  let res;
  try {
    res = await fetch(apiUrl(`/function/${encodeURIComponent(name)}${path}`), { cache: 'no-store', credentials: 'same-origin', redirect: 'manual', headers: { accept: 'application/json' }, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new Error(`it could not be read (${err instanceof Error ? err.message : err})`);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`${path} answered ${res.status} ${res.statusText}`.trim());
  }
  const { text, truncated } = await readBounded(res);
  if (truncated) throw new Error(`it is larger than ${MAX_READ_BYTES / 1024 / 1024} MB`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('it is not JSON');
  }
}

/** @returns {Promise<import('./types.js').StoreView>} the catalog the store page shows */
export async function storeView() {
  return (await call('GET', '/system/store')).json();
}

/**
 * Chooses the store page's catalog: a URL, "" for the built-in one, null for STORE_URL.
 * @param {string | null} url
 * @returns {Promise<import('./types.js').StoreView>}
 */
export async function chooseStore(url) {
  return (await call('PUT', '/system/store', { url })).json();
}
