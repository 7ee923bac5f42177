// The gateway's own readiness check of starting tasks. Swarm calls a task
// running (and the snapshot ready) only after its first passing HEALTHCHECK,
// and Docker runs that check an interval after the start; every check is an
// exec in the container, which costs the node a share of a core per few dozen
// idle tasks checked every 2 s (bench/health-checks.mjs). So the watchdog's
// check is sparse (liveness), and readiness is asked here: each starting
// task's watchdog is probed (GET /_/health) until it answers 200, then the
// task counts as ready in the view (routed to, available) until Swarm itself
// says running, or the task goes away.
import type { FunctionEntry, FunctionInstance } from '../../core/functions/types.js';
import type { HealthProbe } from '../../core/upstream/health-probe.js';

/** How often a starting task is probed; after SLOW_AFTER_MS of probing, every SLOW_PROBE_MS (a task that never starts). */
const PROBE_EVERY_MS = 200;
const SLOW_AFTER_MS = 10_000;
const SLOW_PROBE_MS = 2_000;

interface Pending {
  key: string;
  address: string;
  since: number;
  nextAt: number;
  probing: boolean;
}

/** The instances of `entry` the gateway should probe itself: listed as starting, not ready, with an address. */
function candidatesOf(entry: FunctionEntry): FunctionInstance[] {
  const starting = new Set(entry.starting);
  return entry.instances.filter((i) => !i.ready && i.address !== undefined && starting.has(i.address));
}

/**
 * `entry` with the instances `isReady` names counted ready: routed to
 * (endpoints), in availableReplicas, and without the reason it was short
 * when that no longer holds. Pure.
 */
export function withProbedReady(entry: FunctionEntry, isReady: (instanceId: string) => boolean): FunctionEntry {
  const promoted = candidatesOf(entry).filter((i) => isReady(i.id));
  if (promoted.length === 0) return entry;
  const ids = new Set(promoted.map((i) => i.id));
  const instances = entry.instances.map((i) => (ids.has(i.id) ? { ...i, ready: true } : i));
  const endpoints = [...new Set([...entry.endpoints, ...promoted.map((i) => i.address!)])].sort();
  const availableReplicas = entry.status.availableReplicas + promoted.length;
  const status = { ...entry.status, availableReplicas };
  if (availableReplicas >= status.replicas) delete status.unavailableReason;
  return { ...entry, status, instances, endpoints };
}

export class TaskReadiness {
  private readonly pending = new Map<string, Pending>();
  /** Instances (by id) that answered the probe, with their function's key. */
  private readonly answered = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: {
      probe: HealthProbe;
      /** A task of the function `key` answered: its entry should be applied again. */
      onReady: (key: string) => void;
      now?: () => number;
    },
  ) {}

  /** The function's latest entry from the orchestrator (undefined: gone): probes its starting tasks, forgets the others. */
  follow(key: string, entry: FunctionEntry | undefined): void {
    const candidates = new Map((entry ? candidatesOf(entry) : []).map((i) => [i.id, i.address!]));
    for (const [id, pending] of this.pending) if (pending.key === key && candidates.get(id) !== pending.address) this.pending.delete(id);
    for (const [id, owner] of this.answered) if (owner === key && !candidates.has(id)) this.answered.delete(id);
    const now = this.now();
    for (const [id, address] of candidates) {
      if (this.answered.has(id) || this.pending.has(id)) continue;
      this.pending.set(id, { key, address, since: now, nextAt: now, probing: false });
    }
    this.schedule();
  }

  /** The entry with the tasks that answered counted ready. */
  apply(entry: FunctionEntry): FunctionEntry {
    return this.answered.size === 0 ? entry : withProbedReady(entry, (id) => this.answered.has(id));
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private schedule(): void {
    if (this.pending.size > 0 && !this.timer) {
      this.timer = setInterval(() => this.probeDue(), PROBE_EVERY_MS);
      this.timer.unref();
      this.probeDue();
    } else if (this.pending.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private probeDue(): void {
    const now = this.now();
    for (const [id, pending] of this.pending) {
      if (pending.probing || pending.nextAt > now) continue;
      pending.probing = true;
      void this.options.probe(pending.address).then(
        (ok) => this.answer(id, pending, ok),
        () => this.answer(id, pending, false),
      );
    }
  }

  private answer(id: string, pending: Pending, ok: boolean): void {
    pending.probing = false;
    if (this.pending.get(id) !== pending) return; // forgotten meanwhile (the task stopped or became ready)
    if (!ok) {
      const now = this.now();
      pending.nextAt = now - pending.since > SLOW_AFTER_MS ? now + SLOW_PROBE_MS : now; // else at the next tick
      return;
    }
    this.pending.delete(id);
    this.answered.set(id, pending.key);
    this.schedule();
    this.options.onReady(pending.key);
  }
}
