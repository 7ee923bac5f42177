// Where each function's invocations go: the addresses of its ready instances
// from the function view (kept current by the provider's snapshots, so an
// invocation waits for no lookup), chosen round-robin. A starting instance
// that answered the gateway's own readiness probe (while waking) is used too,
// until the orchestrator's own health check lists it, or it stops starting. An address that fails
// to connect is left out for a while (quarantine, doubling while it keeps
// failing) even if the orchestrator still lists it: a task on a node that has
// just died stays "running" in Swarm for seconds, and every request sent to
// it would wait out a connect timeout.
import { RoundRobin } from './round-robin.js';

/** First quarantine of a failing address; doubles per failure in a row, up to the maximum. */
const QUARANTINE_MS = 1_000;
const QUARANTINE_MAX_MS = 30_000;

interface Quarantine {
  until: number;
  failures: number;
}

interface Routes {
  rotation: RoundRobin;
  ready: readonly string[];
  /** Instances starting or running, ready or not. */
  starting: ReadonlySet<string>;
  /** Starting instances that answered the gateway's readiness probe. */
  probed: Set<string>;
}

export class EndpointTable {
  private readonly routes = new Map<string, Routes>();
  private readonly quarantined = new Map<string, Quarantine>();

  constructor(readonly now: () => number = Date.now) {}

  /** The function's ready and starting addresses changed (from the function view). */
  set(key: string, ready: readonly string[], starting: readonly string[] = []): void {
    let routes = this.routes.get(key);
    if (!routes) this.routes.set(key, (routes = { rotation: new RoundRobin(), ready, starting: new Set(), probed: new Set() }));
    routes.ready = ready;
    routes.starting = new Set(starting);
    for (const address of routes.probed) if (!routes.starting.has(address) || ready.includes(address)) routes.probed.delete(address);
    routes.rotation.replace(routes.probed.size === 0 ? ready : [...ready, ...routes.probed]);
  }

  /** A starting instance answered the readiness probe: route to it too (while it is listed as starting). False: it is not routed to (not listed as starting). */
  admit(key: string, address: string): boolean {
    const routes = this.routes.get(key);
    if (!routes || !routes.starting.has(address)) return false;
    if (routes.ready.includes(address) || routes.probed.has(address)) return true;
    routes.probed.add(address);
    routes.rotation.replace([...routes.ready, ...routes.probed]);
    return true;
  }

  forget(key: string): void {
    this.routes.delete(key);
  }

  /** Whether the function routes to `address` (quarantined or not). */
  has(key: string, address: string): boolean {
    const routes = this.routes.get(key);
    return routes !== undefined && (routes.ready.includes(address) || routes.probed.has(address));
  }

  /** How many addresses the function has, quarantined ones included. */
  size(key: string): number {
    return this.routes.get(key)?.rotation.size ?? 0;
  }

  /**
   * The next address for the function, round-robin, skipping `avoid` and
   * quarantined addresses; undefined when none is left.
   */
  select(key: string, avoid?: string): string | undefined {
    const rotation = this.routes.get(key)?.rotation;
    if (!rotation) return undefined;
    const now = this.now();
    return rotation.next((address) => address !== avoid && !this.isQuarantined(address, now));
  }

  /**
   * The usable address (not `avoid`, not quarantined) that `score` ranks
   * lowest, ties taken in rotation; `score` answers undefined for an address
   * that cannot take the call (core/upstream/slots.ts: no free slot).
   */
  pick(key: string, score: (address: string) => number | undefined, avoid?: string): string | undefined {
    const rotation = this.routes.get(key)?.rotation;
    if (!rotation) return undefined;
    const now = this.now();
    return rotation.best((address) => (address === avoid || this.isQuarantined(address, now) ? undefined : score(address)));
  }

  /** An address failed to connect: leave it out for a while. */
  reject(address: string): void {
    const previous = this.quarantined.get(address);
    const failures = (previous?.failures ?? 0) + 1;
    this.quarantined.set(address, { failures, until: this.now() + Math.min(QUARANTINE_MS * 2 ** (failures - 1), QUARANTINE_MAX_MS) });
  }

  /** An address answered: it is trusted again. */
  accept(address: string): void {
    if (this.quarantined.size > 0) this.quarantined.delete(address);
  }

  private isQuarantined(address: string, now: number): boolean {
    const entry = this.quarantined.get(address);
    return entry !== undefined && entry.until > now;
  }
}
