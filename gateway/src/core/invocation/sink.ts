// Where an invocation's answer goes. The synchronous path writes it straight
// into the client's ServerResponse (status, headers and chunks as they come,
// with backpressure); an asynchronous caller (the queue worker, an event
// connector) has no response and collects it instead. The invocation core
// sees only this interface.
import type { RelayHeaders, RelaySink } from '@swarm-faas/http-relay';

export type AnswerHeaders = RelayHeaders;

/** Where an answer goes (the relay's sink; the synchronous path uses http-relay's ResponseSink). */
export type AnswerSink = RelaySink;

export { ResponseSink } from '@swarm-faas/http-relay';

/** An answer kept in memory (up to `limit` bytes; beyond, the rest is dropped and `truncated` set). */
export class CollectingSink implements AnswerSink {
  status = 0;
  headers: AnswerHeaders = {};
  truncated = false;
  broken = false;
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  head(status: number, headers: AnswerHeaders): boolean {
    this.status = status;
    this.headers = headers;
    return true;
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

  get body(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
