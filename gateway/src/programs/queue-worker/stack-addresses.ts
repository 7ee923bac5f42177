// The addresses a callback must never reach because they are the stack's:
// every address of every task of its services on every network, and its
// nodes' addresses. Behind one small interface (StackAddresses) so that
// other sources are added (the addresses the gateways announce in NATS)
// without the guard knowing where they come from.
//
// What the worker knows by itself, without Docker:
//   - its own interfaces (one per network it is on), and its default route:
//     the node it runs on (its docker_gwbridge address);
//   - Swarm's DNS: `tasks.<service>` lists a service's tasks on one network
//     only (the first the worker and the service share), but
//     `tasks.<service>.<network>` lists them on the network named, so each
//     stack service is looked up on every network of the stack.
import { Resolver } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { canonicalAddress } from './address-policy.js';

/**
 * The current set of the stack's addresses (canonical text, see
 * canonicalAddress). `fresh`: not a set served while a newer one is read
 * (a task replaced since the last read has new addresses).
 */
export type StackAddresses = (options?: { fresh?: boolean }) => Promise<ReadonlySet<string>>;

export type Resolve = (host: string) => Promise<string[]>;

const ownInterfaceAddresses = (): string[] => Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));

/** What swarmResolve asks: node:dns's Resolver, or a stand-in in the unit tests. */
export interface Resolver4and6 {
  resolve4(host: string): Promise<string[]>;
  resolve6(host: string): Promise<string[]>;
}

/**
 * Swarm's DNS through c-ares (dns.promises.Resolver), not getaddrinfo: a
 * refresh asks for a hundred names or so, most of which do not exist, and
 * getaddrinfo would hold libuv's four threads (which the callbacks' own
 * lookups and file reads share) for as long as the upstream resolver takes.
 *
 * A name that had no record at its last lookup (a service not on that
 * network, or with no task for a moment) answers "none" at once and is asked
 * again behind the read, for the next one: Docker hands such names to the
 * node's own resolver, which may take a second or time out, and a callback
 * waiting for a fresh set would wait that long. A service's new task is
 * therefore seen one read later (a few seconds), as Swarm's DNS lists it
 * some seconds late anyway.
 */
const NO_SUCH_NAME = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME', 'NOTFOUND', 'NODATA']);

export function swarmResolve(resolver: Resolver4and6 = new Resolver({ timeout: 1_000, tries: 2 }), ipv6 = hasIpv6()): Resolve {
  // A lookup that fails for another reason than "no such name" (a timeout on a busy node) answers
  // what the name had last: a service's addresses must not drop out of the set for a slow DNS.
  const lastGood = new Map<string, string[]>();
  const empty = new Set<string>();
  const asking = new Map<string, Promise<string[]>>();
  const ask = (key: string, host: string, family: 4 | 6): Promise<string[]> => {
    let pending = asking.get(key);
    if (!pending) {
      pending = (family === 4 ? resolver.resolve4(host) : resolver.resolve6(host))
        .then(
          (addresses) => {
            lastGood.set(key, addresses);
            if (addresses.length) empty.delete(key);
            else empty.add(key);
            return addresses;
          },
          (error: NodeJS.ErrnoException) => {
            if (!NO_SUCH_NAME.has(error.code ?? '')) return lastGood.get(key) ?? [];
            lastGood.delete(key);
            empty.add(key);
            return [];
          },
        )
        .finally(() => asking.delete(key));
      asking.set(key, pending);
    }
    return pending;
  };
  const lookup = (host: string, family: 4 | 6): Promise<string[]> => {
    const key = `${family} ${host}`;
    if (!empty.has(key)) return ask(key, host, family);
    void ask(key, host, family);
    return Promise.resolve([]);
  };
  return async (host) => {
    const [v4, v6] = await Promise.all([lookup(host, 4), ipv6 ? lookup(host, 6) : []]);
    return [...v4, ...v6];
  };
}

/** IPv6 answers only where a network of this container has IPv6 (Swarm's overlays have none unless asked). */
const hasIpv6 = (): boolean => ownInterfaceAddresses().some((address) => address.includes(':') && address !== '::1' && !/^fe[89ab]/i.test(address));

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
  /** The stack's service names (ASYNC_CALLBACK_DENY_HOSTS): looked up as `tasks.<name>.<network>` (`tasks.<name>` without networks). */
  services: string[];
  /** The stack's networks (ASYNC_CALLBACK_DENY_NETWORKS). */
  networks: string[];
  resolve?: Resolve;
  /** This container's addresses (os.networkInterfaces by default). */
  ownAddresses?: () => string[];
  /** The node's address as this container sees it (the default routes' gateways by default). */
  nodeAddresses?: () => Promise<string[]>;
  now?: () => number;
}

/** How old a set may be before it is read again (tasks come and go); meanwhile the last one serves. */
const REFRESH_MS = 5_000;
/** How old a set may be before callers wait for a new one (the reads keep failing or hanging). */
const MAX_AGE_MS = 60_000;

const nodeFromRoutes = async (): Promise<string[]> => defaultGateways(await readFile('/proc/net/route', 'utf8').catch(() => ''));

/** StackAddresses from what this container knows itself (see the top of this file), read again after REFRESH_MS. */
export function localStackAddresses(sources: LocalSources): StackAddresses {
  const resolve = sources.resolve ?? swarmResolve();
  const own = sources.ownAddresses ?? ownInterfaceAddresses;
  const node = sources.nodeAddresses ?? nodeFromRoutes;
  const names = sources.services.flatMap((service) => (sources.networks.length ? sources.networks.map((network) => `tasks.${service}.${network}`) : [`tasks.${service}`]));
  return cached(async () => {
    const found = await Promise.all([Promise.resolve(own()), node(), ...names.map((name) => resolve(name))]);
    return toSet(found.flat());
  }, REFRESH_MS, MAX_AGE_MS, sources.now ?? Date.now);
}

/** One StackAddresses from several (e.g. the local one and the other nodes' addresses from the gateways). */
export function unionOf(...sources: StackAddresses[]): StackAddresses {
  return async (options) => {
    const sets = await Promise.all(sources.map((source) => source(options)));
    return new Set(sets.flatMap((set) => [...set]));
  };
}

/** StackAddresses from a list read elsewhere (the addresses the gateways announce in NATS, queue/gateway-addresses.ts). */
export function listedAddresses(read: (options?: { fresh?: boolean }) => Promise<string[]>): StackAddresses {
  return async (options) => toSet(await read(options));
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

/**
 * The first read is waited for; afterwards a set older than `refreshMs` is
 * read again in the background while the last one serves (a callback never
 * waits on DNS for it), unless it is older than `maxAgeMs`. A failed read
 * keeps the last set.
 */
function cached(read: () => Promise<ReadonlySet<string>>, refreshMs: number, maxAgeMs: number, now: () => number): StackAddresses {
  let last: { at: number; set: ReadonlySet<string> } | undefined;
  let reading: Promise<ReadonlySet<string>> | undefined;
  const refresh = (): Promise<ReadonlySet<string>> =>
    (reading ??= read()
      .then(
        (set) => ((last = { at: now(), set }), set),
        () => last?.set ?? new Set<string>(),
      )
      .finally(() => (reading = undefined)));
  return (options) => {
    const age = last ? now() - last.at : Infinity;
    if (age < refreshMs) return Promise.resolve(last!.set);
    const next = refresh();
    return age < maxAgeMs && !options?.fresh ? Promise.resolve(last!.set) : next;
  };
}
