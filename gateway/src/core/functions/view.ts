// A program's view of the functions: the latest entry of each, and listeners
// told of every change. Every program reads functions through it and never
// asks an orchestrator per invocation. The table is filled by whoever follows
// the source: the gateway from the orchestrator's snapshots
// (programs/gateway/function-view.ts), the queue worker and the connector from
// what the gateways publish (queue/function-catalog.ts).
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { keyOf, type FunctionEntry, type FunctionRef } from './types.js';

export type ChangeListener = (ref: FunctionRef, entry: FunctionEntry | undefined) => void;

/** What the invocation core and the triggers read. */
export interface FunctionLookup {
  /** The function's latest entry; undefined when unknown. */
  get(ref: FunctionRef): FunctionEntry | undefined;
  list(): FunctionEntry[];
  /** Called for each function whose entry changed (undefined: removed). Returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void;
  /** True once the functions have been read at least once. */
  readonly ready: boolean;
}

/** The entries and their listeners; a listener hears only of real changes. */
export class FunctionTable implements FunctionLookup {
  private readonly entries = new Map<string, FunctionEntry>();
  private readonly listeners = new Set<ChangeListener>();
  private synced = false;

  constructor(protected readonly log: Logger) {}

  get ready(): boolean {
    return this.synced;
  }

  get(ref: FunctionRef): FunctionEntry | undefined {
    return this.entries.get(keyOf(ref));
  }

  list(): FunctionEntry[] {
    return [...this.entries.values()];
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A complete read: every function there is now (those missing are removed). */
  replaceAll(entries: readonly FunctionEntry[]): void {
    const seen = new Set<string>();
    for (const entry of entries) {
      seen.add(keyOf(entry.status));
      this.set(entry.status, entry);
    }
    for (const [key, entry] of [...this.entries]) if (!seen.has(key)) this.set(entry.status, undefined);
    this.synced = true;
  }

  /** One function's entry now (undefined: it is gone). */
  set(ref: FunctionRef, entry: FunctionEntry | undefined): void {
    const key = keyOf(ref);
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
        this.log.warn({ err: error }, 'function view listener failed');
      }
    }
  }
}
