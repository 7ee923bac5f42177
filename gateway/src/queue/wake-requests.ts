// Wake-ups asked of the gateways: the queue worker and the connector have no
// orchestrator, so when a function they invoke has no ready instance they
// ask over NATS ("faas-internal.wake", the gateways' queue group: one gateway
// answers), and that gateway wakes it the way it wakes it for its own calls
// (one wake-up however many ask, across gateways). The answer carries the
// function's entry once it has a ready instance, so the asker routes to it
// before the catalog's watch brings the change.
import type { Logger } from 'pino';
import type { Waker } from '../core/invocation/core.js';
import { InvocationError, type InvocationFailure } from '../core/invocation/errors.js';
import type { FunctionEntry, FunctionRef } from '../core/functions/types.js';
import type { QueueConnection } from './connection.js';
import { catalogEntry, type CatalogView } from './function-catalog.js';

export const WAKE_SUBJECT = 'faas-internal.wake';
const GATEWAYS = 'gateways';

type WakeAnswer = { ok: true; address?: string; entry?: FunctionEntry } | { ok: false; kind: InvocationFailure; message: string };

/** The gateway's side: answers wake-ups with its own waker. */
export class WakeResponder {
  private stopSubscription: (() => void) | undefined;

  constructor(
    private readonly connection: QueueConnection,
    private readonly wake: (ref: FunctionRef, signal: AbortSignal) => Promise<{ address: string | undefined; entry: FunctionEntry | undefined }>,
    private readonly log: Logger,
    private readonly timeoutMs: number,
  ) {}

  /** Subscribes once NATS answers (waiting as long as it takes). */
  async start(): Promise<void> {
    let handles;
    while (!handles) handles = await this.connection.handles(30_000).catch(() => undefined);
    const { nc } = handles;
    const subscription = nc.subscribe(WAKE_SUBJECT, {
      queue: GATEWAYS,
      callback: (error, msg) => {
        if (error || !msg.reply) return;
        void this.answer(msg.data).then((answer) => msg.respond(JSON.stringify(answer)));
      },
    });
    this.stopSubscription = () => subscription.unsubscribe();
  }

  stop(): void {
    this.stopSubscription?.();
  }

  private async answer(data: Uint8Array): Promise<WakeAnswer> {
    let ref: FunctionRef;
    try {
      const parsed = JSON.parse(new TextDecoder().decode(data)) as Partial<FunctionRef>;
      if (typeof parsed.name !== 'string' || typeof parsed.namespace !== 'string') throw new Error('no name and namespace');
      ref = { name: parsed.name, namespace: parsed.namespace };
    } catch (error) {
      return { ok: false, kind: 'unavailable', message: `a wake-up request that is not one: ${(error as Error).message}` };
    }
    try {
      const { address, entry } = await this.wake(ref, AbortSignal.timeout(this.timeoutMs));
      return { ok: true, ...(address ? { address } : {}), ...(entry ? { entry: catalogEntry(entry) } : {}) };
    } catch (error) {
      if (error instanceof InvocationError) return { ok: false, kind: error.kind, message: error.message };
      this.log.warn({ err: error, function: `${ref.name}.${ref.namespace}` }, 'wake-up asked by a trigger failed');
      return { ok: false, kind: 'unavailable', message: (error as Error).message };
    }
  }
}

/** The queue worker's and the connector's waker: asks the gateways. */
export class RemoteWaker implements Waker {
  constructor(
    private readonly connection: QueueConnection,
    private readonly view: CatalogView,
    private readonly timeoutMs: number,
  ) {}

  async ensureAvailable(ref: FunctionRef, signal?: AbortSignal): Promise<string | undefined> {
    const { nc } = await this.connection.handles(1_000).catch((error: unknown) => {
      throw new InvocationError('unavailable', `cannot ask the gateways to wake the function: ${(error as Error).message}`);
    });
    let reply;
    try {
      reply = await nc.request(WAKE_SUBJECT, JSON.stringify({ name: ref.name, namespace: ref.namespace }), { timeout: this.timeoutMs + 2_000 });
    } catch (error) {
      if (signal?.aborted) throw error;
      const text = String((error as Error).message);
      if (/no responders/i.test(text)) throw new InvocationError('unavailable', 'no gateway answers wake-ups now (are the gateways running?)');
      if (/timeout/i.test(text)) throw new InvocationError('no-instance', `the gateways did not wake the function within ${Math.round(this.timeoutMs / 1000)} s`);
      throw new InvocationError('unavailable', `asking the gateways to wake the function failed: ${text}`);
    }
    const answer = JSON.parse(new TextDecoder().decode(reply.data)) as WakeAnswer;
    if (!answer.ok) throw new InvocationError(answer.kind, answer.message);
    if (answer.entry) this.view.take(answer.entry);
    return answer.address;
  }

  /** Idle time is the gateways' to judge: they ask Prometheus, which counts this program's invocations too. */
  recordInvocation(): void {}
}
