// The gateway's in-memory view of the functions. Docker's event stream says
// which function changed (it is then re-read, debounced); a full resync
// every RESYNC_INTERVAL catches what events miss (task changes on other
// nodes); functions still converging (fewer tasks running than wanted) are
// re-read every second so a new or woken function becomes invokable quickly.
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { FunctionStatus, FunctionView, Provider } from '../provider/types.js';

export interface LiveFunctionViewOptions {
  provider: Provider;
  log: Logger;
  /** Seconds between full resyncs. */
  resyncInterval: number;
  /** Milliseconds an event waits for more of its burst before the function is re-read. */
  debounceMs?: number;
  /** Milliseconds between re-reads of converging functions. */
  convergeIntervalMs?: number;
}

export class LiveFunctionView implements FunctionView {
  private readonly functions = new Map<string, FunctionStatus>();
  private readonly listeners = new Set<(name: string, status: FunctionStatus | undefined) => void>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private stopWatching: (() => void) | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private convergeTimer: NodeJS.Timeout | undefined;
  private synced = false;
  private resyncing: Promise<void> | undefined;

  constructor(private readonly options: LiveFunctionViewOptions) {}

  /** Reads every function once, then follows events. Resolves after the first full read. */
  async start(): Promise<void> {
    this.stopWatching = this.options.provider.watch((name) => this.schedule(name));
    await this.resync().catch((error) => this.options.log.error({ err: error }, 'first read of the functions failed; retrying'));
    this.resyncTimer = setInterval(() => void this.resync().catch(() => {}), this.options.resyncInterval * 1000);
    this.resyncTimer.unref();
    this.convergeTimer = setInterval(() => this.refreshConverging(), this.options.convergeIntervalMs ?? 1000);
    this.convergeTimer.unref();
  }

  stop(): void {
    this.stopWatching?.();
    clearInterval(this.resyncTimer);
    clearInterval(this.convergeTimer);
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }

  /** True once the functions have been read at least once. */
  get ready(): boolean {
    return this.synced;
  }

  get(name: string): FunctionStatus | undefined {
    return this.functions.get(name);
  }

  list(): FunctionStatus[] {
    return [...this.functions.values()];
  }

  async readAll(): Promise<FunctionStatus[]> {
    await this.resync();
    return this.list();
  }

  async refresh(name: string): Promise<FunctionStatus | undefined> {
    const status = await this.options.provider.get(name);
    this.apply(name, status);
    return status;
  }

  onChange(listener: (name: string, status: FunctionStatus | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One full read at a time: callers that come while one runs share it. */
  resync(): Promise<void> {
    this.resyncing ??= this.readEverything().finally(() => (this.resyncing = undefined));
    return this.resyncing;
  }

  private async readEverything(): Promise<void> {
    const all = await this.options.provider.list();
    const seen = new Set<string>();
    for (const status of all) {
      seen.add(status.name);
      this.apply(status.name, status);
    }
    for (const name of [...this.functions.keys()]) if (!seen.has(name)) this.apply(name, undefined);
    this.synced = true;
  }

  private schedule(name: string): void {
    if (this.pending.has(name)) return;
    const timer = setTimeout(() => {
      this.pending.delete(name);
      this.refresh(name).catch((error) => this.options.log.warn({ err: error, function: name }, 'refresh failed'));
    }, this.options.debounceMs ?? 100);
    this.pending.set(name, timer);
  }

  private refreshConverging(): void {
    // Until the first full read succeeds (Docker not answering at start), retry it every tick.
    if (!this.synced) {
      void this.resync().catch(() => {});
      return;
    }
    for (const status of this.functions.values()) {
      if (status.availableReplicas !== status.replicas) this.schedule(status.name);
    }
  }

  private apply(name: string, status: FunctionStatus | undefined): void {
    const before = this.functions.get(name);
    if (status) this.functions.set(name, status);
    else this.functions.delete(name);
    if (!before && !status) return;
    if (before && status && isDeepStrictEqual(before, status)) return;
    for (const listener of this.listeners) {
      try {
        listener(name, status);
      } catch (error) {
        this.options.log.warn({ err: error }, 'function view listener failed');
      }
    }
  }
}
