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
  private readonly controller = new AbortController();
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

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(reason: AbortReason): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  get abortReason(): AbortReason | undefined {
    return this.controller.signal.aborted ? (this.controller.signal.reason as AbortReason) : undefined;
  }

  seconds(): number {
    return Number(process.hrtime.bigint() - this.started) / 1e9;
  }

  /** Sends the status line and headers; from here the write timeout runs. */
  head(status: number, headers: OutgoingHttpHeaders = {}, forceContentType = true): boolean {
    const { res } = this;
    if (res.headersSent || res.destroyed) return false;
    this.status = status;
    const all: OutgoingHttpHeaders = { ...headers, 'X-Duration-Seconds': this.seconds().toFixed(6) };
    if (forceContentType && this.options.contentType) all['content-type'] = this.options.contentType;
    if (this.options.closeConnection()) all.connection = 'close';
    res.writeHead(status, all);
    if (this.options.writeTimeoutMs > 0) {
      this.writeTimer = setTimeout(() => res.destroy(new Error('write_timeout exceeded')), this.options.writeTimeoutMs);
      this.writeTimer.unref();
    }
    res.once('finish', () => clearTimeout(this.writeTimer));
    return true;
  }

  /** A short plain-text answer (errors, 429, ...). */
  reply(status: number, body: string | Buffer): void {
    const data = typeof body === 'string' ? Buffer.from(body) : body;
    if (this.head(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': data.length }, false)) this.res.end(data);
  }
}
