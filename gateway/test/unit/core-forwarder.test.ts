// One attempt against one instance (core/upstream/forward.ts), with real HTTP
// servers of the test's own: the answer streamed into the sink, and each way
// an attempt fails said in the words the invocation core acts on
// (unreachable: try another instance; broken: once more elsewhere; timeout),
// a slow call reported, a gone instance's pool closed at once.
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { CollectingSink } from '../../src/core/invocation/sink.js';
import { AttemptError, Forwarder, type UpstreamRequest } from '../../src/core/upstream/forward.js';

const closing: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closing.length) await closing.pop()!();
});

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closing.push(() => new Promise((r) => server.close(r)));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const request = (overrides: Partial<UpstreamRequest> = {}): UpstreamRequest => {
  const signal = Object.assign(new EventEmitter(), { aborted: false });
  return { method: 'POST', path: '/p?q=1', headers: { 'x-test': 'yes' }, body: { started: false, tooLarge: false, forUndici: () => Buffer.from('in') }, signal, ...overrides };
};

function forwarder(options: Partial<ConstructorParameters<typeof Forwarder>[0]> = {}): Forwarder {
  const f = new Forwarder({ timeoutMs: 2_000, connectTimeoutMs: 100, ...options });
  closing.push(() => f.close());
  return f;
}

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e as AttemptError);

describe('the forwarder', () => {
  it("streams the instance's answer into the sink: status, headers, body, with the request as sent", async () => {
    const address = await listen(
      createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => res.writeHead(201, { 'x-echo': `${req.method} ${req.url} ${req.headers['x-test']}` }).end(`got ${Buffer.concat(chunks).toString()}`));
      }),
    );
    const sink = new CollectingSink(1024);
    expect(await forwarder().attempt(address, request(), sink)).toBe(201);
    expect(sink.headers['x-echo']).toBe('POST /p?q=1 yes');
    expect(sink.body.toString()).toBe('got in');
  });

  it('says unreachable for a refused connection (another instance may take the call)', async () => {
    const refusing = createTcpServer();
    const closed = await listen(refusing);
    await new Promise((r) => refusing.close(r));
    const err = await failure(forwarder().attempt(closed, request(), new CollectingSink(10)));
    expect(err?.kind).toBe('unreachable');
    expect(err?.answerStarted).toBe(false);
  });

  it('says broken for a connection closed before the answer, and timeout for an answer that does not come', async () => {
    const address = await listen(createServer((req) => req.socket.destroy()));
    expect((await failure(forwarder().attempt(address, request(), new CollectingSink(10))))?.kind).toBe('broken');
    const silent = await listen(createServer(() => undefined));
    const slow: string[] = [];
    const err = await failure(forwarder({ timeoutMs: 300, slowAfterMs: 100, onSlow: (a) => slow.push(a) }).attempt(silent, request(), new CollectingSink(10)));
    expect(err?.kind).toBe('timeout');
    expect(slow).toEqual([silent]);
  });

  it('closes a gone instance’s pool at once: a call waiting on it fails now, not at its timeout', async () => {
    const address = await listen(createServer(() => undefined));
    const f = forwarder({ timeoutMs: 30_000 });
    const waiting = failure(f.attempt(address, request(), new CollectingSink(10)));
    await new Promise((r) => setTimeout(r, 100));
    const started = performance.now();
    f.retain(new Set());
    const err = await waiting;
    expect(err?.kind).toBe('broken');
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
