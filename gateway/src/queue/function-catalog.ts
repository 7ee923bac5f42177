// The functions as the gateways see them, kept in a JetStream key-value
// bucket, so that the queue worker and the connector know them without the
// Docker socket: the gateways (which follow the orchestrator) write every
// change of their view, and the other programs watch the bucket. Two gateways
// write the same entries (they read the same Swarm); the last write wins and
// the next change or resync puts right a stale one.
//
// An entry carries what invoking and subscribing need (status with labels and
// annotations, ready and starting addresses, the watchdog's max_inflight: its
// concurrency limit), not the rest of the function's environment variables
// nor the scaler's private state.
import { Kvm, type KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { MAX_INFLIGHT_ENV } from '../core/functions/concurrency.js';
import { FunctionTable, type FunctionLookup } from '../core/functions/view.js';
import { keyOf, type FunctionEntry, type FunctionRef } from '../core/functions/types.js';
import { nameToken, tokenToName } from './call-message.js';
import type { QueueConnection } from './connection.js';

export const CATALOG_BUCKET = 'faas-functions';
/** How long a watch may take to deliver the bucket's initial values before it is opened again. */
const INITIAL_READ_MS = 10_000;
/** How often a gateway writes every entry that differs from what it last wrote, and removes what is gone. */
const RESYNC_EVERY_MS = 10_000;

/** The bucket's key of a function: "<namespace>.<name>" (KV keys allow no "~": odd names' hex token uses "="). */
export function catalogKey(ref: FunctionRef): string {
  const token = (text: string) => nameToken(text).replace('~', '=');
  return `${token(ref.namespace)}.${token(ref.name)}`;
}

function refOfKey(key: string): FunctionRef | undefined {
  const [namespace, name, ...rest] = key.split('.');
  if (!namespace || !name || rest.length > 0) return undefined;
  const token = (text: string) => tokenToName(text.replace('=', '~'));
  return { namespace: token(namespace), name: token(name) };
}

/** What goes into the bucket for a function. */
export function catalogEntry(entry: FunctionEntry): FunctionEntry {
  const { envVars, envProcess: _envProcess, ...status } = entry.status;
  const maxInflight = envVars[MAX_INFLIGHT_ENV];
  return {
    status: { ...status, envVars: maxInflight !== undefined ? { [MAX_INFLIGHT_ENV]: maxInflight } : {}, envProcess: '' },
    instances: [],
    endpoints: entry.endpoints,
    starting: entry.starting,
    state: {},
  };
}

async function openBucket(connection: QueueConnection): Promise<KV> {
  const { js } = await connection.handles(30_000);
  return new Kvm(js).create(CATALOG_BUCKET, { history: 1, max_bytes: 64 * 1024 * 1024 });
}

/** The gateway's side: its view, written to the bucket. */
export class CatalogPublisher {
  private bucket: Promise<KV> | undefined;
  private readonly written = new Map<string, string>();
  private readonly pending = new Map<string, Promise<void>>();
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: QueueConnection,
    private readonly view: FunctionLookup,
    private readonly log: Logger,
  ) {
    // A NATS that lost its store lost the bucket: write everything again.
    connection.onReconnect(() => {
      this.bucket = undefined;
      this.written.clear();
      void this.resync();
    });
  }

  start(): void {
    this.unsubscribe = this.view.onChange((ref, entry) => void this.write(ref, entry));
    this.timer = setInterval(() => void this.resync(), RESYNC_EVERY_MS);
    this.timer.unref();
    void this.resync();
  }

  stop(): void {
    this.unsubscribe?.();
    clearInterval(this.timer);
  }

  /** Resolves once the function's latest entry is in the bucket (a wake-up answer waits for it). */
  async flush(ref: FunctionRef): Promise<void> {
    await this.pending.get(catalogKey(ref));
    await this.write(ref, this.view.get(ref));
  }

  private kv(): Promise<KV> {
    this.bucket ??= openBucket(this.connection).catch((error: unknown) => {
      this.bucket = undefined;
      throw error;
    });
    return this.bucket;
  }

  private write(ref: FunctionRef, entry: FunctionEntry | undefined): Promise<void> {
    const key = catalogKey(ref);
    const value = entry ? JSON.stringify(catalogEntry(entry)) : undefined;
    if (this.written.get(key) === value) return Promise.resolve();
    // One write per key at a time, in order.
    const previous = this.pending.get(key) ?? Promise.resolve();
    const next = previous
      .then(async () => {
        if (this.written.get(key) === value) return;
        const kv = await this.kv();
        if (value === undefined) await kv.delete(key);
        else await kv.put(key, value);
        if (value === undefined) this.written.delete(key);
        else this.written.set(key, value);
      })
      .catch((error: unknown) => this.log.debug({ err: error, function: keyOf(ref) }, 'function not written to the catalog: the next resync writes it'))
      .finally(() => {
        if (this.pending.get(key) === next) this.pending.delete(key);
      });
    this.pending.set(key, next);
    return next;
  }

  /** Writes what differs from the last writes, and removes the keys of functions the view no longer has. */
  private async resync(): Promise<void> {
    if (!this.view.ready) return;
    try {
      const kv = await this.kv();
      for (const entry of this.view.list()) void this.write(entry.status, entry);
      // Asked of the view at each key, not of the list above: a function deployed while the keys are listed
      // is in the bucket already, and was removed from it (the worker and the connector then called it
      // "not found" until the next resync).
      for await (const key of await kv.keys()) {
        const ref = refOfKey(key);
        if (ref && !this.view.get(ref)) void this.write(ref, undefined);
      }
    } catch (error) {
      this.log.debug({ err: error }, 'catalog resync failed: trying again shortly');
    }
  }
}

