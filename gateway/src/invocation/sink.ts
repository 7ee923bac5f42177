// Where an invocation's answer goes. The synchronous path writes it straight
// into the client's ServerResponse (status, headers and chunks as they come,
// with backpressure); an asynchronous caller (the queue worker, an event
// connector) has no response and collects it instead. The invocation core
// sees only this interface.
import type { ServerResponse } from 'node:http';

export type AnswerHeaders = Record<string, string | string[]>;

export interface AnswerSink {
  /** The answer's status and headers (called once, before any chunk). */
  head(status: number, headers: AnswerHeaders): void;
  /** One chunk of the body; `last` when it completes the declared length. False: wait for onDrain before more. */
  write(chunk: Buffer, last: boolean): boolean;
  onDrain(resume: () => void): void;
  /** The whole body went through. */
  end(): void;
  /** The answer broke off after head(): nothing more will come. */
  abort(): void;
  /** The receiver is gone: stop sending. */
  readonly destroyed: boolean;
}

/** The synchronous path: the client's own response. */
export class ResponseSink implements AnswerSink {
  private ended = false;

  constructor(readonly res: ServerResponse) {}

  head(status: number, headers: AnswerHeaders): void {
    this.res.writeHead(status, headers);
  }

  write(chunk: Buffer, last: boolean): boolean {
    if (last) {
      // The last chunk leaves with end(): a small answer goes out in one write with its headers.
      this.ended = true;
      this.res.end(chunk);
      return true;
    }
    return this.res.write(chunk);
  }

  onDrain(resume: () => void): void {
    this.res.once('drain', resume);
  }

  end(): void {
    if (!this.ended) this.res.end();
  }

  abort(): void {
    this.res.destroy();
  }

  get destroyed(): boolean {
    return this.res.destroyed;
  }
}

/** An answer kept in memory (up to `limit` bytes; beyond, the rest is dropped and `truncated` set). */
export class CollectingSink implements AnswerSink {
  status = 0;
  headers: AnswerHeaders = {};
  truncated = false;
  broken = false;
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  head(status: number, headers: AnswerHeaders): void {
    this.status = status;
    this.headers = headers;
  }

  write(chunk: Buffer): boolean {
    if (this.size + chunk.length > this.limit) {
      this.truncated = true;
      const room = this.limit - this.size;
      if (room > 0) this.chunks.push(chunk.subarray(0, room));
      this.size = this.limit;
      return true;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    return true;
  }

  onDrain(): void {}

  end(): void {}

  abort(): void {
    this.broken = true;
  }

  get destroyed(): boolean {
    return false;
  }

  get body(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
