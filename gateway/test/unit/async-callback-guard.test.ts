// Callbacks go where the caller says, except to the stack's own services
// (ASYNC_CALLBACK_DENY_HOSTS), whatever name or address the URL gives them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallbackGuard, CallbackRefused } from '../../src/programs/queue-worker/callback-guard.js';
import { CallbackSender } from '../../src/programs/queue-worker/callback.js';

let server: Server;
let port = 0;
let hits = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    hits++;
    req.resume();
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const answer = { callId: 'c', functionName: 'fn', status: 200, headers: {}, body: Buffer.from('x'), durationSeconds: 0.1 };
const settings = { ASYNC_CALLBACK_TIMEOUT: 2, ASYNC_CALLBACK_ATTEMPTS: 3 };
const noWait = async () => undefined;

describe('the callback guard', () => {
  it('refuses a denied host by its name, by another name for it, and by its bare address, without retrying', async () => {
    // "receiver.test" stands for a service of the stack: it resolves to the loopback address.
    const guard = new CallbackGuard(['receiver.test', 'localhost']);
    const sender = new CallbackSender(settings, noWait, guard);
    hits = 0;
    for (const url of [`http://localhost:${port}/cb`, `http://127.0.0.1:${port}/cb`]) {
      await expect(sender.send(url, answer)).rejects.toBeInstanceOf(CallbackRefused);
    }
    expect(hits).toBe(0);
    await sender.close();
  });

  it('lets everything else through', async () => {
    const sender = new CallbackSender(settings, noWait, new CallbackGuard(['only-this-one.invalid']));
    hits = 0;
    expect(await sender.send(`http://127.0.0.1:${port}/cb`, answer)).toBe(200);
    expect(await sender.send(`http://localhost:${port}/cb`, answer)).toBe(200);
    expect(hits).toBe(2);
    await sender.close();
    const open = new CallbackSender(settings, noWait);
    expect(await open.send(`http://127.0.0.1:${port}/cb`, answer)).toBe(200);
    await open.close();
  });

  it('looks the denied hosts up again after a while (their tasks change)', async () => {
    let now = 0;
    let address = '10.0.0.5';
    const guard = new CallbackGuard(['alertmanager'], async () => [address], () => now);
    await expect(guard.check('10.0.0.5')).rejects.toThrow(/ASYNC_CALLBACK_DENY_HOSTS/);
    address = '10.0.0.9'; // the task was replaced
    await expect(guard.check('10.0.0.9')).resolves.toBeUndefined(); // still the old answer
    now += 6_000;
    await expect(guard.check('10.0.0.9')).rejects.toBeInstanceOf(CallbackRefused);
    await expect(guard.check('::ffff:10.0.0.9')).rejects.toBeInstanceOf(CallbackRefused);
    await expect(guard.check('10.0.0.5')).resolves.toBeUndefined();
  });

  it('reads its hosts from the setting', () => {
    expect(CallbackGuard.fromSetting('').enabled).toBe(false);
    expect(CallbackGuard.fromSetting(' Gateway , nats,,').enabled).toBe(true);
  });
});
