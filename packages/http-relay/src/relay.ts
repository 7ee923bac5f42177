/**
 * The one undici dispatch handler of the project's relays (the gateway in
 * front of function tasks, the watchdog's HTTP mode in front of the function
 * process): the answer's status and headers, then its chunks, go straight
 * to a sink as they come (no intermediate stream), with backpressure both
 * ways. A chunk that completes the declared length goes out as the last one,
 * so a small answer can leave in one write with its headers.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { forwardableHeaders } from './headers.js';

export type RelayHeaders = Record<string, string | string[]>;

/** Where an answer goes. */
export interface RelaySink {
  /** The answer's status and headers (once, before any chunk); false when the receiver is gone (the request is then aborted). */
  head(status: number, headers: RelayHeaders): boolean;
  /** One chunk; `last` when it completes the declared length. False: wait for onDrain before more. */
  write(chunk: Buffer, last: boolean): boolean;
  onDrain(resume: () => void): void;
  /** The whole body went through. */
  end(): void;
  /** The answer broke off after head(): cut it. */
  abort(): void;
}

export interface RelayEvents {
  /** The request is on its way: `abort` stops it (the caller's timeout, or its client going away). */
  started?(abort: (reason: Error) => void): void;
  /** The final answer's status came (informational ones are skipped). */
  answered?(status: number): void;
  /**
   * Exactly once: `error` undefined when the whole answer went through; else
   * what failed, and whether head() had been called (then nothing can be
   * retried or reported: the answer was cut).
   */
  done(error: Error | undefined, answerStarted: boolean): void;
}

export function relayHandler(sink: RelaySink, events: RelayEvents): Dispatcher.DispatchHandler {
  let status = 0;
  let length = NaN;
  let sent = 0;
  let settled = false;
  const done = (error?: Error) => {
    if (settled) return;
    settled = true;
    events.done(error, status !== 0);
  };
  return {
    onRequestStart(controller) {
      events.started?.((reason) => controller.abort(reason));
    },
    onResponseStart(controller, statusCode, headers) {
      if (statusCode < 200) return; // informational (100 Continue): the final answer follows
      status = statusCode;
      events.answered?.(statusCode);
      length = Number(headers['content-length'] ?? NaN);
      if (!sink.head(statusCode, forwardableHeaders(headers as IncomingHttpHeaders))) controller.abort(new Error('client went away'));
    },
    onResponseData(controller, chunk) {
      if (settled) return;
      sent += chunk.length;
      if (!sink.write(chunk, sent === length)) {
        controller.pause();
        sink.onDrain(() => controller.resume());
      }
    },
    onResponseEnd() {
      if (!settled) sink.end();
      done();
    },
    onResponseError(_controller, error) {
      if (settled) return;
      // After the headers went out, all that can be done is to cut the answer.
      if (status !== 0) sink.abort();
      done(error);
    },
  };
}

/** The sink of a synchronous relay: the client's own response. */
export class ResponseSink implements RelaySink {
  private ended = false;

  constructor(
    readonly res: ServerResponse,
    private readonly writeHead: (status: number, headers: RelayHeaders) => boolean = (status, headers) => {
      if (res.destroyed) return false;
      res.writeHead(status, headers);
      return true;
    },
  ) {}

  head(status: number, headers: RelayHeaders): boolean {
    return this.writeHead(status, headers);
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
    this.ended = true;
  }

  abort(): void {
    this.res.destroy();
  }
}
