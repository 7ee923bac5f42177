/**
 * Module mode: the function is an ES module whose default export (or export
 * `handle`) is called for each request inside the watchdog's own Node.js
 * process: no process per request, no second process and no proxy hop. The
 * module is imported once, before the watchdog says it is ready, so the
 * first request finds it loaded (and a module that cannot load stops the
 * watchdog at start-up, with the reason, instead of failing every request).
 *
 * The handler's contract (the node template's):
 *   export default async function handle(req) { return { status, headers, body } }
 * `req`: method, path, query, headers (lower-case names), body (parsed for
 * JSON content types, text for textual ones, else a Buffer) and rawBody.
 * It returns a response object, or a string / Buffer (the body, 200), or any
 * other value (sent as JSON, 200). A thrown error answers 500 with its
 * message; exec_timeout answers 504 (the handler's promise is left to settle).
 */
import { existsSync } from 'node:fs';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { pathToFileURL } from 'node:url';
import type { WatchdogConfig } from './config.js';
import type { Exchange } from './exchange.js';
import { formatBytes } from './spill-buffer.js';

export interface FunctionRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON for JSON content types, a string for textual ones (or none given), else a Buffer. */
  body: unknown;
  rawBody: Buffer;
}

export interface FunctionResponse {
  status?: number;
  statusCode?: number;
  headers?: Record<string, string | number | readonly string[]>;
  body?: unknown;
}

export type Handler = (req: FunctionRequest) => unknown;

export class ModuleLoadError extends Error {
  override name = 'ModuleLoadError';
}

/** Imports the module and finds its handler: the default export, else an export named `handle`. */
export async function loadHandler(modulePath: string): Promise<Handler> {
  if (!existsSync(modulePath)) throw new ModuleLoadError(`cannot load the function module: ${modulePath} does not exist`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
  } catch (err) {
    const error = err as Error;
    throw new ModuleLoadError(`cannot load the function module ${modulePath}: ${error.name}: ${error.message}`, { cause: err });
  }
  const handler = typeof module.default === 'function' ? module.default : module.handle;
  if (typeof handler !== 'function') {
    const exported = Object.keys(module).join(', ') || 'nothing';
    throw new ModuleLoadError(`${modulePath} must export a function as default (export default async function handle(req) {...}); it exports ${exported}`);
  }
  return handler as Handler;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b/i;
const TEXT_TYPE = /^(?:text\/|application\/(?:x-www-form-urlencoded|xml|javascript|(?:[\w.+-]+\+)?xml)\b)/i;

/** The body as the handler gets it: see FunctionRequest.body. */
export function parseBody(raw: Buffer, contentType: string | undefined): { ok: true; body: unknown } | { ok: false; error: string } {
  const type = contentType?.trim() ?? '';
  if (JSON_TYPE.test(type)) {
    if (raw.length === 0) return { ok: true, body: undefined };
    try {
      return { ok: true, body: JSON.parse(raw.toString('utf8')) };
    } catch (err) {
      return { ok: false, error: `the body is not valid JSON (Content-Type: ${type}): ${(err as Error).message}` };
    }
  }
  if (type === '' || TEXT_TYPE.test(type)) return { ok: true, body: raw.toString('utf8') };
  return { ok: true, body: raw };
}

/** The handler's return value as status, headers and body bytes. */
export function toAnswer(result: unknown): { status: number; headers: OutgoingHttpHeaders; body: Buffer } {
  let response: FunctionResponse;
  if (typeof result === 'string' || result instanceof Uint8Array || result === undefined) response = { body: result };
  else if (typeof result === 'object' && result !== null && !Array.isArray(result) && ['status', 'statusCode', 'headers', 'body'].some((key) => key in result)) {
    response = result as FunctionResponse;
  } else response = { body: result, headers: { 'content-type': 'application/json' } };

  const status = response.status ?? response.statusCode ?? 200;
  if (!Number.isInteger(status) || status < 100 || status > 599) throw new TypeError(`the handler returned status ${JSON.stringify(status)}: expected a whole number from 100 to 599`);
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(response.headers ?? {})) headers[name.toLowerCase()] = value as string | number | string[];
  const { body } = response;
  let bytes: Buffer;
  if (body === undefined || body === null) bytes = Buffer.alloc(0);
  else if (typeof body === 'string') {
    bytes = Buffer.from(body);
    headers['content-type'] ??= 'text/plain; charset=utf-8';
  } else if (body instanceof Uint8Array) {
    bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    headers['content-type'] ??= 'application/octet-stream';
  } else {
    bytes = Buffer.from(JSON.stringify(body));
    headers['content-type'] ??= 'application/json';
  }
  headers['content-length'] = bytes.length;
  return { status, headers, body: bytes };
}

