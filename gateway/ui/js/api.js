// The gateway's API as the UI uses it. Same-origin requests: the browser adds
// the basic-auth credentials the user gave when the page loaded.

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

/** Text of an error response: JSON {message|error} or plain text. */
async function errorOf(res) {
  const text = (await res.text().catch(() => '')).trim();
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

async function call(method, path, body) {
  let res;
  try {
    res = await fetch(path, {
      method,
      cache: 'no-store',
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, `The gateway did not answer (${err instanceof Error ? err.message : err}).`);
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

/** @returns {Promise<Array<{name: string, image: string, invocationCount: number, replicas: number, availableReplicas?: number, envProcess?: string, labels?: Record<string,string>, annotations?: Record<string,string>}>>} */
export async function listFunctions() {
  const list = await (await call('GET', '/system/functions')).json();
  return Array.isArray(list) ? list : [];
}

export async function getFunction(name) {
  return (await call('GET', `/system/function/${encodeURIComponent(name)}`)).json();
}

/** POST /system/functions with the OpenFaaS deployment body. */
export async function deployFunction(spec) {
  await call('POST', '/system/functions', spec);
}

export async function deleteFunction(name) {
  await call('DELETE', '/system/functions', { functionName: name });
}

export async function scaleFunction(name, replicas) {
  await call('POST', `/system/scale-function/${encodeURIComponent(name)}`, { serviceName: name, replicas });
}

/**
 * Recent log lines of a function (newline-delimited JSON, follow=false).
 * @returns {Promise<Array<{name?: string, instance?: string, timestamp?: string, text: string}>>}
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

export async function systemInfo() {
  return (await call('GET', '/system/info')).json();
}

/**
 * Invokes a function the way curl would and measures the round trip.
 * @param {string} name
 * @param {{method: string, contentType?: string, body?: string, signal?: AbortSignal}} request
 */
export async function invokeFunction(name, { method, contentType, body, signal }) {
  const headers = {};
  const hasBody = method !== 'GET' && method !== 'HEAD';
  if (hasBody && contentType) headers['Content-Type'] = contentType;
  const started = performance.now();
  const res = await fetch(`/function/${encodeURIComponent(name)}`, {
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
    headers: [...res.headers.entries()],
    contentType: res.headers.get('content-type') ?? '',
    duration: Number.parseFloat(res.headers.get('x-duration-seconds') ?? ''),
    roundTrip,
    size: bytes.byteLength,
    text: new TextDecoder().decode(bytes),
  };
}