/** The queue worker's and the connector's view: the bucket, watched (and read again after each reconnect). */
export class CatalogView extends FunctionTable {
  private stopped = false;
  private watching: { stop(): void } | undefined;
  private firstRead: (() => void) | undefined;

  constructor(
    private readonly connection: QueueConnection,
    log: Logger,
  ) {
    super(log);
    connection.onReconnect(() => this.watching?.stop());
  }

  /** Starts watching; resolves once the bucket was read (or after `waitMs`: NATS may be away). */
  start(waitMs = 10_000): Promise<void> {
    const first = new Promise<void>((resolve) => {
      this.firstRead = resolve;
      setTimeout(resolve, waitMs).unref();
    });
    void this.follow();
    return first;
  }

  stop(): void {
    this.stopped = true;
    this.watching?.stop();
  }

  /** An entry a gateway sent with a wake-up answer, taken before the watch brings it. */
  take(entry: FunctionEntry): void {
    this.set(entry.status, entry);
  }

  private async follow(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        const kv = await openBucket(this.connection);
        const watch = await kv.watch();
        this.watching = watch;
        // The watch starts with every key's last value, then each change; a complete table once the initial values are in.
        const initial: FunctionEntry[] = [];
        let synced = (await kv.status()).values === 0 && this.loaded([]);
        // A watch opened while JetStream was still recovering may never deliver: open it again rather than wait for ever.
        const stalled = setTimeout(() => {
          if (!synced) watch.stop();
        }, INITIAL_READ_MS);
        for await (const item of watch) {
          const ref = refOfKey(item.key);
          const entry = item.operation === 'PUT' && ref ? parseEntry(item.string(), ref) : undefined;
          if (!synced) {
            if (entry) initial.push(entry);
            // delta: how many of the initial values are still to come.
            if (item.delta === 0) synced = this.loaded(initial);
            continue;
          }
          if (ref) this.set(ref, entry);
        }
        clearTimeout(stalled);
        failures = 0;
      } catch (error) {
        failures++;
        if (failures === 1 || failures % 30 === 0) this.log.warn({ err: error }, 'cannot read the function catalog from NATS: trying again');
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, 1_000));
    }
  }

  private loaded(entries: FunctionEntry[]): true {
    this.replaceAll(entries);
    this.firstRead?.();
    this.firstRead = undefined;
    return true;
  }
}

function parseEntry(text: string, ref: FunctionRef): FunctionEntry | undefined {
  try {
    const entry = JSON.parse(text) as FunctionEntry;
    if (entry?.status?.name !== ref.name || entry.status.namespace !== ref.namespace) return undefined;
    return entry;
  } catch {
    return undefined;
  }
}
