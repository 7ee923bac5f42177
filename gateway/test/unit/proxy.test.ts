// The invocation path, in-process: the gateway app with a fake provider in
// front of plain HTTP servers standing in for function tasks.
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { connect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WakeTimeoutError, type Scaler } from '../../src/programs/gateway/scaling/index.js';
import { status } from './support/fake-provider.js';
import { startGateway, startUpstream, type TestGateway } from './support/test-gateway.js';
import { postWithContinue } from '../../../packages/http-relay/test/support/expect-continue.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function gatewayWith(addresses: string[], env: Record<string, string> = {}, scaler?: Scaler): Promise<TestGateway> {
  const gw = await startGateway({ env, ...(scaler ? { scaler } : {}) });
  cleanups.push(() => gw.close());
  gw.provider.functions.set('fn', status('fn'));
  gw.provider.addresses.set('fn', addresses);
  return gw;
}

async function upstream(handler: Parameters<typeof startUpstream>[0]) {
  const u = await startUpstream(handler);
  cleanups.push(() => u.close());
  return u;
}

/** A scaler that does nothing, for tests to override one method of. */
const noScaling: Scaler = {
  async handleAlerts() {
    return [];
  },
  async scale() {
    throw new Error('not used');
  },
  async ensureAvailable() {
    return undefined;
  },
  recordInvocation() {},
  start() {},
  stop() {},
};

/** A scaler whose wake-up answers the address `wake` gives, counting its wake-ups. */
function wakingScaler(wake: () => string): { scaler: Scaler; wakes: () => number } {
  let wakes = 0;
  const scaler: Scaler = {
    ...noScaling,
    async ensureAvailable() {
      wakes++;
      return wake();
    },
  };
  return { scaler, wakes: () => wakes };
}

/** An upstream's handler that keeps every request's body in `bodies` and answers "served". */
function keepingBodies(bodies: string[]): Parameters<typeof upstream>[0] {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString());
      res.end('served');
    });
  };
}

/** POSTs "x" to /function/fn; answers the body. */
async function invokeFn(gw: TestGateway): Promise<string> {
  return (await fetch(`${gw.url}/function/fn`, { method: 'POST', body: 'x' })).text();
}

/**
 * An address on 127.0.0.1 that never answers a new connection, like the
 * address of a task that is gone: a socket that listens but never accepts,
 * its one-place queue already full, so further SYNs are dropped.
 */
async function blackHole(): Promise<string> {
  const child = spawn('python3', ['-c', 'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(120)'], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(async () => void child.kill('SIGKILL'));
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  // Fill the accept queue (these connections complete in the kernel; nobody accepts them).
  for (let i = 0; i < 3; i++) {
    const filler = connect(port, '127.0.0.1');
    filler.on('error', () => {});
    cleanups.push(async () => void filler.destroy());
  }
  await new Promise((r) => setTimeout(r, 100));
  return `127.0.0.1:${port}`;
}

/** A port on 127.0.0.1 where nothing listens (connection refused). */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return `127.0.0.1:${port}`;
}

