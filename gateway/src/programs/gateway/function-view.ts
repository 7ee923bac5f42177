// The gateway's view of the functions: the provider's latest complete
// snapshot (list and watch, see Provider.watch). Functions the gateway has
// just changed itself are re-read at once (refresh) rather than at the next
// snapshot. Starting tasks whose watchdog answers the gateway's own probe
// count as ready before the orchestrator says so (task-readiness.ts).
import type { Logger } from 'pino';
import { FunctionTable, type FunctionLookup } from '../../core/functions/view.js';
import { keyOf, type FunctionEntry, type FunctionRef } from '../../core/functions/types.js';
import type { HealthProbe } from '../../core/upstream/health-probe.js';
import type { Provider } from './provider/types.js';
import { TaskReadiness } from './task-readiness.js';

export interface FunctionView extends FunctionLookup {
  /** Reads every function from the provider now and answers them; throws (ProviderError) when it cannot answer. */
  readAll(): Promise<FunctionEntry[]>;
  /** Reads one function from the provider now (after a change the gateway made itself). */
  refresh(ref: FunctionRef): Promise<FunctionEntry | undefined>;
}

export class LiveFunctionView extends FunctionTable implements FunctionView {
  private stopWatching: (() => void) | undefined;
  private reading: Promise<FunctionEntry[]> | undefined;
  private firstSnapshot: (() => void) | undefined;
  /** Each function's entry as the provider last gave it (before the probed tasks are counted). */
  private readonly fromProvider = new Map<string, FunctionEntry>();
  private readonly readiness: TaskReadiness | undefined;

  /** probe: how starting tasks are asked whether they are ready; none: only the orchestrator says. */
  constructor(private readonly options: { provider: Provider; log: Logger; probe?: HealthProbe }) {
    super(options.log);
    if (options.probe) {
      this.readiness = new TaskReadiness({
        probe: options.probe,
        onReady: (key) => {
          const entry = this.fromProvider.get(key);
          if (entry) super.set(entry.status, this.readiness!.apply(entry));
        },
      });
    }
  }

  /** One function's entry from the provider (undefined: gone), with the tasks that answered the probe counted ready. */
  override set(ref: FunctionRef, entry: FunctionEntry | undefined): void {
    const key = keyOf(ref);
    if (entry) this.fromProvider.set(key, entry);
    else this.fromProvider.delete(key);
    if (!this.readiness) return super.set(ref, entry);
    this.readiness.follow(key, entry);
    super.set(ref, entry && this.readiness.apply(entry));
  }

  /** Starts following the provider's snapshots; resolves with the first one (or after `waitMs` without one). */
  start(waitMs = 10_000): Promise<void> {
    const first = new Promise<void>((resolve) => {
      this.firstSnapshot = resolve;
      setTimeout(resolve, waitMs).unref();
    });
    this.stopWatching ??= this.options.provider.watch((entries) => this.applySnapshot(entries));
    return first;
  }

  stop(): void {
    this.stopWatching?.();
    this.stopWatching = undefined;
    this.readiness?.stop();
  }

  /** One full read at a time: callers that come while one runs share it. */
  readAll(): Promise<FunctionEntry[]> {
    this.reading ??= this.options.provider
      .list()
      .then((entries) => {
        this.applySnapshot(entries);
        return this.list();
      })
      .finally(() => (this.reading = undefined));
    return this.reading;
  }

  async refresh(ref: FunctionRef): Promise<FunctionEntry | undefined> {
    const entry = await this.options.provider.get(ref);
    this.set(ref, entry);
    return entry;
  }

  private applySnapshot(entries: readonly FunctionEntry[]): void {
    this.replaceAll(entries);
    this.firstSnapshot?.();
    this.firstSnapshot = undefined;
  }
}
