// The task addresses of every function, cached so that an invocation does not
// wait for DNS: an address list older than `refreshMs` is served while a
// background lookup replaces it; an empty or invalidated list is looked up
// before answering. The function view's changes invalidate a function's list.
import type { Logger } from 'pino';
import { RoundRobin } from './round-robin.js';

export type Resolve = (name: string) => Promise<string[]>;

interface Entry {
  rotation: RoundRobin;
  resolvedAt: number;
  /** When the latest lookup started (0: never). */
  lookupStartedAt: number;
  lookup: Promise<void> | undefined;
  stale: boolean;
}

export class EndpointTable {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly resolve: Resolve,
    private readonly refreshMs: number,
    private readonly log: Logger,
    readonly now: () => number = Date.now,
  ) {}

  /**
   * The next address for `name`, round-robin; `avoid` is skipped when another
   * address exists. undefined when the function has no task address.
   */
  async select(name: string, avoid?: string): Promise<string | undefined> {
    let entry = this.entries.get(name);
    if (!entry) {
      entry = { rotation: new RoundRobin(), resolvedAt: 0, lookupStartedAt: 0, lookup: undefined, stale: true };
      this.entries.set(name, entry);
    }
    if (entry.rotation.size === 0 || (avoid !== undefined && entry.rotation.size <= 1)) {
      // Nothing (else) to use: look up now.
      await this.lookup(name, entry);
    } else if (entry.stale || this.now() - entry.resolvedAt > this.refreshMs) {
      void this.lookup(name, entry);
    }
    return entry.rotation.next(avoid);
  }

  /** An address failed to connect: stop using it until the next lookup. */
  reject(name: string, address: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    entry.rotation.remove(address);
    entry.stale = true;
  }

  /** The function's tasks changed: look up again on next use. */
  invalidate(name: string): void {
    const entry = this.entries.get(name);
    if (entry) entry.stale = true;
  }

  forget(name: string): void {
    this.entries.delete(name);
  }

  /**
   * The function's tasks were replaced (it woke up) while a request waited
   * since `since`: drop addresses looked up before then. Every request held
   * by one wake calls this; only the first drops anything, the others share
   * its new lookup and the round-robin.
   */
  forgetOlderThan(name: string, since: number): void {
    const entry = this.entries.get(name);
    if (entry && entry.lookupStartedAt <= since) this.entries.delete(name);
  }

  private lookup(name: string, entry: Entry): Promise<void> {
    if (!entry.lookup) entry.lookupStartedAt = this.now();
    entry.lookup ??= this.resolve(name)
      .then((addresses) => {
        entry.rotation.replace(addresses);
        entry.resolvedAt = this.now();
        entry.stale = false;
      })
      .catch((error) => this.log.warn({ err: error, function: name }, 'endpoint lookup failed'))
      .finally(() => {
        entry.lookup = undefined;
      });
    return entry.lookup;
  }
}
