/** The watchdog in HTTP mode, in front of a real long-running process. */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, processTable, startWatchdog, waitFor, type Running } from '../helpers.js';
import { postWithContinue } from '../../../../packages/http-relay/test/support/expect-continue.js';

const ECHO_SERVER = fileURLToPath(new URL('../fixtures/echo-server.mjs', import.meta.url));

let running: Running | undefined;
afterEach(async () => {
  await running?.dispose();
  running = undefined;
});

async function start(env: Record<string, string> = {}): Promise<Running> {
  const port = await freePort();
  process.env.PORT = String(port); // the function process inherits the watchdog's environment
  running = await startWatchdog({
    mode: 'http',
    fprocess: `node ${ECHO_SERVER}`,
    upstream_url: `http://127.0.0.1:${port}`,
    ...env,
  });
  return running;
}

describe('HTTP mode', () => {
  it('is ready (lock file) only once the function process listens, and proxies method, path, headers and body', async () => {
    const wd = await start();
    expect(existsSync(wd.lockFile)).toBe(true);
    const payload = randomBytes(2_000_000);
    const res = await fetch(`${wd.url}/some/path?q=1`, { method: 'PUT', body: payload, headers: { 'content-type': 'x/y' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-seen-method')).toBe('PUT');
    expect(res.headers.get('x-seen-url')).toBe('/some/path?q=1');
    expect(res.headers.get('content-type')).toBe('x/y');
    expect(Number(res.headers.get('x-duration-seconds'))).toBeGreaterThan(0);
    expect(Buffer.from(await res.arrayBuffer()).equals(payload)).toBe(true);
    const get = await fetch(`${wd.url}/g`);
    expect(get.headers.get('x-seen-method')).toBe('GET');
  });

  it('proxies a body sent with Expect: 100-continue (curl does so above 1 KB)', async () => {
    const wd = await start();
    const payload = 'y'.repeat(4096);
    const answer = await postWithContinue(wd.url, '/', payload);
    expect(answer).toEqual({ status: 201, body: payload });
  });

  it('starts the process once and reuses kept-alive connections to it', async () => {
    const wd = await start();
    const pid = await (await fetch(`${wd.url}/pid`)).text();
    for (let round = 0; round < 5; round++) {
      await Promise.all(Array.from({ length: 10 }, () => fetch(wd.url, { method: 'POST', body: 'x' }).then((r) => r.text())));
    }
    expect(await (await fetch(`${wd.url}/pid`)).text()).toBe(pid);
    expect(wd.watchdog.upstream?.starts).toBe(1);
    // 52 requests went through, at most 10 at a time; one more connection was the readiness probe.
    expect(Number(await (await fetch(`${wd.url}/connections`)).text())).toBeLessThanOrEqual(11);
  });

  it('restarts the function process when it dies', async () => {
    const wd = await start();
    const pid = await (await fetch(`${wd.url}/pid`)).text();
    // The request that kills it gets no answer from it; the next ones wait for the restart.
    const crash = await fetch(`${wd.url}/crash`);
    expect(crash.status).toBe(502);
    const res = await fetch(wd.url, { method: 'POST', body: 'back' });
    expect(res.status).toBe(201);
    expect(await res.text()).toBe('back');
    expect(await (await fetch(`${wd.url}/pid`)).text()).not.toBe(pid);
    expect(wd.watchdog.upstream?.starts).toBe(2);
  });

  it('answers 504 after exec_timeout', async () => {
    const wd = await start({ exec_timeout: '300ms' });
    const res = await fetch(`${wd.url}/slow`);
    expect(res.status).toBe(504);
    expect(await res.text()).toContain('exec_timeout');
  });

  it('read_timeout does not cut a request whose whole body came, however long the function takes to answer', async () => {
    // The body is in the watchdog's hands at once; the answer comes after 3 s, six times read_timeout.
    const wd = await start({ read_timeout: '500ms' });
    const res = await fetch(`${wd.url}/slow`, { method: 'POST', body: 'small body', headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('slow');
  });

  it('streams a chunked answer: the first part arrives before the process has finished it', async () => {
    const wd = await start();
    const res = await fetch(`${wd.url}/stream`);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const started = Date.now();
    const first = await reader.read();
    expect(Buffer.from(first.value!).toString()).toBe('first\n');
    expect(Date.now() - started).toBeLessThan(400);
    let rest = '';
    for (let part = await reader.read(); !part.done; part = await reader.read()) rest += Buffer.from(part.value).toString();
    expect(rest).toBe('second\n');
  });

  it('passes on answers without a body (204) and HEAD requests', async () => {
    const wd = await start();
    const empty = await fetch(`${wd.url}/nocontent`, { method: 'DELETE' });
    expect(empty.status).toBe(204);
    expect(empty.headers.get('x-seen-method')).toBe('DELETE');
    expect(await empty.text()).toBe('');
    const head = await fetch(`${wd.url}/anything`, { method: 'HEAD' });
    expect(head.status).toBe(201);
    expect(head.headers.get('x-seen-method')).toBe('HEAD');
  });

  it('streams a request body that arrives in several parts', async () => {
    const wd = await start();
    const parts = ['one ', 'two ', 'three'];
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const part = parts.shift();
        if (part === undefined) return controller.close();
        await new Promise((r) => setTimeout(r, 50));
        controller.enqueue(Buffer.from(part));
      },
    });
    const res = await fetch(wd.url, { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(201);
    expect(await res.text()).toBe('one two three');
  });

  it('drops the request to the process when the client goes away', async () => {
    const wd = await start();
    const client = new AbortController();
    const pending = fetch(`${wd.url}/hold`, { signal: client.signal }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const abortedAt = Date.now();
    client.abort();
    await pending;
    let closedAt = 0;
    for (let i = 0; i < 40 && !closedAt; i++) {
      closedAt = Number(await (await fetch(`${wd.url}/aborted`)).text());
      if (!closedAt) await new Promise((r) => setTimeout(r, 50));
    }
    expect(closedAt).toBeGreaterThanOrEqual(abortedAt);
    expect(closedAt - abortedAt).toBeLessThan(1000);
    expect(await waitFor(() => wd.watchdog.inflight() === 0)).toBe(true);
    // And a shutdown after it lets the function process close by itself, within its 2 s grace.
    const stopping = Date.now();
    await wd.stop();
    expect(Date.now() - stopping).toBeLessThan(1500);
  });

  it('max_inflight answers 429 beyond the limit', async () => {
    const wd = await start({ max_inflight: '1', exec_timeout: '5s' });
    const answers = await Promise.all([fetch(`${wd.url}/slow`), fetch(`${wd.url}/slow`)]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 429]);
    expect(answers.find((r) => r.status === 429)!.headers.get('x-max-inflight')).toBe('1');
  });

  it('stops the function process at shutdown, letting it close gracefully (no kill after the 2 s grace)', async () => {
    const wd = await start();
    const pid = Number(await (await fetch(`${wd.url}/pid`)).text());
    // Kept-alive connections to the process are open now; its SIGTERM handler waits for them to close.
    await Promise.all(Array.from({ length: 5 }, () => fetch(wd.url, { method: 'POST', body: 'x' }).then((r) => r.text())));
    const stopping = Date.now();
    await wd.stop();
    expect(Date.now() - stopping).toBeLessThan(1500);
    expect(await waitFor(() => !processTable().some((p) => p.pid === pid))).toBe(true);
    expect(existsSync(wd.lockFile)).toBe(false);
  });
});
