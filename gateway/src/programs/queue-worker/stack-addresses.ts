// The addresses a callback must never reach because they are the stack's:
// every address of every task of its services on every network, and its
// nodes' addresses. Behind one small interface (StackAddresses) so that
// other sources can be added (the other nodes' addresses, from the
// gateways) without the guard knowing where they come from.
//
// What the worker knows by itself, without Docker:
//   - its own interfaces (one per network it is on), and its default route:
//     the node it runs on (its docker_gwbridge address);
//   - Swarm's DNS: `tasks.<service>` lists a service's tasks on one network
//     only (the first the worker and the service share), but
//     `tasks.<service>.<network>` lists them on the network named, so each
//     stack service is looked up on every network of the stack.
import { lookup as dnsLookup } from 'node:dns';
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { canonicalAddress } from './address-policy.js';

/** The current set of the stack's addresses (canonical text, see canonicalAddress). */
export type StackAddresses = () => Promise<ReadonlySet<string>>;

export type Resolve = (host: string) => Promise<string[]>;

const systemResolve: Resolve = (host) =>
  new Promise((resolve) => dnsLookup(host, { all: true }, (error, addresses) => resolve(error ? [] : addresses.map((a) => a.address))));

/** The IPv4 gateways of the default routes in /proc/net/route (hex, little-endian): the node, seen from a container. */
export function defaultGateways(routeTable: string): string[] {
  const gateways: string[] = [];
  for (const line of routeTable.split('\n').slice(1)) {
    const [, destination, gateway] = line.trim().split(/\s+/);
    if (destination !== '00000000' || !gateway || !/^[0-9A-Fa-f]{8}$/.test(gateway)) continue;
    const n = parseInt(gateway, 16);
    gateways.push([n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.'));
  }
  return gateways;
}

export interface LocalSources {
  /** The stack's service names (ASYNC_CALLBACK_DENY_HOSTS): looked up as `<name>`, `tasks.<name>` and `tasks.<name>.<network>`. */
  services: string[];
  /** The stack's networks (ASYNC_CALLBACK_DENY_NETWORKS). */
  networks: string[];
  resolve?: Resolve;
  /** This container's addresses (os.networkInterfaces by default). */
  ownAddresses?: () => string[];
  /** The node's address as this container sees it (the default routes' gateways by default). */
  nodeAddresses?: () => Promise<string[]>;
  /** How long a set is kept before it is read again (tasks come and go). */
  refreshMs?: number;
  now?: () => number;
}

const ownInterfaceAddresses = (): string[] => Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
const nodeFromRoutes = async (): Promise<string[]> => defaultGateways(await readFile('/proc/net/route', 'utf8').catch(() => ''));

/** StackAddresses from what this container knows itself (see the top of this file), read again after refreshMs. */
export function localStackAddresses(sources: LocalSources): StackAddresses {
  const resolve = sources.resolve ?? systemResolve;
  const own = sources.ownAddresses ?? ownInterfaceAddresses;
  const node = sources.nodeAddresses ?? nodeFromRoutes;
  const names = sources.services.flatMap((service) => [service, `tasks.${service}`, ...sources.networks.map((network) => `tasks.${service}.${network}`)]);
  return cached(async () => {
    const found = await Promise.all([Promise.resolve(own()), node(), ...names.map((name) => resolve(name))]);
    return toSet(found.flat());
  }, sources.refreshMs ?? 5_000, sources.now ?? Date.now);
}

/** One StackAddresses from several (e.g. the local one and the other nodes' addresses from the gateways). */
export function unionOf(...sources: StackAddresses[]): StackAddresses {
  return async () => {
    const sets = await Promise.all(sources.map((source) => source()));
    return new Set(sets.flatMap((set) => [...set]));
  };
}

/** A fixed set (tests; addresses known from settings). */
export function fixedAddresses(addresses: string[]): StackAddresses {
  const set = toSet(addresses);
  return async () => set;
}

function toSet(addresses: string[]): Set<string> {
  const set = new Set<string>();
  for (const address of addresses) {
    const canonical = canonicalAddress(address);
    if (canonical) set.add(canonical);
  }
  return set;
}

/** Reads at most once per `ttlMs`, callers in the meantime sharing the read in flight; a failed read keeps the last set. */
function cached(read: () => Promise<ReadonlySet<string>>, ttlMs: number, now: () => number): StackAddresses {
  let last: { at: number; set: ReadonlySet<string> } | undefined;
  let reading: Promise<ReadonlySet<string>> | undefined;
  return () => {
    if (last && now() - last.at < ttlMs) return Promise.resolve(last.set);
    reading ??= read()
      .then(
        (set) => ((last = { at: now(), set }), set),
        () => last?.set ?? new Set<string>(),
      )
      .finally(() => (reading = undefined));
    return reading;
  };
}
