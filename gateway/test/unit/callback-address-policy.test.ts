// Every spelling of an address is one address to the callback guard, and the
// decision follows the address, not its spelling (property tests), plus the
// addresses the worker counts as the stack's without Docker.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalAddress, classify, decide, parseAllowList } from '../../src/programs/queue-worker/address-policy.js';
import { defaultGateways, fixedAddresses, localStackAddresses, swarmResolve, unionOf } from '../../src/programs/queue-worker/stack-addresses.js';

const octets = (n: number): number[] => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const dotted = (n: number): string => octets(n).join('.');
const hex16 = (n: number): string => n.toString(16);

/** Spellings of one IPv4 address (a 32-bit number) that a URL, a resolver or an attacker may give. */
function ipv4Spellings(n: number): fc.Arbitrary<string> {
  const [a, b, c, d] = octets(n) as [number, number, number, number];
  const part = (x: number): fc.Arbitrary<string> => fc.constantFrom(String(x), `0x${x.toString(16)}`, `0X${x.toString(16).toUpperCase()}`, `0${x.toString(8)}`);
  return fc.oneof(
    fc.constant(dotted(n)),
    fc.tuple(part(a), part(b), part(c), part(d)).map((p) => p.join('.')),
    fc.constant(`${a}.${b}.${(c << 8) | d}`),
    fc.constant(`${a}.${(b << 16) | (c << 8) | d}`),
    fc.constantFrom(String(n), `0x${n.toString(16)}`),
    fc.constantFrom(`::ffff:${dotted(n)}`, `::FFFF:${dotted(n)}`, `[::ffff:${dotted(n)}]`),
    fc.constantFrom(`::ffff:${hex16(n >>> 16)}:${hex16(n & 0xffff)}`, `0:0:0:0:0:ffff:${hex16(n >>> 16).padStart(4, '0')}:${hex16(n & 0xffff).padStart(4, '0')}`),
    fc.constant(`0000:0000:0000:0000:0000:FFFF:${hex16(n >>> 16).toUpperCase()}:${hex16(n & 0xffff).toUpperCase()}`),
  );
}

const ipv4 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const inRange = (base: string, bits: number) => {
  const start = base.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  return fc.integer({ min: 0, max: 2 ** (32 - bits) - 1 }).map((offset) => start + offset);
};

/** Spellings of one IPv6 address (eight 16-bit groups). */
function ipv6Spellings(groups: number[]): fc.Arbitrary<string> {
  const expanded = groups.map((g) => g.toString(16).padStart(4, '0')).join(':');
  const compressed = new URL(`http://[${expanded}]/`).hostname.slice(1, -1); // the WHATWG serialiser: RFC 5952
  return fc.constantFrom(expanded, expanded.toUpperCase(), groups.map(hex16).join(':'), compressed, `[${compressed}]`, compressed.toUpperCase());
}
const ipv6 = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 });

const open = { allow: parseAllowList(''), stack: new Set<string>() };

describe('canonical addresses', () => {
  it('every spelling of an IPv4 address, and every IPv6 form that maps it, is that address', () => {
    fc.assert(
      fc.property(ipv4.chain((n) => fc.tuple(fc.constant(n), ipv4Spellings(n))), ([n, spelling]) => {
        expect(canonicalAddress(spelling)).toBe(dotted(n));
      }),
      { numRuns: 2_000 },
    );
  });

  it('a URL\'s host, in whatever spelling, comes to the same address', () => {
    fc.assert(
      fc.property(ipv4.chain((n) => fc.tuple(fc.constant(n), ipv4Spellings(n))), ([n, spelling]) => {
        const host = spelling.includes(':') && !spelling.startsWith('[') ? `[${spelling}]` : spelling;
        expect(canonicalAddress(new URL(`http://${host}:8080/`).hostname)).toBe(dotted(n));
      }),
      { numRuns: 1_000 },
    );
  });

  it('every spelling of an IPv6 address is one address', () => {
    fc.assert(
      fc.property(ipv6.chain((g) => fc.tuple(fc.constant(g), ipv6Spellings(g), ipv6Spellings(g))), ([, a, b]) => {
        expect(canonicalAddress(a)).toBe(canonicalAddress(b));
        expect(canonicalAddress(a)).toBeDefined();
      }),
      { numRuns: 1_000 },
    );
  });

  it('names and garbage are no address', () => {
    for (const text of ['localhost', 'gateway', '', '1.2.3.4.5', '256.1.1.1', '::g', 'http://1.2.3.4', '1.2.3.4:80']) expect(canonicalAddress(text)).toBeUndefined();
  });
});

