// Where a callback may connect. X-Callback-Url comes from whoever may call
// /async-function (no auth), and the worker sits on the stack's own
// networks and on its node: unguarded, a caller could have it POST a body of
// their choosing to AlertManager, NATS, the gateway, the node's published
// ports or a cloud's metadata service.
//
// The decision (address-policy.ts) is made on the address actually
// connected to: the lookup handed to the socket keeps only allowed
// addresses (so every address Node tries is one that was checked), a URL
// naming an address is checked before any connection, and the connected
// socket's remote address is checked once more before a byte is sent.
// Redirects are never followed (undici's request does not).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type Socket } from 'node:net';
import { buildConnector } from 'undici';
import { decide, parseAllowList, type AllowList } from './address-policy.js';
import { localStackAddresses, unionOf, type StackAddresses } from './stack-addresses.js';

export class CallbackRefused extends Error {}

/** What the callback sender needs of a guard: a verdict per address, given the host the URL named. */
export interface ConnectGuard {
  /** Throws CallbackRefused unless a callback to `host` may connect to `address`. */
  check(address: string, host: string): Promise<void>;
}

export interface CallbackGuardSettings {
  /** Private ranges and hosts callbacks may reach (ASYNC_CALLBACK_ALLOW). */
  ASYNC_CALLBACK_ALLOW: string;
  /** The stack's services (ASYNC_CALLBACK_DENY_HOSTS): refused by name and by every address of their tasks. */
  ASYNC_CALLBACK_DENY_HOSTS: string;
  /** The stack's networks, on which the services above are looked up (ASYNC_CALLBACK_DENY_NETWORKS). */
  ASYNC_CALLBACK_DENY_NETWORKS: string;
}

const list = (text: string): string[] => text.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);

export class CallbackGuard implements ConnectGuard {
  private readonly deniedNames: Set<string>;

  constructor(
    private readonly allow: AllowList,
    private readonly stack: StackAddresses,
    deniedServices: string[] = [],
    networks: string[] = [],
  ) {
    // Refused by name too (before any lookup): `gateway`, `tasks.gateway`, `gateway.<network>`, `tasks.gateway.<network>`.
    this.deniedNames = new Set(
      deniedServices.flatMap((name) => [name, `tasks.${name}`]).flatMap((name) => [name, ...networks.map((network) => `${name}.${network}`)]),
    );
  }

  /**
   * The worker's guard: the settings' allow list, and the stack's addresses as
   * this container knows them, plus any other source given (e.g. the other
   * nodes' addresses).
   */
  static fromSettings(settings: CallbackGuardSettings, ...more: StackAddresses[]): CallbackGuard {
    const services = list(settings.ASYNC_CALLBACK_DENY_HOSTS);
    const networks = list(settings.ASYNC_CALLBACK_DENY_NETWORKS);
    const local = localStackAddresses({ services, networks });
    return new CallbackGuard(parseAllowList(settings.ASYNC_CALLBACK_ALLOW), more.length ? unionOf(local, ...more) : local, services, networks);
  }

  async check(address: string, host: string): Promise<void> {
    const name = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
    if (this.deniedNames.has(name)) throw new CallbackRefused(`callbacks to ${host} are refused: a service of the stack (ASYNC_CALLBACK_DENY_HOSTS)`);
    let decision = decide(address, { host: name, allow: this.allow, stack: await this.stack() });
    // The set served may be a few seconds old: an address it lets through is checked again against a
    // fresh one (a gateway or worker task replaced since has new addresses). Refusals need no second look.
    if (decision.allowed) decision = decide(address, { host: name, allow: this.allow, stack: await this.stack({ fresh: true }) });
    if (!decision.allowed) throw new CallbackRefused(`callbacks to ${host}${decision.address === name ? '' : ` (${decision.address})`} are refused: ${decision.reason}`);
  }
}

type LookupCallback = (error: Error | null, address?: string | LookupAddress[], family?: number) => void;
type LookupAll = (hostname: string, family: number) => Promise<LookupAddress[]>;

const systemLookupAll: LookupAll = (hostname, family) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { family, all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

/** A `lookup` for net.connect that answers only the addresses the guard allows (all of them refused: the first refusal). */
export function guardedLookup(guard: ConnectGuard, lookupAll: LookupAll = systemLookupAll): (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback) => void {
  return (hostname, options, callback) => {
    lookupAll(hostname, options.family ?? 0)
      .then(async (addresses) => {
        const verdicts = await Promise.all(addresses.map((a) => guard.check(a.address, hostname).then(() => undefined, (refused: Error) => refused)));
        const allowed = addresses.filter((_, i) => verdicts[i] === undefined);
        if (!allowed.length) return callback(verdicts.find(Boolean) ?? new CallbackRefused(`callbacks to ${hostname} are refused: no address`));
        if (options.all) callback(null, allowed);
        else callback(null, allowed[0]!.address, allowed[0]!.family);
      })
      .catch((error: Error) => callback(error));
  };
}

/**
 * An undici connector that checks a URL's literal address before connecting,
 * hands the socket the guarded lookup for names, and checks the address the
 * socket reached before undici writes to it.
 */
export function guardedConnector(guard: ConnectGuard, timeoutMs: number): buildConnector.connector {
  const connect = buildConnector({ timeout: timeoutMs, lookup: guardedLookup(guard) } as buildConnector.BuildOptions);
  return (options, callback) => {
    const host = options.hostname.replace(/^\[|\]$/g, '');
    const before = isIP(host) ? guard.check(host, host) : Promise.resolve();
    before.then(
      () =>
        connect(options, (error, socket) => {
          if (error || !socket) return callback(error ?? new Error('no socket'), null);
          const remote = (socket as Socket).remoteAddress;
          (remote ? guard.check(remote, host) : Promise.reject(new CallbackRefused(`callbacks to ${host}: the address connected to is unknown`))).then(
            () => callback(null, socket),
            (refused: Error) => {
              socket.destroy();
              callback(refused, null);
            },
          );
        }),
      (refused: Error) => callback(refused, null),
    );
  };
}
