// Callbacks go where the caller says, except to this host, the stack and its
// nodes, link-local and reserved addresses, and private ranges unless
// ASYNC_CALLBACK_ALLOW names them: decided on the address actually connected
// to, whatever name or spelling the URL gives it; redirects are not followed.
// Real sockets: receivers on this machine's loopback and on one of its
// private addresses.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllowList } from '../../src/programs/queue-worker/address-policy.js';
import { CallbackGuard, CallbackRefused, guardedLookup, type ConnectGuard } from '../../src/programs/queue-worker/callback-guard.js';
import { CallbackSender } from '../../src/programs/queue-worker/callback.js';
import { fixedAddresses } from '../../src/programs/queue-worker/stack-addresses.js';

/** A private address of this machine (docker0's, on the machines the tests run on): where an allowed receiver listens. */
const privateAddress = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && !i.internal && i.family === 'IPv4' && /^(10\.|172\.(1[6-9]|2\d|3[01])\.|192\.168\.)/.test(i.address))?.address;

interface Receiver {
  server: Server;
  port: number;
  hits: number;
}

async function listen(host: string, answer: (res: import('node:http').ServerResponse) => void = (res) => res.end()): Promise<Receiver> {
  const receiver = { hits: 0, port: 0 } as Receiver;
  receiver.server = createServer((req, res) => {
    receiver.hits++;
    req.resume();
    answer(res);
  });
  await new Promise<void>((r) => receiver.server.listen(0, host, r));
  receiver.port = (receiver.server.address() as AddressInfo).port;
  return receiver;
}

let loopback: Receiver;
let lan: Receiver;
let redirecting: Receiver;
beforeAll(async () => {
  if (!privateAddress) throw new Error('this machine has no private IPv4 address (e.g. docker0) to run an allowed receiver on');
  loopback = await listen('127.0.0.1');
  lan = await listen(privateAddress);
  redirecting = await listen(privateAddress, (res) => {
    res.writeHead(302, { location: `http://127.0.0.1:${loopback.port}/stolen` });
    res.end();
  });
});
afterAll(async () => {
  for (const r of [loopback, lan, redirecting]) await new Promise<void>((done) => r.server.close(() => done()));
});

const answer = { callId: 'c', functionName: 'fn', status: 200, headers: {}, body: Buffer.from('x'), durationSeconds: 0.1 };
const settings = { ASYNC_CALLBACK_TIMEOUT: 2, ASYNC_CALLBACK_ATTEMPTS: 3 };
const noWait = async () => undefined;
const guardWith = (allow: string, stack: string[] = [], services: string[] = [], networks: string[] = []) =>
  new CallbackGuard(parseAllowList(allow), fixedAddresses(stack), services, networks);

