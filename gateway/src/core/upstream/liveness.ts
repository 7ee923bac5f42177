// Notices an instance that stopped answering (its node died, its network
// broke) before the orchestrator does, which takes seconds: when a call to
// an instance has waited a while without an answer, the gateway opens a new
// TCP connection to it. A live instance accepts at once even while it is
// busy (the kernel answers); one that does not within the connect timeout
// is declared dead, so that the calls waiting on it are retried elsewhere
// and no new call goes there. At most one check per instance at a time, and
// none within a second of the last one that found it alive.
import { connect } from 'node:net';

const RECHECK_AFTER_MS = 1_000;

export class Liveness {
  private readonly checking = new Set<string>();
  private readonly aliveAt = new Map<string, number>();

  constructor(
    private readonly options: { connectTimeoutMs: number; onDead: (address: string) => void; now?: () => number },
  ) {}

  /** A call to `address` is slow: check that the instance is still there. */
  suspect(address: string): void {
    const now = (this.options.now ?? Date.now)();
    if (this.checking.has(address) || now - (this.aliveAt.get(address) ?? -Infinity) < RECHECK_AFTER_MS) return;
    const colon = address.lastIndexOf(':');
    const host = address.slice(0, colon);
    // Only instance addresses: a service name (vip mode) is balanced by the orchestrator, not checked here.
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(host)) return;
    this.checking.add(address);
    void reachable(host, Number(address.slice(colon + 1)), this.options.connectTimeoutMs).then((alive) => {
      this.checking.delete(address);
      if (alive) this.aliveAt.set(address, (this.options.now ?? Date.now)());
      else {
        this.aliveAt.delete(address);
        this.options.onDead(address);
      }
    });
  }
}

/** Whether a TCP connection to host:port opens within timeoutMs (refused counts as not). */
export function reachable(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let settled = false;
    const done = (alive: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(alive);
    };
    // As for calls: one turn of the event loop before a timeout counts, so a busy loop is not taken for a dead peer.
    const timer = setTimeout(() => setImmediate(() => done(false)), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