describe('the decision follows the address, never its spelling', () => {
  const alwaysRefused: Array<[string, number, string]> = [
    ['127.0.0.0', 8, 'loopback'],
    ['0.0.0.0', 8, 'unspecified'],
    ['169.254.0.0', 16, 'linkLocal'],
    ['224.0.0.0', 4, 'multicast'],
    ['240.0.0.0', 4, 'reserved'],
  ];
  for (const [base, bits, range] of alwaysRefused) {
    it(`${base}/${bits} (${range}) is refused in every spelling, whatever is allowed`, () => {
      const allowAll = { allow: parseAllowList('0.0.0.0/0, ::/0'), stack: new Set<string>() };
      fc.assert(
        fc.property(inRange(base, bits).chain((n) => ipv4Spellings(n)), (spelling) => {
          expect(decide(spelling, allowAll).allowed).toBe(false);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('private ranges are refused unless allowed, by range or by the host name the URL gave', () => {
    const allowLan = { allow: parseAllowList('192.168.1.0/24, receiver.lan'), stack: new Set<string>() };
    fc.assert(
      fc.property(fc.oneof(inRange('10.0.0.0', 8), inRange('172.16.0.0', 12), inRange('192.168.0.0', 16), inRange('100.64.0.0', 10)).chain((n) => fc.tuple(fc.constant(n), ipv4Spellings(n))), ([n, spelling]) => {
        expect(decide(spelling, open)).toMatchObject({ allowed: false, reason: expect.stringContaining('ASYNC_CALLBACK_ALLOW') });
        const inLan = dotted(n).startsWith('192.168.1.');
        expect(decide(spelling, allowLan).allowed).toBe(inLan);
        expect(decide(spelling, { ...allowLan, host: 'receiver.lan' }).allowed).toBe(true);
        expect(decide(spelling, { ...allowLan, host: 'other.lan' }).allowed).toBe(inLan);
      }),
      { numRuns: 1_000 },
    );
  });

  it('an address of the stack is refused in every spelling, even inside an allowed range', () => {
    fc.assert(
      fc.property(ipv4.chain((n) => fc.tuple(fc.constant(n), ipv4Spellings(n))), ([n, spelling]) => {
        const context = { allow: parseAllowList('0.0.0.0/0'), stack: new Set([dotted(n)]) };
        expect(decide(spelling, context).allowed).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('IPv6: loopback, unspecified, link-local, multicast, and the forms that carry an IPv4 address are refused; ULA is private; global unicast passes', () => {
    const allowAll = { allow: parseAllowList('0.0.0.0/0, ::/0'), stack: new Set<string>() };
    for (const address of ['::1', '::', 'fe80::1', 'FE80::abcd:1%eth0', 'ff02::1', '::7f00:1', '::a9fe:a9fe', '64:ff9b::7f00:1', '2002:7f00:1::', '2001::1', '2001:db8::1', 'fec0::1']) {
      expect(decide(address, allowAll), address).toMatchObject({ allowed: false });
    }
    expect(classify('fd12:3456::1')).toEqual({ kind: 'private', range: 'uniqueLocal' });
    expect(decide('fd12:3456::1', open).allowed).toBe(false);
    expect(decide('fd12:3456::1', { ...open, allow: parseAllowList('fd00::/8') }).allowed).toBe(true);
    fc.assert(
      fc.property(ipv6.filter((g) => (g[0]! & 0xe000) === 0x2000 && g[0] !== 0x2001 && g[0] !== 0x2002 && !(g[0] === 0x3fff && (g[1]! & 0xf000) === 0)) /* 3fff::/20: documentation (RFC 9637), refused */.chain((g) => ipv6Spellings(g)), (spelling) => {
        expect(decide(spelling, open).allowed).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('public IPv4 passes', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '::ffff:8.8.4.4']) expect(decide(address, open).allowed, address).toBe(true);
  });
});

describe('ASYNC_CALLBACK_ALLOW', () => {
  it('takes ranges, addresses and host names, and names what it cannot read', () => {
    const list = parseAllowList(' 192.168.1.0/24 , receiver.LAN., 10.1.2.3, fd00::/8 ,,');
    expect(list.ranges).toHaveLength(3);
    expect([...list.hosts]).toEqual(['receiver.lan']);
    expect(() => parseAllowList('192.168.1.0/33')).toThrow(/"192.168.1.0\/33" is not an address range/);
    expect(() => parseAllowList('10.0.0.0/8, http://x')).toThrow(/"http:\/\/x"/);
    expect(() => parseAllowList('bad host!')).toThrow(/neither/);
  });
});

describe('the stack\'s addresses, as the worker knows them', () => {
  it('looks every service up on every network, with its own interfaces and its node; reads again in the background', async () => {
    const asked: string[] = [];
    let now = 0;
    const answers: Record<string, string[]> = {
      'tasks.gateway.s_functions': ['10.0.1.2'],
      'tasks.gateway.s_monitoring': ['10.0.3.2'],
      'tasks.gateway.s_ns-1': ['10.0.4.2'],
      'tasks.nats.s_nats': ['::ffff:10.0.5.9'],
    };
    const addresses = localStackAddresses({
      services: ['gateway', 'nats'],
      networks: ['s_functions', 's_monitoring', 's_nats', 's_ns-1'],
      resolve: async (name) => (asked.push(name), answers[name] ?? []),
      ownAddresses: () => ['127.0.0.1', '10.0.1.7', 'fe80::1'],
      nodeAddresses: async () => ['172.18.0.1'],
      now: () => now,
    });
    const set = await addresses();
    expect([...set].sort()).toEqual(['10.0.1.2', '10.0.1.7', '10.0.3.2', '10.0.4.2', '10.0.5.9', '127.0.0.1', '172.18.0.1', 'fe80::1']);
    expect(asked.sort()).toEqual(['gateway', 'nats'].flatMap((s) => ['s_functions', 's_monitoring', 's_nats', 's_ns-1'].map((n) => `tasks.${s}.${n}`)).sort());
    const count = asked.length;
    answers['tasks.gateway.s_functions'] = ['10.0.1.3']; // a new task
    await addresses();
    expect(asked.length).toBe(count); // fresh enough: not read again
    now += 6_000;
    // Stale: the last set answers at once, and a read starts behind it.
    expect(await addresses()).not.toContain('10.0.1.3');
    expect(asked.length).toBe(2 * count);
    await new Promise((r) => setTimeout(r, 0));
    expect(await addresses()).toContain('10.0.1.3');
    // Asked for a fresh set (an address about to be let through), a stale one is read again first.
    now += 6_000;
    answers['tasks.gateway.s_functions'] = ['10.0.1.5'];
    expect(await addresses({ fresh: true })).toContain('10.0.1.5');
    // Too old (reads failing meanwhile): the caller waits for a new read.
    now += 120_000;
    answers['tasks.gateway.s_functions'] = ['10.0.1.4'];
    expect(await addresses()).toContain('10.0.1.4');
  });

  it("does not wait for a name that had no record at its last lookup: it is asked again behind the read", async () => {
    // The node's resolver takes 300 ms to say a name does not exist (or times out): Docker hands it names Swarm does not know.
    const records: Record<string, string[]> = { 'tasks.gateway.s_functions': ['10.0.1.2'] };
    const asked: string[] = [];
    const answer = (host: string) => {
      asked.push(host);
      const found = records[host];
      if (found) return Promise.resolve(found);
      return new Promise<string[]>((_, reject) => setTimeout(() => reject(Object.assign(new Error(`queryA ENOTFOUND ${host}`), { code: 'ENOTFOUND' })), 300));
    };
    const resolve = swarmResolve({ resolve4: answer, resolve6: answer }, false);
    const timed = async (host: string) => {
      const started = performance.now();
      const addresses = await resolve(host);
      return { addresses, ms: performance.now() - started };
    };
    // The first lookup of a name is waited for, found or not.
    expect((await timed('tasks.gateway.s_functions')).addresses).toEqual(['10.0.1.2']);
    const first = await timed('tasks.nats.s_functions');
    expect(first).toMatchObject({ addresses: [] });
    expect(first.ms).toBeGreaterThanOrEqual(250);
    // Then it answers "none" at once, and is asked again behind that answer.
    records['tasks.nats.s_functions'] = ['10.0.1.9']; // its task has started
    const second = await timed('tasks.nats.s_functions');
    expect(second).toMatchObject({ addresses: [] });
    expect(second.ms).toBeLessThan(100);
    expect(asked.filter((h) => h === 'tasks.nats.s_functions')).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 0));
    // The lookup behind found it: the next read has it, and waits for it again from now on.
    expect((await timed('tasks.nats.s_functions')).addresses).toEqual(['10.0.1.9']);
    // A name that was found is asked, and waited for, at every read.
    expect(asked.filter((h) => h === 'tasks.nats.s_functions')).toHaveLength(3);
  });

  it('reads the node from the default routes, and joins several sources', async () => {
    const table = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n' + 'eth11\t00000000\t010012AC\t0003\t0\t0\t0\t00000000\n' + 'eth11\t000012AC\t00000000\t0001\t0\t0\t0\t0000FFFF\n';
    expect(defaultGateways(table)).toEqual(['172.18.0.1']);
    const both = unionOf(fixedAddresses(['10.0.0.1']), fixedAddresses(['::FFFF:10.0.0.2', 'not an address']));
    expect([...(await both())].sort()).toEqual(['10.0.0.1', '10.0.0.2']);
  });
});
