// Each gateway's own addresses (one per network it is on), announced in the
// JetStream key-value bucket `faas-gateway-addresses`, so that the queue
// worker's callback guard refuses them from the moment a gateway task
// serves. Swarm's DNS, the guard's other source, lists a replaced gateway's
// new task only some seconds after it answers (10 s measured here after a
// kill, longer on a loaded node): in between a callback reached it.
// An entry lives TTL_MS unless announced again; a gone gateway's addresses
// expire with it.
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import type { QueueConnection } from './connection.js';
import { lazyBucket } from './kv-bucket.js';

export const GATEWAY_ADDRESSES_BUCKET = 'faas-gateway-addresses';
/** How long an entry lives unless announced again. */
const TTL_MS = 10 * 60_000;
/** How often a gateway announces itself again (and after each reconnect: a NATS that lost its store lost the bucket). */
const ANNOUNCE_EVERY_MS = 60_000;
/** How old the announced set may be when a caller does not ask for a fresh one. */
const READ_EVERY_MS = 2_000;
/** A read that takes longer keeps the last set: a listing of the bucket can stall while keys change under it. */
const READ_TIMEOUT_MS = 3_000;

/** This container's addresses but loopback. */
export function ownAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((i) => !i.internal)
    .map((i) => i.address);
}

/** KV keys allow [-/_=.a-zA-Z0-9]: a host name (a container id) fits; anything else becomes "_". */
const keyOf = (id: string): string => id.replace(/[^-_=.a-zA-Z0-9]/g, '_');

/** The gateway's side: puts `addresses()` under its `id` now, every ANNOUNCE_EVERY_MS and after each reconnect. */
export function announceGatewayAddresses(connection: QueueConnection, id: string, log: Logger, addresses: () => string[] = ownAddresses): { start(): void; stop(): void } {
  const open = lazyBucket(connection, GATEWAY_ADDRESSES_BUCKET, { ttl: TTL_MS });
  let timer: NodeJS.Timeout | undefined;
  const announce = async (): Promise<void> => {
    try {
      await (await open()).put(keyOf(id), JSON.stringify(addresses()));
    } catch (error) {
      log.warn({ err: error }, 'own addresses not announced (callbacks to them are refused by DNS only): trying again');
    }
  };
  const onReconnect = () => void announce();
  return {
    start() {
      connection.onReconnect(onReconnect);
      timer = setInterval(() => void announce(), ANNOUNCE_EVERY_MS);
      timer.unref();
      void announce();
    },
    stop() {
      clearInterval(timer);
    },
  };
}

/**
 * The worker's side: every address the gateways announced. Read again when
 * older than READ_EVERY_MS, or at once with `fresh`; a read that fails keeps
 * the last set (and an empty one before any read succeeded).
 */
export function announcedGatewayAddresses(connection: QueueConnection, now: () => number = Date.now): (options?: { fresh?: boolean }) => Promise<string[]> {
  const open = lazyBucket(connection, GATEWAY_ADDRESSES_BUCKET, { ttl: TTL_MS });
  let last: { at: number; addresses: string[] } | undefined;
  let reading: Promise<string[]> | undefined;
  const read = async (): Promise<string[]> => {
    const kv = await open();
    // A key announced again while the listing runs comes twice.
    const keys = new Set<string>();
    for await (const key of await kv.keys()) keys.add(key);
    const addresses = new Set<string>();
    for (const key of keys) {
      const entry = await kv.get(key);
      if (entry?.operation !== 'PUT') continue;
      const announced: unknown = JSON.parse(entry.string());
      if (Array.isArray(announced)) for (const a of announced) if (typeof a === 'string') addresses.add(a);
    }
    return [...addresses];
  };
  return (options) => {
    if (last && !options?.fresh && now() - last.at < READ_EVERY_MS) return Promise.resolve(last.addresses);
    return (reading ??= withTimeout(read(), READ_TIMEOUT_MS)
      .then(
        (addresses) => ((last = { at: now(), addresses }), addresses),
        () => last?.addresses ?? [],
      )
      .finally(() => (reading = undefined)));
  };
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from NATS within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
