// POSTs a finished call's answer to its X-Callback-Url: the function's body
// and headers, plus X-Call-Id, X-Function-Status and X-Duration-Seconds (as
// OpenFaaS sends them). A receiver that fails (no connection, 5xx, 408, 429)
// is tried again a few times; the call itself is not made again for it.
import { Agent, request } from 'undici';
import { forwardableHeaders } from '@swarm-faas/http-relay';
import type { AnswerHeaders } from '../../core/invocation/sink.js';
import { isIP } from 'node:net';
import { CallbackGuard, CallbackRefused } from './callback-guard.js';

export interface CallbackSettings {
  ASYNC_CALLBACK_TIMEOUT: number;
  ASYNC_CALLBACK_ATTEMPTS: number;
}

export { CallbackRefused } from './callback-guard.js';

export interface CallbackAnswer {
  callId: string;
  functionName: string;
  status: number;
  headers: AnswerHeaders;
  body: Uint8Array;
  durationSeconds: number;
  /** Extra headers (e.g. the dead letter's id). */
  extra?: Record<string, string>;
}

/** Headers of the function's answer that say nothing about the callback request itself. */
const NOT_PASSED = new Set(['content-length', 'x-call-id', 'x-function-status', 'x-duration-seconds', 'host']);

export class CallbackSender {
  private readonly agent: Agent;

  constructor(
    private readonly settings: CallbackSettings,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
    private readonly guard: CallbackGuard = new CallbackGuard([]),
  ) {
    this.agent = new Agent({
      connections: 64,
      keepAliveTimeout: 10_000,
      // The guard sees the address each new connection goes to (names and their addresses both checked).
      connect: { timeout: 5_000, ...(guard.enabled ? { lookup: guard.lookup() } : {}) },
    });
  }

  /** Resolves with the receiver's status, or rejects with the last failure after the attempts. */
  async send(url: string, answer: CallbackAnswer, onAttempt?: () => void): Promise<number> {
    const headers: Record<string, string | string[]> = {
      ...forwardableHeaders(answer.headers, NOT_PASSED),
      'x-call-id': answer.callId,
      'x-function-name': answer.functionName,
      'x-function-status': String(answer.status),
      'x-duration-seconds': answer.durationSeconds.toFixed(6),
      ...answer.extra,
    };
    // A bare IP is connected to without a lookup: check it here.
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) await this.guard.check(host);
    let last: Error = new Error('not tried');
    const body = Buffer.from(answer.body);
    const timeoutMs = this.settings.ASYNC_CALLBACK_TIMEOUT * 1000;
    for (let attempt = 1; attempt <= this.settings.ASYNC_CALLBACK_ATTEMPTS; attempt++) {
      onAttempt?.();
      try {
        const res = await request(url, { method: 'POST', headers, body, dispatcher: this.agent, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
        await res.body.dump();
        if (!receiverFailed(res.statusCode)) return res.statusCode;
        last = new Error(`the callback receiver answered ${res.statusCode}`);
      } catch (error) {
        if (error instanceof CallbackRefused || (error as { cause?: unknown }).cause instanceof CallbackRefused) throw error instanceof CallbackRefused ? error : (error as { cause: CallbackRefused }).cause;
        last = error as Error;
      }
      if (attempt < this.settings.ASYNC_CALLBACK_ATTEMPTS) await this.sleep(1_000 * 2 ** (attempt - 1));
    }
    throw last;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

function receiverFailed(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}
