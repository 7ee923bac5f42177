// Where a callback may connect, decided on an IP address (pure: no DNS, no
// sockets). Every spelling of an address is one address here: IPv4 in
// decimal, hex, octal or short forms ("127.1", "0x7f.1", "2130706433"),
// IPv6 compressed or not, in any case, and IPv4 inside IPv6 ("::ffff:7f00:1",
// "::ffff:127.0.0.1") are all brought to one canonical text first.
//
// Refused always: loopback, unspecified ("0.0.0.0" and "::" reach the local
// host on Linux), link-local (169.254.0.0/16: cloud metadata; fe80::/10),
// multicast, broadcast, reserved and documentation ranges, IPv6 forms that
// carry an IPv4 address (compatible, NAT64, 6to4, Teredo) and the addresses
// of the stack and its nodes (StackAddresses). Refused unless allowed
// (ASYNC_CALLBACK_ALLOW): private ranges (10/8, 172.16/12, 192.168/16,
// 100.64/10, fc00::/7). Allowed: every other (public) address.
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** The canonical text of an IP address in any spelling ("[::ffff:7f00:1]" -> "127.0.0.1"), or undefined when it is none. */
export function canonicalAddress(text: string): string | undefined {
  const address = parseAddress(text);
  return address?.toString();
}

function parseAddress(text: string): Address | undefined {
  let bare = text.trim();
  if (bare.startsWith('[') && bare.endsWith(']')) bare = bare.slice(1, -1);
  // A zone ("fe80::1%eth0") names an interface, not another address.
  bare = bare.replace(/%[^%]*$/, '');
  if (!ipaddr.isValid(bare)) return undefined;
  try {
    // process(): an IPv4-mapped IPv6 address becomes the IPv4 address it maps.
    return ipaddr.process(bare);
  } catch {
    return undefined;
  }
}

export type AddressClass = 'public' | 'private' | 'refused';

/** What kind of address this is, with the range's name (for the error message). */
export function classify(text: string): { kind: AddressClass; range: string } | undefined {
  const address = parseAddress(text);
  if (!address) return undefined;
  const range = address.range();
  if (address.kind() === 'ipv4') {
    if (range === 'unicast') return { kind: 'public', range: 'public' };
    if (range === 'private' || range === 'carrierGradeNat') return { kind: 'private', range };
    return { kind: 'refused', range };
  }
  const v6 = address as ipaddr.IPv6;
  // ::a.b.c.d (IPv4-compatible, deprecated): ipaddr.js calls it unicast; it is no public address.
  if (v6.parts.slice(0, 6).every((part) => part === 0)) return { kind: 'refused', range: range === 'unicast' ? 'ipv4Compatible' : range };
  if (range === 'uniqueLocal') return { kind: 'private', range };
  // Global unicast is 2000::/3; everything else ipaddr.js calls unicast is unassigned.
  if (range === 'unicast' && (v6.parts[0]! & 0xe000) === 0x2000) return { kind: 'public', range: 'public' };
  return { kind: 'refused', range: range === 'unicast' ? 'unassigned' : range };
}

/** ASYNC_CALLBACK_ALLOW: address ranges (CIDR or single addresses) and host names whose private addresses a callback may reach. */
export interface AllowList {
  ranges: Array<[Address, number]>;
  hosts: Set<string>;
}

/** Parses "192.168.1.0/24, receiver.lan, fd00::/8"; throws naming the entry that is neither a range, an address nor a host name. */
export function parseAllowList(text: string): AllowList {
  const list: AllowList = { ranges: [], hosts: new Set() };
  for (const raw of text.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry.includes('/')) {
      const [base, bits] = entry.split('/') as [string, string];
      const address = parseAddress(base);
      const prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
      if (!address || !(prefix >= 0 && prefix <= (address.kind() === 'ipv4' ? 32 : 128))) throw new Error(`"${raw.trim()}" is not an address range (e.g. 192.168.1.0/24)`);
      list.ranges.push([address, prefix]);
    } else if (parseAddress(entry)) {
      const address = parseAddress(entry)!;
      list.ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else if (/^[a-z0-9]([a-z0-9_-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9_-]*[a-z0-9])?)*\.?$/.test(entry)) {
      list.hosts.add(entry.replace(/\.$/, ''));
    } else {
      throw new Error(`"${raw.trim()}" is neither an address range, an address nor a host name`);
    }
  }
  return list;
}

function inAllowedRange(address: Address, list: AllowList): boolean {
  return list.ranges.some(([base, bits]) => base.kind() === address.kind() && address.match(base as never, bits));
}

export type Decision = { allowed: true; address: string } | { allowed: false; address: string; reason: string };

export interface DecisionContext {
  /** The host the URL named (a name, or the address itself). */
  host?: string;
  allow: AllowList;
  /** Canonical addresses of the stack's tasks and its nodes. */
  stack: ReadonlySet<string>;
}

/** May a callback connect to `text` (an IP address in any spelling)? */
export function decide(text: string, context: DecisionContext): Decision {
  const address = parseAddress(text);
  if (!address) return { allowed: false, address: text, reason: 'not an IP address' };
  const canonical = address.toString();
  const kind = classify(canonical)!;
  if (kind.kind === 'refused') return { allowed: false, address: canonical, reason: `${kind.range} address` };
  if (context.stack.has(canonical)) return { allowed: false, address: canonical, reason: 'an address of the stack or of its nodes' };
  if (kind.kind === 'private') {
    const host = context.host?.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
    if (!inAllowedRange(address, context.allow) && !(host && context.allow.hosts.has(host))) {
      return { allowed: false, address: canonical, reason: `${kind.range} address (allow it with ASYNC_CALLBACK_ALLOW)` };
    }
  }
  return { allowed: true, address: canonical };
}
