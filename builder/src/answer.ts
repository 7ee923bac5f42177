// The answer to a build request, in the OpenFaaS builder API's shape:
// {log, image, status, duration, error}.
//  - With `Accept: application/x-ndjson`: 200 at once, then one JSON object per
//    line as the build goes: status "in_progress" with the log lines since the
//    last object, and a last one with status "success" or "failed".
//  - Otherwise one object at the end with the whole log (200 on success, 422
//    when the build failed, 502 when the engine or the registry did).
// Status "failed" is the word faas-cli 0.17.6 (the OpenFaaS go-sdk) checks: it
// takes any other word, "failure" included, for a build still going and
// carries on to deploy. Lines are kept short and objects small: the CLI reads
// each object as one line of at most 64 KiB (Go's bufio.Scanner).
import type { ServerResponse } from 'node:http';

export type BuildStatus = 'in_progress' | 'success' | 'failed';

export interface BuildResult {
  log: string[];
  image: string;
  status: BuildStatus;
  /** Seconds since the request arrived. */
  duration: number;
  error?: string;
}

/** The longest log line sent (longer ones are cut, saying so). */
export const MAX_LINE = 4000;
/** An object in the stream is sent once its lines reach this many bytes, or FLUSH_MS after the first one. */
const FLUSH_BYTES = 16 * 1024;
const FLUSH_MS = 250;
/** With nothing to say, an object with no lines this often keeps proxies from taking the connection for dead. */
export const HEARTBEAT_MS = 15_000;

function clip(line: string): string {
  const clean = line.replace(/\r/g, '').replace(/\s+$/, '');
  return clean.length <= MAX_LINE ? clean : `${clean.slice(0, MAX_LINE)} ... (${clean.length - MAX_LINE} more characters)`;
}

export function wantsStream(accept: string | undefined): boolean {
  return /application\/x-ndjson/i.test(accept ?? '');
}

/** A refusal before any build: the status code says why, the body keeps the API's shape. */
export function refuse(res: ServerResponse, status: number, image: string, error: string, started: number, headers: Record<string, string> = {}): void {
  const body: BuildResult = { log: [], image, status: 'failed', duration: seconds(started), error };
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(`${JSON.stringify(body)}\n`);
}

function seconds(started: number): number {
  return Math.round((performance.now() - started) / 10) / 100;
}

export class BuildAnswer {
  private readonly all: string[] = [];
  private pending: string[] = [];
  private pendingBytes = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private finished = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly stream: boolean,
    private readonly image: string,
    private readonly started: number,
  ) {}

  /** Sends the status line (streaming only: the plain answer's status waits for the outcome). */
  open(): void {
    if (!this.stream) return;
    this.res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    this.res.flushHeaders();
    this.armHeartbeat();
  }

  log(line: string): void {
    if (this.finished) return;
    const clipped = clip(line);
    this.all.push(clipped);
    if (!this.stream) return;
    this.pending.push(clipped);
    this.pendingBytes += clipped.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private send(result: BuildResult): void {
    if (this.res.writable) this.res.write(`${JSON.stringify(result)}\n`);
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.length === 0) return;
    this.send({ log: this.pending, image: this.image, status: 'in_progress', duration: seconds(this.started) });
    this.pending = [];
    this.pendingBytes = 0;
    this.armHeartbeat();
  }

  private armHeartbeat(): void {
    clearTimeout(this.heartbeat);
    this.heartbeat = setTimeout(() => {
      this.send({ log: [], image: this.image, status: 'in_progress', duration: seconds(this.started) });
      this.armHeartbeat();
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** The last object: success, or failed with the error (and, without streaming, the status code for it). */
  finish(outcome: { ok: true } | { ok: false; error: string; code?: 422 | 502 }): BuildResult {
    if (this.finished) throw new Error('the answer is already finished');
    this.finished = true;
    clearTimeout(this.flushTimer);
    clearTimeout(this.heartbeat);
    const result: BuildResult = {
      log: this.stream ? this.pending : this.all,
      image: this.image,
      status: outcome.ok ? 'success' : 'failed',
      duration: seconds(this.started),
      ...(outcome.ok ? {} : { error: outcome.error }),
    };
    if (this.stream) {
      this.send(result);
      this.res.end();
    } else if (!this.res.headersSent) {
      this.res.writeHead(outcome.ok ? 200 : (outcome.code ?? 422), { 'content-type': 'application/json' });
      this.res.end(`${JSON.stringify(result)}\n`);
    }
    return { ...result, log: this.all };
  }
}