describe('the callback guard', () => {
  it('refuses this host in every spelling, link-local and private addresses, at once and with no request made', async () => {
    const sender = new CallbackSender(settings, guardWith(''), noWait);
    const p = loopback.port;
    const urls = [
      `http://localhost:${p}/cb`,
      `http://127.0.0.1:${p}/cb`,
      `http://127.1:${p}/cb`,
      `http://2130706433:${p}/cb`,
      `http://0x7f.0.0.1:${p}/cb`,
      `http://0177.0.0.1:${p}/cb`,
      `http://0.0.0.0:${p}/cb`,
      `http://[::]:${p}/cb`,
      `http://[::1]:${p}/cb`,
      `http://[::ffff:7f00:1]:${p}/cb`,
      `http://[::ffff:127.0.0.1]:${p}/cb`,
      `http://[0:0:0:0:0:FFFF:7F00:0001]:${p}/cb`,
      'http://169.254.169.254/latest/meta-data/',
      'http://[fe80::1]/',
      `http://${privateAddress}:${lan.port}/cb`,
      'http://10.1.2.3:8080/',
      'http://[fd00::1]/',
    ];
    const started = Date.now();
    const outcomes: string[] = [];
    for (const url of urls) outcomes.push(await sender.send(url, answer).then((s) => `delivered ${s}`, (e: Error) => (e instanceof CallbackRefused ? 'refused' : e.message)));
    expect(outcomes).toEqual(urls.map(() => 'refused'));
    expect(loopback.hits + lan.hits).toBe(0);
    // Not tried again: a refusal is final.
    expect(Date.now() - started).toBeLessThan(2_000);
    await sender.close();
  });

  it('delivers to a private address that ASYNC_CALLBACK_ALLOW names (range, address or host name), never to the stack\'s', async () => {
    const url = `http://${privateAddress}:${lan.port}/cb`;
    lan.hits = 0;
    for (const allow of [`${privateAddress}/32`, privateAddress!, '10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16']) {
      const sender = new CallbackSender(settings, guardWith(allow), noWait);
      expect(await sender.send(url, answer)).toBe(200);
      await sender.close();
    }
    expect(lan.hits).toBe(3);
    // An address of the stack (any spelling of it) stays refused whatever is allowed.
    const stack = new CallbackSender(settings, guardWith('0.0.0.0/0', [`::ffff:${privateAddress}`]), noWait);
    await expect(stack.send(url, answer)).rejects.toThrow(/an address of the stack/);
    await stack.close();
    expect(lan.hits).toBe(3);
  });

  it('does not follow a redirect (here to the loopback)', async () => {
    const sender = new CallbackSender(settings, guardWith(privateAddress!), noWait);
    loopback.hits = 0;
    expect(await sender.send(`http://${privateAddress}:${redirecting.port}/cb`, answer)).toBe(302);
    expect(loopback.hits).toBe(0);
    await sender.close();
  });

  it('refuses the stack\'s services by name, plain or per network, before any lookup', async () => {
    const guard = guardWith('0.0.0.0/0', [], ['gateway', 'nats'], ['func_nats']);
    for (const host of ['gateway', 'tasks.gateway', 'GATEWAY.', 'nats.func_nats', 'tasks.nats.func_nats']) {
      await expect(guard.check('8.8.8.8', host)).rejects.toThrow(/a service of the stack/);
    }
    await expect(guard.check('8.8.8.8', 'gateway.example.com')).resolves.toBeUndefined();
  });

  it('checks an address it would let through against a fresh set of the stack\'s (a task replaced since the last read)', async () => {
    // The served set is from before the gateway's task was replaced; a fresh read knows its new address.
    const stack = async (options?: { fresh?: boolean }) => new Set(options?.fresh ? ['10.0.9.16'] : ['10.0.9.15']);
    const guard = new CallbackGuard(parseAllowList('10.0.0.0/8'), stack, [], []);
    await expect(guard.check('10.0.9.16', '10.0.9.16')).rejects.toBeInstanceOf(CallbackRefused);
    await expect(guard.check('10.0.9.17', '10.0.9.17')).resolves.toBeUndefined();
  });

  it('checks every address a name resolves to and answers only the allowed ones', async () => {
    const seen: string[] = [];
    const publicOnly: ConnectGuard = {
      check: async (address) => {
        seen.push(address);
        if (!address.startsWith('8.')) throw new CallbackRefused(`no ${address}`);
      },
    };
    // A name that resolves to the metadata service, a public address and the loopback (DNS rebinding, or a hostile zone).
    const addresses = [
      { address: '169.254.169.254', family: 4 },
      { address: '8.8.8.8', family: 4 },
      { address: '::1', family: 6 },
    ];
    const lookup = guardedLookup(publicOnly, async () => addresses);
    const all = await new Promise<unknown>((resolve, reject) => lookup('mixed.example', { all: true }, (e, a) => (e ? reject(e) : resolve(a))));
    expect(all).toEqual([{ address: '8.8.8.8', family: 4 }]);
    expect(seen).toEqual(['169.254.169.254', '8.8.8.8', '::1']);
    const one = await new Promise<unknown[]>((resolve) => lookup('mixed.example', {}, (...args) => resolve(args)));
    expect(one).toEqual([null, '8.8.8.8', 4]);
    // Nothing allowed: the refusal, not an empty answer. (The real resolver: localhost.)
    const refused = await new Promise<Error | null>((resolve) => guardedLookup(guardWith('0.0.0.0/0'))('localhost', {}, (e) => resolve(e)));
    expect(refused).toBeInstanceOf(CallbackRefused);
  });

  it('checks the address the socket reached, besides the one it was given', async () => {
    const seen: string[] = [];
    const sender = new CallbackSender(settings, { check: async (address) => void seen.push(address) }, noWait);
    expect(await sender.send(`http://127.0.0.1:${loopback.port}/cb`, answer)).toBe(200);
    await sender.close();
    // Once for the URL's address, once for the connected socket's.
    expect(seen).toEqual(['127.0.0.1', '127.0.0.1']);
  });

  it('reads its settings: allow list, services and networks', async () => {
    const guard = CallbackGuard.fromSettings({ ASYNC_CALLBACK_ALLOW: '192.168.1.0/24, receiver.lan', ASYNC_CALLBACK_DENY_HOSTS: 'gateway', ASYNC_CALLBACK_DENY_NETWORKS: 'func_functions' });
    await expect(guard.check('192.168.1.7', '192.168.1.7')).resolves.toBeUndefined();
    await expect(guard.check('192.168.2.7', '192.168.2.7')).rejects.toThrow(/ASYNC_CALLBACK_ALLOW/);
    await expect(guard.check('10.9.9.9', 'receiver.lan')).resolves.toBeUndefined();
    await expect(guard.check('8.8.8.8', 'gateway.func_functions')).rejects.toThrow(/a service of the stack/);
    // This container's own addresses are the stack's.
    if (privateAddress) await expect(guard.check(privateAddress, 'receiver.lan')).rejects.toThrow(/an address of the stack/);
  });
});
