/**
 * One request/answer pair as the mode handlers see it. It owns the parts that
 * every answer shares: X-Duration-Seconds, the forced content type, the
 * write timeout, and the signal that tells a handler to stop (client gone,
 * read timeout, forced shutdown).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

export type AbortReason = { status: number; message: string } | 'client-gone';

export class Exchange {
  private readonly started = process.hrtime.bigint();
  // A plain listener list, not an AbortController: EventTarget costs a
  // measurable share of a proxied request's CPU time.
  private abortListeners: (() => void)[] = [];
  private reason: AbortReason | undefined;
  private writeTimer: NodeJS.Timeout | undefined;
  status = 0;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    private readonly options: { writeTimeoutMs: number; contentType: string | undefined; closeConnection: () => boolean },
  ) {
    res.once('close', () => {
      clearTimeout(this.writeTimer);
      if (!res.writableFinished) this.abort('client-gone');
    });
  }

  get aborted(): boolean {
    return this.reason !== undefined;
  }

  get abortReason(): AbortReason | undefined {
    return this.reason;
  }

  /** Calls `listener` once when the exchange is aborted; returns a function that unsubscribes it. */
  onAbort(listener: () => void): () => void {
    if (this.reason !== undefined) {
      queueMicrotask(listener);
      return () => undefined;
    }
    this.abortListeners.push(listener);
    return () => {
      const i = this.abortListeners.indexOf(listener);
      if (i !== -1) this.abortListeners.splice(i, 1);
    };
  }

  abort(reason: AbortReason): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    const listeners = this.abortListeners;
    this.abortListeners = [];
    for (const listener of listeners) listener();
  }

  seconds(): number {
    return Number(process.hrtime.bigint() - this.started) / 1e9;
  }

  /**
   * Sends the status line and `headers` (a fresh object the caller hands over:
   * it is completed in place); from here the write timeout runs, until the
   * response closes (see the constructor).
   */
  head(status: number, headers: OutgoingHttpHeaders = {}, forceContentType = true): boolean {
    const { res } = this;
    if (res.headersSent || res.destroyed) return false;
    this.status = status;
    headers['X-Duration-Seconds'] = this.seconds().toFixed(6);
    if (forceContentType && this.options.contentType) headers['content-type'] = this.options.contentType;
    if (this.options.closeConnection()) headers.connection = 'close';
    res.writeHead(status, headers);
    if (this.options.writeTimeoutMs > 0) {
      this.writeTimer = setTimeout(() => res.destroy(new Error('write_timeout exceeded')), this.options.writeTimeoutMs);
      this.writeTimer.unref();
    }
    return true;
  }

  /** A short plain-text answer (errors, 429, ...). */
  reply(status: number, body: string | Buffer, headers: Record<string, string | number> = {}): void {
    const data = typeof body === 'string' ? Buffer.from(body) : body;
    if (this.head(status, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'content-length': data.length }, false)) this.res.end(data);
  }
}
