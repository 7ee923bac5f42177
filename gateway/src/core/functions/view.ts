// The gateway's in-memory view of the functions: the provider's latest
// complete snapshot (list and watch, see Provider.watch), so that no
// orchestrator call is made per invocation. Functions the gateway has just
// changed itself are re-read at once (refresh) rather than at the next
// snapshot. Listeners hear about each function whose entry changed.
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { keyOf, type FunctionEntry, type FunctionRef, type Provider } from '../../programs/gateway/provider/types.js';

export type ChangeListener = (ref: FunctionRef, entry: FunctionEntry | undefined) => void;

export interface FunctionView {
  /** The function's entry from the latest read; undefined when unknown. */
  get(ref: FunctionRef): FunctionEntry | undefined;
  list(): FunctionEntry[];
  /** Reads every function from the provider now and answers them; throws (ProviderError) when it cannot answer. */
  readAll(): Promise<FunctionEntry[]>;
  /** Reads one function from the provider now (after a change the gateway made itself). */
  refresh(ref: FunctionRef): Promise<FunctionEntry | undefined>;
  /** Called for each function whose entry changed (undefined: removed). Returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void;
}

export class LiveFunctionView implements FunctionView {
  private readonly entries = new Map<string, FunctionEntry>();
  private readonly listeners = new Set<ChangeListener>();
  private stopWatching: (() => void) | undefined;
  private reading: Promise<FunctionEntry[]> | undefined;
  private firstSnapshot: (() => void) | undefined;
  private synced = false;

  constructor(private readonly options: { provider: Provider; log: Logger }) {}

  /** Starts following the provider's snapshots; resolves with the first one (or after `waitMs` without one). */
  start(waitMs = 10_000): Promise<void> {
    const first = new Promise<void>((resolve) => {
      this.firstSnapshot = resolve;
      setTimeout(resolve, waitMs).unref();
    });
    this.stopWatching ??= this.options.provider.watch((entries) => this.applyAll(entries));
    return first;
  }

  stop(): void {
    this.stopWatching?.();
    this.stopWatching = undefined;
  }

  /** True once the functions have been read at least once. */
  get ready(): boolean {
    return this.synced;
  }

  get(ref: FunctionRef): FunctionEntry | undefined {
    return this.entries.get(keyOf(ref));
  }

  list(): FunctionEntry[] {
    return [...this.entries.values()];
  }

  /** One full read at a time: callers that come while one runs share it. */
  readAll(): Promise<FunctionEntry[]> {
    this.reading ??= this.options.provider
      .list()
      .then((entries) => {
        this.applyAll(entries);
        return this.list();
      })
      .finally(() => (this.reading = undefined));
    return this.reading;
  }

  async refresh(ref: FunctionRef): Promise<FunctionEntry | undefined> {
    const entry = await this.options.provider.get(ref);
    this.apply(keyOf(ref), ref, entry);
    return entry;
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private applyAll(entries: readonly FunctionEntry[]): void {
    const seen = new Set<string>();
    for (const entry of entries) {
      const key = keyOf(entry.status);
      seen.add(key);
      this.apply(key, entry.status, entry);
    }
    for (const [key, entry] of [...this.entries]) if (!seen.has(key)) this.apply(key, entry.status, undefined);
    this.synced = true;
    this.firstSnapshot?.();
    this.firstSnapshot = undefined;
  }

  private apply(key: string, ref: FunctionRef, entry: FunctionEntry | undefined): void {
    const before = this.entries.get(key);
    if (entry) this.entries.set(key, entry);
    else this.entries.delete(key);
    if (!before && !entry) return;
    if (before && entry && isDeepStrictEqual(before, entry)) return;
    const changed = { name: ref.name, namespace: ref.namespace };
    for (const listener of this.listeners) {
      try {
        listener(changed, entry);
      } catch (error) {
        this.options.log.warn({ err: error }, 'function view listener failed');
      }
    }
  }
}
