// Which addresses a callback may not go to. X-Callback-Url comes from
// whoever may call /async-function (no auth), and the worker sits on the
// stack's own networks: unguarded, a caller could have it POST a body of
// their choosing (echoed by a function) to AlertManager, NATS or the
// gateway. ASYNC_CALLBACK_DENY_HOSTS names hosts whose addresses are refused
// (read again every few seconds: tasks change); the check runs on the
// address actually connected to, so a name that resolves there, or the bare
// IP, is refused too.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';

export class CallbackRefused extends Error {}

export type Resolve = (host: string) => Promise<string[]>;

const defaultResolve: Resolve = (host) =>
  new Promise((resolve) => dnsLookup(host, { all: true }, (error, addresses) => resolve(error ? [] : addresses.map((a) => a.address))));

/** How long the addresses of the denied hosts are kept before they are looked up again. */
const REFRESH_MS = 5_000;

export class CallbackGuard {
  private denied: { at: number; addresses: Set<string> } | undefined;
  private refreshing: Promise<Set<string>> | undefined;

  constructor(
    private readonly hosts: string[],
    private readonly resolve: Resolve = defaultResolve,
    private readonly now: () => number = Date.now,
  ) {}

  static fromSetting(text: string): CallbackGuard {
    return new CallbackGuard(text.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean));
  }

  get enabled(): boolean {
    return this.hosts.length > 0;
  }

  /** Throws CallbackRefused when `address` (an IP) belongs to a denied host. */
  async check(address: string, shownAs = address): Promise<void> {
    if (!this.enabled) return;
    const denied = await this.deniedAddresses();
    if (denied.has(normalise(address)) || this.hosts.includes(shownAs.toLowerCase())) {
      throw new CallbackRefused(`callbacks to ${shownAs} are refused (ASYNC_CALLBACK_DENY_HOSTS)`);
    }
  }

  private async deniedAddresses(): Promise<Set<string>> {
    if (this.denied && this.now() - this.denied.at < REFRESH_MS) return this.denied.addresses;
    this.refreshing ??= (async () => {
      const addresses = new Set<string>();
      for (const host of this.hosts) {
        if (isIP(host)) addresses.add(normalise(host));
        else for (const a of await this.resolve(host)) addresses.add(normalise(a));
      }
      this.denied = { at: this.now(), addresses };
      return addresses;
    })().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** A `lookup` for net.connect (undici's connect option) that refuses denied addresses. */
  lookup(): (hostname: string, options: { all?: boolean; family?: number }, callback: (...args: unknown[]) => void) => void {
    return (hostname, options, callback) => {
      dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
        if (error) return callback(error);
        Promise.all(addresses.map((a) => this.check(a.address, hostname))).then(
          () => (options.all ? callback(null, addresses) : callback(null, addresses[0]!.address, addresses[0]!.family)),
          (refused: unknown) => callback(refused),
        );
      });
    };
  }
}

/** "::ffff:10.0.0.1" and "10.0.0.1" are one address. */
function normalise(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4 ? lower.slice(7) : lower;
}