describe('invocation', () => {
  it('forwards method, path suffix, query, headers and body, and passes back status, headers and body', async () => {
    let seen: { method?: string; url?: string; headers?: Record<string, unknown>; body?: string } = {};
    const task = await upstream((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        seen = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() };
        res.writeHead(201, { 'x-answer': 'yes', 'content-type': 'text/plain', 'keep-alive': 'timeout=99', connection: 'keep-alive' });
        res.end('made');
      });
    });
    const gw = await gatewayWith([task.address]);
    // node:http, because fetch does not let a caller set Connection.
    const res = await new Promise<{ status: number; headers: Record<string, unknown>; text: string }>((resolve, reject) => {
      const req = httpRequest(
        `${gw.url}/function/fn/orders/42?expand=true&x=%20y`,
        {
          method: 'PATCH',
          headers: { 'x-custom': 'kept', 'content-type': 'application/json', connection: 'keep-alive, x-hop', 'x-hop': 'dropped', 'x-forwarded-for': '203.0.113.7' },
        },
        (answer) => {
          let text = '';
          answer.on('data', (c) => (text += c));
          answer.on('end', () => resolve({ status: answer.statusCode!, headers: answer.headers, text }));
        },
      );
      req.on('error', reject);
      req.end('{"a":1}');
    });
    expect(res.status).toBe(201);
    expect(res.headers['x-answer']).toBe('yes');
    expect(res.headers['keep-alive']).not.toBe('timeout=99'); // the task's, not forwarded
    expect(res.text).toBe('made');
    expect(seen.method).toBe('PATCH');
    expect(seen.url).toBe('/orders/42?expand=true&x=%20y');
    expect(seen.body).toBe('{"a":1}');
    expect(seen.headers).toMatchObject({ 'x-custom': 'kept', 'content-type': 'application/json', 'x-forwarded-host': gw.url.replace('http://', '') });
    expect(seen.headers!['x-hop']).toBeUndefined();
    expect(seen.headers!['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
  });

  it('forwards /function/<name> as "/" and any method, including GET and DELETE without a body', async () => {
    const urls: string[] = [];
    const task = await upstream((req, res) => {
      urls.push(`${req.method} ${req.url}`);
      res.end('ok');
    });
    const gw = await gatewayWith([task.address]);
    for (const method of ['GET', 'DELETE', 'PUT', 'OPTIONS']) expect((await fetch(`${gw.url}/function/fn`, { method })).status).toBe(200);
    expect((await fetch(`${gw.url}/function/fn/`)).status).toBe(200);
    expect(urls).toEqual(['GET /', 'DELETE /', 'PUT /', 'OPTIONS /', 'GET /']);
  });

  it('forwards a body sent with Expect: 100-continue (curl does so above 1 KB)', async () => {
    const task = await upstream((req, res) => req.pipe(res));
    const gw = await gatewayWith([task.address]);
    const payload = 'x'.repeat(4096);
    const answer = await postWithContinue(gw.url, '/function/fn', payload);
    expect(answer).toEqual({ status: 200, body: payload });
  });

  it('answers 404 for an unknown function without calling any task', async () => {
    const gw = await gatewayWith([]);
    const res = await fetch(`${gw.url}/function/nope`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/nope/);
  });

  it('invokes only /function/<name>[/...]: /function/, /function and /functions/x are not invocations', async () => {
    let calls = 0;
    const task = await upstream((_req, res) => {
      calls++;
      res.end('ok');
    });
    const gw = await gatewayWith([task.address]);
    for (const path of ['/function/', '/function', '/functions/fn', '/Function/fn']) {
      expect((await fetch(`${gw.url}${path}`, { method: 'POST', body: 'x' })).status, path).toBe(404);
    }
    expect(calls).toBe(0);
    expect(await invokeFn(gw)).toBe('ok');
  });

  it('round-robins over the tasks, keeping connections alive', async () => {
    const hits: string[] = [];
    const ports = new Set<number>();
    const tasks = await Promise.all(
      ['a', 'b', 'c'].map((id) =>
        upstream((req, res) => {
          hits.push(id);
          ports.add(req.socket.remotePort!);
          res.end(id);
        }),
      ),
    );
    const gw = await gatewayWith(tasks.map((t) => t.address));
    for (let i = 0; i < 9; i++) await invokeFn(gw);
    expect(hits.filter((h) => h === 'a').length).toBe(3);
    expect(hits.filter((h) => h === 'b').length).toBe(3);
    expect(hits.filter((h) => h === 'c').length).toBe(3);
    expect(ports.size).toBe(3); // one kept-alive connection per task
  });

  it('retries once on another task when a connection is refused, with the body intact', async () => {
    const bodies: string[] = [];
    const good = await upstream(keepingBodies(bodies));
    const dead = await closedPort();
    const gw = await gatewayWith([dead, good.address]);
    const answers = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${gw.url}/function/fn`, { method: 'POST', body: `payload ${i}` });
      answers.push(`${res.status} ${await res.text()}`);
    }
    expect(answers).toEqual(['200 served', '200 served', '200 served', '200 served']);
    expect(bodies).toEqual(['payload 0', 'payload 1', 'payload 2', 'payload 3']);
  });

  it('holds a call while its only task refuses (crashed, being replaced), and answers once a new task is listed', async () => {
    const replacement = await upstream((_req, res) => res.end('from the new task'));
    const gw = await gatewayWith([await closedPort()]);
    const started = Date.now();
    setTimeout(() => gw.provider.addresses.set('fn', [replacement.address]), 300);
    const res = await fetch(`${gw.url}/function/fn`, { method: 'POST', body: 'x' });
    expect(`${res.status} ${await res.text()}`).toBe('200 from the new task');
    // Answered within a poll of the new task being listed.
    expect(Date.now() - started).toBeLessThan(300 + 250);
  });

  it('answers 504 naming WAKE_TIMEOUT when every task keeps refusing', async () => {
    const gw = await gatewayWith([await closedPort()], { WAKE_TIMEOUT: '400ms' });
    const started = Date.now();
    const res = await fetch(`${gw.url}/function/fn`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(504);
    expect(await res.text()).toMatch(/fn has no ready (instance|replica) after waiting 0.4 s \(WAKE_TIMEOUT\)/);
    expect(Date.now() - started).toBeLessThan(400 + 300);
  });

  it('spends at most UPSTREAM_CONNECT_TIMEOUT (+ a little) on an address that never answers, then leaves it out', async () => {
    const good = await upstream((_req, res) => res.end('served'));
    const hole = await blackHole();
    const gw = await gatewayWith([hole, good.address], { UPSTREAM_CONNECT_TIMEOUT: '200ms' });
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const started = performance.now();
      const res = await fetch(`${gw.url}/function/fn`, { method: 'POST', body: `call ${i}` });
      expect(`${res.status} ${await res.text()}`).toBe('200 served');
      times.push(performance.now() - started);
    }
    // The first call meets the black hole once (200 ms + the retry; the bound leaves room for a loaded machine, undici's own
    // connect timeout would take a second); the rest never go there again (quarantined): a call that did would take
    // the 200 ms connect timeout at least, far more than a local call, even on a loaded machine.
    expect(Math.max(...times)).toBeLessThan(600);
    expect(times.slice(1).every((t) => t < 200), times.map((t) => t.toFixed(0)).join(' ')).toBe(true);
  });

  it('retries elsewhere a call waiting on an instance that stopped accepting connections (its node died), within a second', async () => {
    const bodies: string[] = [];
    const dying = await upstream((req) => {
      // Takes the call and never answers, and from now on accepts no connection.
      req.resume();
      dying.server.close();
    });
    const good = await upstream(keepingBodies(bodies));
    const gw = await gatewayWith([dying.address, good.address]);
    const started = performance.now();
    const res = await fetch(`${gw.url}/function/fn`, { method: 'POST', body: 'only once' });
    expect(`${res.status} ${await res.text()}`).toBe('200 served');
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(bodies).toEqual(['only once']);
    // Left out from then on.
    for (let i = 0; i < 4; i++) expect(await invokeFn(gw)).toBe('served');
  });

  it('leaves a slow but live instance alone: its call is answered once, where it was sent', async () => {
    let calls = 0;
    const slow = await upstream((_req, res) => {
      calls++;
      setTimeout(() => res.end('slow answer'), 700);
    });
    const gw = await gatewayWith([slow.address]);
    const res = await fetch(`${gw.url}/function/fn`, { method: 'POST', body: 'x' });
    expect(`${res.status} ${await res.text()}`).toBe('200 slow answer');
    expect(calls).toBe(1);
  });

  it('answers 504 when the function does not answer within UPSTREAM_TIMEOUT', async () => {
    const task = await upstream(() => {
      /* never answers */
    });
    const gw = await gatewayWith([task.address], { UPSTREAM_TIMEOUT: '300ms' });
    const started = Date.now();
    const res = await fetch(`${gw.url}/function/fn`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await res.text()).toMatch(/did not answer within 0.3 s/);
  });

  it('answers 504 with a message when the function has no healthy task within WAKE_TIMEOUT', async () => {
    const gw = await gatewayWith([], { WAKE_TIMEOUT: '300ms' });
    const res = await fetch(`${gw.url}/function/fn`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(504);
    expect(await res.text()).toMatch(/fn has no ready (instance|replica) after waiting 0.3 s \(WAKE_TIMEOUT\)/);
  });

  it('asks the scaler to wake a function without tasks, then serves it', async () => {
    const task = await upstream((_req, res) => res.end('awake'));
    const calls: string[] = [];
    let gw: TestGateway;
    const scaler: Scaler = {
      ...noScaling,
      async ensureAvailable(fn) {
        calls.push(`wake ${fn.name}`);
        gw.provider.addresses.set(fn.name, [task.address]);
        return undefined;
      },
      recordInvocation(fn) {
        calls.push(`record ${fn.name}`);
      },
    };
    gw = await gatewayWith([], {}, scaler);
    const res = await fetch(`${gw.url}/function/fn`, { method: 'POST', body: 'x' });
    expect(await res.text()).toBe('awake');
    expect(calls).toEqual(['record fn', 'wake fn']);
  });

  it('sends a held request to the task the wake-up found ready, and later requests only to listed tasks', async () => {
    const starting = await upstream((_req, res) => res.end('from the probed task'));
    const listed = await upstream((_req, res) => res.end('from a listed task'));
    let gw: TestGateway;
    const waking = wakingScaler(() => {
      // The orchestrator lists the other task afterwards; the probed one is not in its list.
      gw.provider.addresses.set('fn', [listed.address]);
      return starting.address;
    });
    gw = await gatewayWith([], {}, waking.scaler);
    expect(await invokeFn(gw)).toBe('from the probed task');
    for (let i = 0; i < 3; i++) expect(await invokeFn(gw)).toBe('from a listed task');
    expect(waking.wakes()).toBe(1);
  });

  it('keeps sending to the probed task while it is still starting, without holding each call again', async () => {
    const starting = await upstream((_req, res) => res.end('from the probed task'));
    const waking = wakingScaler(() => starting.address);
    const gw = await gatewayWith([], {}, waking.scaler);
    gw.provider.starting.set('fn', [starting.address]);
    for (let i = 0; i < 4; i++) expect(await invokeFn(gw)).toBe('from the probed task');
    expect(waking.wakes()).toBe(1);
  });

  it('answers 504 with the reason when waking times out', async () => {
    const scaler: Scaler = {
      ...noScaling,
      async ensureAvailable() {
        throw new WakeTimeoutError('no replica became ready within 30 s');
      },
    };
    const gw = await gatewayWith([], {}, scaler);
    const res = await fetch(`${gw.url}/function/fn`);
    expect(res.status).toBe(504);
    expect(await res.text()).toMatch(/within 30 s/);
  });

  it('streams the request body to the task before the client has finished sending it', async () => {
    let firstChunkAt = 0;
    const task = await upstream((req, res) => {
      req.once('data', () => (firstChunkAt = Date.now()));
      req.resume();
      req.on('end', () => res.end('done'));
    });
    const gw = await gatewayWith([task.address]);
    const { port } = new URL(gw.url);
    let lastChunkAt = 0;
    const answer = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/function/fn', method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.write('first ');
      setTimeout(() => {
        lastChunkAt = Date.now();
        req.end('last');
      }, 400);
    });
    expect(answer).toBe('done');
    expect(firstChunkAt).toBeGreaterThan(0);
    expect(firstChunkAt).toBeLessThan(lastChunkAt);
  });

  it('streams the answer to the client before the task has finished it', async () => {
    const task = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part one;');
      setTimeout(() => res.end('part two'), 400);
    });
    const gw = await gatewayWith([task.address]);
    const started = Date.now();
    const res = await fetch(`${gw.url}/function/fn`);
    const reader = res.body!.getReader();
    const first = await reader.read();
    const firstAfter = Date.now() - started;
    expect(Buffer.from(first.value!).toString()).toBe('part one;');
    expect(firstAfter).toBeLessThan(350);
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += Buffer.from(r.value).toString();
    expect(rest).toBe('part two');
  });

  it('aborts the call to the task when the client goes away, and counts it as 499', async () => {
    let taskSawClose: () => void;
    const closed = new Promise<void>((r) => (taskSawClose = r));
    const task = await upstream((_req, res) => {
      res.on('close', () => taskSawClose());
    });
    const gw = await gatewayWith([task.address]);
    const controller = new AbortController();
    const pending = fetch(`${gw.url}/function/fn`, { signal: controller.signal }).catch(() => 'aborted');
    await new Promise((r) => setTimeout(r, 200));
    controller.abort();
    expect(await pending).toBe('aborted');
    await closed; // the gateway dropped its request to the task
    await new Promise((r) => setTimeout(r, 50));
    expect(await (await fetch(`${gw.url}/metrics`)).text()).toMatch(/gateway_function_invocation_total\{function_name="fn",code="499",source="sync"\} 1/);
  });

  it('refuses a body over FUNCTION_BODY_LIMIT with 413, declared or streamed', async () => {
    const task = await upstream((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    const gw = await gatewayWith([task.address], { FUNCTION_BODY_LIMIT: '1kb' });
    expect((await fetch(`${gw.url}/function/fn`, { method: 'POST', body: 'x'.repeat(2048) })).status).toBe(413);
    const streamed = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('y'.repeat(800)));
        setTimeout(() => {
          controller.enqueue(new TextEncoder().encode('y'.repeat(800)));
          controller.close();
        }, 50);
      },
    });
    const res = await fetch(`${gw.url}/function/fn`, { method: 'POST', body: streamed, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect((await fetch(`${gw.url}/function/fn`, { method: 'POST', body: 'x'.repeat(1000) })).status).toBe(200);
  });

  it('counts invocations by function and status code in /metrics and in invocationCount', async () => {
    const task = await upstream((req, res) => {
      res.statusCode = req.url === '/fail' ? 500 : 200;
      res.end();
    });
    const gw = await gatewayWith([task.address]);
    await fetch(`${gw.url}/function/fn`);
    await fetch(`${gw.url}/function/fn`);
    await fetch(`${gw.url}/function/fn/fail`);
    await fetch(`${gw.url}/function/unknown`);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/gateway_function_invocation_total\{function_name="fn",code="200",source="sync"\} 2/);
    expect(metrics).toMatch(/gateway_function_invocation_total\{function_name="fn",code="500",source="sync"\} 1/);
    expect(metrics).toMatch(/gateway_functions_seconds_count\{function_name="fn"\} 3/);
    expect(metrics).toMatch(/gateway_service_count\{function_name="fn"\} 1/);
    expect(metrics).not.toMatch(/unknown/);
    const list = (await (await fetch(`${gw.url}/system/functions`)).json()) as Array<{ name: string; invocationCount: number }>;
    expect(list.find((f) => f.name === 'fn')?.invocationCount).toBe(3);
  });
});