export interface ModuleMode {
  handle(ex: Exchange): Promise<void>;
}

/** Reads the whole request body, up to `limit` bytes; undefined when the exchange was aborted or the body is over it. */
function readBody(ex: Exchange, limit: number): Promise<Buffer | 'too-large' | undefined> {
  const { req } = ex;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (value: Buffer | 'too-large' | undefined) => {
      if (done) return;
      done = true;
      offAbort();
      resolve(value);
    };
    const offAbort = ex.onAbort(() => finish(undefined));
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        req.resume(); // drain the rest so the answer can be read
        return finish('too-large');
      }
      chunks.push(chunk);
    });
    req.once('end', () => finish(Buffer.concat(chunks, size)));
    req.once('error', () => finish(undefined));
  });
}

export function moduleMode(config: WatchdogConfig, handler: Handler): ModuleMode {
  const execSeconds = config.execTimeoutMs / 1000;

  async function handle(ex: Exchange): Promise<void> {
    const { req, res } = ex;
    const raw = await readBody(ex, config.maxBodyBytes);
    if (raw === undefined) return;
    if (raw === 'too-large') return ex.reply(413, `the request body is larger than max_body (${formatBytes(config.maxBodyBytes)})\n`);
    const parsed = parseBody(raw, req.headers['content-type']);
    if (!parsed.ok) return ex.reply(400, `${parsed.error}\n`);
    const url = new URL(req.url ?? '/', 'http://function');
    const request: FunctionRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: parsed.body,
      rawBody: raw,
    };

    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      (async () => ({ result: await handler(request) }))().catch((error: unknown) => ({ error })),
      new Promise<'timeout'>((resolve) => {
        if (config.execTimeoutMs > 0) timer = setTimeout(() => resolve('timeout'), config.execTimeoutMs);
      }),
      new Promise<'aborted'>((resolve) => ex.onAbort(() => resolve('aborted'))),
    ]);
    clearTimeout(timer);
    if (outcome === 'aborted' || res.headersSent) return;
    if (outcome === 'timeout') return ex.reply(504, `exec_timeout of ${execSeconds}s exceeded waiting for the handler\n`);
    if ('error' in outcome) {
      const error = outcome.error as Error;
      process.stderr.write(`watchdog: the handler failed: ${error?.stack ?? String(error)}\n`);
      return ex.reply(500, `the handler failed: ${error?.message ?? String(error)}\n`);
    }
    let answer: ReturnType<typeof toAnswer>;
    try {
      answer = toAnswer(outcome.result);
    } catch (err) {
      return ex.reply(500, `${(err as Error).message}\n`);
    }
    try {
      if (ex.head(answer.status, answer.headers)) res.end(req.method === 'HEAD' ? undefined : answer.body);
    } catch (err) {
      // Headers Node refuses (a newline in a value, a bad name): say so instead of a broken connection.
      if (!res.headersSent) ex.reply(500, `the handler returned headers that cannot be sent: ${(err as Error).message}\n`);
    }
  }

  return { handle };
}
