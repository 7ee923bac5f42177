// Asynchronous invocations on the real Swarm with the real NATS JetStream and
// queue worker of the stack: the routes with their status codes and bad
// input, callbacks, 1,000 calls while the worker is killed twice, NATS once
// and the gateway once (nothing accepted is lost), and dead letters with
// their replay.
// Figures print as "[async] ..." lines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackUrl, deployAlways503, deployReceiver, deploySlowEcho, invokeAsync, received, report, type Received } from './support/async.js';
import { containersOf, deployFunction, docker, killNats, removeFunction } from './support/functions.js';
import { fn, gatewayUrl, image, monitoringFetch, systemFetch, waitFor } from './support/gateway.js';
import { openBrowser } from './support/browser.js';
import { gatewayLogs } from './support/scaling.js';
import { inTurn } from '../support/in-turn.js';
import { inject } from 'vitest';

const receiver = fn('ascb');
const target = fn('asecho');
const created = [receiver, target];

/** The worker's container on this node (the stack runs one worker). */
async function worker(): Promise<string> {
  const [id] = await containersOf(fn('queue-worker'));
  if (!id) throw new Error('no running queue worker');
  return id;
}

beforeAll(async () => {
  await Promise.all([
    deployReceiver(receiver),
    deployFunction({ service: target, image: image('echoit'), labels: { 'com.openfaas.scale.zero': 'false', 'com.openfaas.async.max-inflight': '20' } }),
  ]);
  // Swarm's DNS knows a new service a moment after its task runs: wait until the worker resolves the receiver.
  const id = await worker();
  await waitFor(`${receiver} resolving in the worker`, async () => ((await docker('exec', id, 'nslookup', receiver).catch(() => '')).includes('Address') ? true : undefined), 30_000, 500);
});

afterAll(async () => {
  for (const name of created) await removeFunction(name);
});

/** Waits until the receiver holds a callback for every id in `ids`; answers all it got. */
/** Queues `count` calls of `target` (each its id as the body, called back to the receiver), each accepted (202); answers their ids. */
async function queueCalls(target: string, prefix: string, count: number): Promise<Set<string>> {
  const ids = new Set<string>();
  for (let i = 0; i < count; i++) {
    const id = `${prefix}-${i}`;
    expect((await invokeAsync(target, id, { 'x-callback-url': callbackUrl(receiver), 'x-call-id': id })).status).toBe(202);
    ids.add(id);
  }
  return ids;
}

async function callbacksFor(ids: Set<string>, timeoutMs: number): Promise<Received[]> {
  let all: Received[] = [];
  await waitFor(
    `callbacks for ${ids.size} calls`,
    async () => {
      all = all.concat(await received(receiver, all.length));
      const seen = new Set(all.map((r) => r.callId));
      return [...ids].every((id) => seen.has(id)) ? true : undefined;
    },
    timeoutMs,
    500,
  ).catch((error: unknown) => {
    const seen = new Set(all.map((r) => r.callId));
    const missing = [...ids].filter((id) => !seen.has(id));
    throw new Error(`${(error as Error).message}; ${missing.length} never called back, e.g. ${missing.slice(0, 5).join(', ')}`);
  });
  return all.filter((r) => r.callId !== null && ids.has(r.callId));
}

describe('POST /async-function/{name}', () => {
  it('answers 202 with the caller\'s X-Call-Id, then calls back with the function\'s answer and its status and duration', async () => {
    const callId = `cb-${Date.now()}`;
    const sentAt = Date.now();
    const accepted = await invokeAsync(target, 'Hello, queued Function', { 'x-callback-url': callbackUrl(receiver), 'x-call-id': callId });
    expect(accepted).toMatchObject({ status: 202, callId, text: '' });
    expect(accepted.ms).toBeLessThan(1_000);
    const [callback] = await callbacksFor(new Set([callId]), 30_000);
    report(`one call: 202 in ${accepted.ms} ms, called back ${callback!.at - sentAt} ms after it was sent; X-Duration-Seconds ${callback!.duration}`);
    expect(callback).toMatchObject({ method: 'POST', url: '/cb', callId, status: '200' });
    expect(Buffer.from(callback!.body, 'base64').toString()).toBe('Hello, queued Function');
    expect(Number(callback!.duration)).toBeGreaterThan(0);
    expect(Number(callback!.duration)).toBeLessThan(5);
  });

  it('makes a new X-Call-Id when the caller sent none, and accepts name.namespace', async () => {
    const accepted = await invokeAsync(`${target}.openfaas-fn`, 'namespaced', { 'x-callback-url': callbackUrl(receiver) });
    expect(accepted.status).toBe(202);
    expect(accepted.callId).toMatch(/^[0-9a-f-]{36}$/);
    const [callback] = await callbacksFor(new Set([accepted.callId!]), 30_000);
    expect(Buffer.from(callback!.body, 'base64').toString()).toBe('namespaced');
  });

  it('sends the function the stored method, path, query, headers and a binary body unchanged', async () => {
    const callId = `shape-${Date.now()}`;
    const bytes = Uint8Array.from({ length: 3000 }, (_, i) => (i * 31) % 256);
    // The receiver itself is the function here: it keeps what it was sent.
    const accepted = await invokeAsync(`${receiver}/deep/path?x=1&y=two`, bytes, { 'x-call-id': callId, 'content-type': 'application/octet-stream' }, 'PUT');
    expect(accepted.status).toBe(202);
    const [request] = await callbacksFor(new Set([callId]), 30_000);
    expect(request).toMatchObject({ method: 'PUT', url: '/deep/path?x=1&y=two', callId, contentType: 'application/octet-stream' });
    expect(Buffer.from(request!.body, 'base64').equals(Buffer.from(bytes))).toBe(true);
  });

  it('refuses what it cannot queue, with a status and a message naming the problem', async () => {
    const unknown = await invokeAsync(fn('no-such-function'), 'x');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('not found');

    const get = await fetch(gatewayUrl(`/async-function/${target}`));
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, PUT, PATCH, DELETE');

    const badCallback = await invokeAsync(target, 'x', { 'x-callback-url': 'not a url' });
    expect(badCallback.status).toBe(400);
    expect(badCallback.text).toContain('X-Callback-Url');
    const ftpCallback = await invokeAsync(target, 'x', { 'x-callback-url': 'ftp://example.invalid/x' });
    expect(ftpCallback.status).toBe(400);

    // ASYNC_BODY_LIMIT (1mb): refused from its Content-Length, and when it comes chunked without one.
    const big = new Uint8Array(1024 * 1024 + 1);
    const tooLarge = await invokeAsync(target, big);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.text).toContain('ASYNC_BODY_LIMIT');
    const chunks = (async function* () {
      for (let i = 0; i < 20; i++) yield new Uint8Array(64 * 1024);
    })();
    const chunked = await fetch(gatewayUrl(`/async-function/${target}`), { method: 'POST', body: chunks as unknown as ReadableStream, duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(413);

    // Nothing of that was queued.
    const queues = (await (await systemFetch('/system/async/queues')).json()) as Array<{ name: string; queued: number }>;
    expect(queues.find((q) => q.name === target)?.queued ?? 0).toBe(0);
    // The gateway is still fine.
    expect((await invokeAsync(target, 'still fine')).status).toBe(202);
  });

  it('never calls back the stack\'s own services (ASYNC_CALLBACK_DENY_HOSTS)', async () => {
    // Unguarded, anyone could have AlertManager fire an alert (echoit sends the body back as its answer).
    const marker = `injected-${Date.now()}`;
    const alert = JSON.stringify([{ labels: { alertname: 'APIHighInvocationRate', function_name: target, marker }, annotations: {} }]);
    const callId = `deny-${Date.now()}`;
    expect((await invokeAsync(target, alert, { 'x-callback-url': 'http://alertmanager:9093/api/v2/alerts', 'x-call-id': callId, 'content-type': 'application/json' })).status).toBe(202);
    const refused = await waitFor('the refused callback counted', async () => {
      const text = await docker('exec', await worker(), 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/metrics');
      const line = text.split('\n').find((l) => l.startsWith(`async_callbacks_total{function_name="${target}",result="refused"}`));
      return line ? Number(line.split(' ').pop()) : undefined;
    }, 20_000, 500);
    expect(refused).toBeGreaterThanOrEqual(1);
    const alerts = (await (await monitoringFetch('alertmanager', '/api/v2/alerts')).json()) as Array<{ labels: Record<string, string> }>;
    expect(alerts.filter((a) => a.labels.marker === marker)).toEqual([]);
  });

  it('needs no credentials, while /system/async/* does', async () => {
    expect((await fetch(gatewayUrl('/system/async/dead-letters'))).status).toBe(401);
    expect((await fetch(gatewayUrl('/system/async/queues'))).status).toBe(401);
    expect((await systemFetch('/system/async/queues')).status).toBe(200);
  });
});

describe('waking from zero', () => {
  it('wakes a function at zero replicas for a queued call and calls back its answer', async () => {
    const sleeper = fn('aszero');
    created.push(sleeper);
    await deployFunction({ service: sleeper, image: image('echoit'), labels: { 'com.openfaas.scale.zero': 'true' } });
    const scaled = await systemFetch(`/system/scale-function/${sleeper}`, { method: 'POST', body: JSON.stringify({ serviceName: sleeper, replicas: 0 }) });
    expect(scaled.status).toBe(202);
    await waitFor(`${sleeper} at zero`, async () => ((await containersOf(sleeper)).length === 0 ? true : undefined), 60_000, 250);
    const callId = `zero-${Date.now()}`;
    const sentAt = Date.now();
    const accepted = await invokeAsync(sleeper, 'wake up', { 'x-callback-url': callbackUrl(receiver), 'x-call-id': callId });
    expect(accepted.status).toBe(202);
    expect(accepted.ms).toBeLessThan(1_000); // queued at once, not held while the function wakes
    const [callback] = await callbacksFor(new Set([callId]), 60_000);
    report(`function at zero: called back ${((callback!.at - sentAt) / 1000).toFixed(2)} s after the 202 (woken by the worker)`);
    expect(callback).toMatchObject({ status: '200' });
    expect(Buffer.from(callback!.body, 'base64').toString()).toBe('wake up');
    expect((await containersOf(sleeper)).length).toBe(1);
  });
});

describe('com.openfaas.async.max-inflight', () => {
  it('holds a slow function to its limit of concurrent asynchronous calls', async () => {
    const limited = fn('aslimit');
    created.push(limited);
    await deploySlowEcho(limited, 500, { 'com.openfaas.async.max-inflight': '2' });
    const started = Date.now();
    const ids = await queueCalls(limited, `limit-${started}`, 12);
    const callbacks = await callbacksFor(ids, 60_000);
    const seconds = (Math.max(...callbacks.map((c) => c.at)) - started) / 1000;
    const most = Number(await (await fetch(gatewayUrl(`/function/${limited}/max`))).text());
    report(`max-inflight 2, 12 calls of 500 ms queued at once: at most ${most} at a time in the function, all called back ${seconds.toFixed(1)} s after the first`);
    expect(most).toBe(2);
    expect(seconds).toBeGreaterThanOrEqual(2.9); // 6 rounds of 500 ms
  });

  it('holds across two workers, which share the calls', async () => {
    const limited = fn('aslimit2');
    created.push(limited);
    await deploySlowEcho(limited, 300, { 'com.openfaas.async.max-inflight': '2' });
    const workerService = fn('queue-worker');
    await docker('service', 'scale', '--detach', `${workerService}=2`);
    try {
      const workers = await waitFor('two workers answering /healthz', async () => {
        const ids = await containersOf(workerService);
        if (ids.length !== 2) return undefined;
        for (const id of ids) if (!(await docker('exec', id, 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/healthz').catch(() => '')).includes('OK')) return undefined;
        return ids;
      }, 60_000, 500);
      const ids = await queueCalls(limited, `two-${Date.now()}`, 20);
      await callbacksFor(ids, 60_000);
      const most = Number(await (await fetch(gatewayUrl(`/function/${limited}/max`))).text());
      const done = [];
      for (const id of workers) {
        const text = await docker('exec', id, 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/metrics');
        const line = text.split('\n').find((l) => l.startsWith(`async_invocations_total{function_name="${limited}",outcome="success"}`));
        done.push(Number(line?.split(' ').pop() ?? 0));
      }
      report(`two workers, max-inflight 2, 20 calls of 300 ms: at most ${most} at a time in the function; the workers made ${done.join(' and ')} of them`);
      expect(most).toBe(2);
      expect(done.reduce((a, b) => a + b, 0)).toBe(20);
      expect(Math.min(...done)).toBeGreaterThan(0);
    } finally {
      await docker('service', 'scale', '--detach', `${workerService}=1`);
      await waitFor('one worker again', async () => ((await containersOf(workerService)).length === 1 ? true : undefined), 60_000, 500);
    }
  });
});

describe('the /system/async API', () => {
  it('lists the queue of every function', async () => {
    const res = await systemFetch('/system/async/queues');
    expect(res.status).toBe(200);
    const rows = (await res.json()) as Array<{ name: string; namespace: string; queued: number; deadLetters: number }>;
    expect(rows.find((r) => r.name === target)).toMatchObject({ namespace: 'openfaas-fn', queued: expect.any(Number), deadLetters: expect.any(Number) });
  });

  it('drops the calls queued for a function', async () => {
    // Paused: no function task, so the calls stay queued (the worker holds one per max-inflight while it waits).
    const paused = fn('aspurge');
    created.push(paused);
    await deployFunction({ service: paused, image: image('echoit'), labels: { 'com.openfaas.scale.zero': 'true', 'com.openfaas.async.max-inflight': '1' } });
    await systemFetch(`/system/scale-function/${paused}`, { method: 'POST', body: JSON.stringify({ serviceName: paused, replicas: 0 }) });
    await waitFor(`${paused} at zero`, async () => ((await containersOf(paused)).length === 0 ? true : undefined), 60_000, 250);
    // Keep it asleep while the calls are queued: a wake-up would take them.
    await docker('service', 'update', '--detach', '--constraint-add', 'node.labels.never-here == true', paused);
    for (let i = 0; i < 5; i++) expect((await invokeAsync(paused, `q${i}`)).status).toBe(202);
    const depth = async () => ((await (await systemFetch('/system/async/queues')).json()) as Array<{ name: string; queued: number }>).find((r) => r.name === paused)?.queued;
    expect(await depth()).toBe(5);
    const res = await systemFetch(`/system/async/queues/${paused}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: paused, namespace: 'openfaas-fn', purged: 5 });
    expect(await depth()).toBe(0);
    expect((await systemFetch('/system/async/queues/x?namespace=Bad_NS', { method: 'DELETE' })).status).toBe(400);
  });

  it('answers bad ids and filters with 400, unknown ids with 404', async () => {
    for (const path of ['/system/async/dead-letters/abc', '/system/async/dead-letters/0', '/system/async/dead-letters/-1']) {
      const res = await systemFetch(path);
      expect(res.status, path).toBe(400);
      expect(await res.text()).toContain('positive whole number');
    }
    expect((await systemFetch('/system/async/dead-letters/abc/replay', { method: 'POST' })).status).toBe(400);
    expect((await systemFetch('/system/async/dead-letters?limit=0')).status).toBe(400);
    expect((await systemFetch('/system/async/dead-letters?limit=5000')).status).toBe(400);
    expect((await systemFetch('/system/async/dead-letters?after=x')).status).toBe(400);
    expect((await systemFetch('/system/async/dead-letters?namespace=Bad_NS&function=x')).status).toBe(400);
    const unknown = 999_999_999;
    expect((await systemFetch(`/system/async/dead-letters/${unknown}`)).status).toBe(404);
    expect((await systemFetch(`/system/async/dead-letters/${unknown}/replay`, { method: 'POST' })).status).toBe(404);
    expect((await systemFetch(`/system/async/dead-letters/${unknown}`, { method: 'DELETE' })).status).toBe(404);
    const list = await systemFetch(`/system/async/dead-letters?function=${fn('no-such-function')}`);
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual([]);
  });
});

describe('dead letters', () => {
  const failing = fn('as503');
  beforeAll(async () => {
    created.push(failing);
    await deployAlways503(failing, { 'com.openfaas.async.max-attempts': '3' });
  });

  it('keeps a call that always gets 503 as a dead letter after the configured attempts, calls back once, and replays it', async () => {
    const count = async () => Number(await (await fetch(gatewayUrl(`/function/${failing}/count`))).text());
    const before = await count();
    const callId = `dead-${Date.now()}`;
    const started = Date.now();
    expect((await invokeAsync(failing, 'will fail', { 'x-callback-url': callbackUrl(receiver), 'x-call-id': callId })).status).toBe(202);

    // Attempts 1, 2, 3 with 1 s and 2 s (+-20 %) between them (ASYNC_RETRY_DELAY 1s), then the dead letter.
    const letter = await waitFor('the dead letter', async () => {
      const list = (await (await systemFetch(`/system/async/dead-letters?function=${failing}`)).json()) as Array<Record<string, unknown>>;
      return list.find((l) => l.callId === callId);
    }, 60_000, 500);
    const deadAfter = Date.now() - started;
    expect(letter).toMatchObject({ function: failing, namespace: 'openfaas-fn', method: 'POST', path: '/', attempts: 3, status: 503, bodyBytes: 9 });
    expect(String(letter.reason)).toContain('503');
    expect((await count()) - before).toBe(3);
    const [callback] = await callbacksFor(new Set([callId]), 15_000);
    expect(callback).toMatchObject({ status: '503', deadLetter: String(letter.id), attempts: '3' });
    report(`always-503 function: dead letter after 3 attempts, ${(deadAfter / 1000).toFixed(1)} s after the 202; callback X-Function-Status 503`);

    // One dead letter with its stored body; the queue of the function is empty.
    const one = (await (await systemFetch(`/system/async/dead-letters/${String(letter.id)}`)).json()) as { body: string };
    expect(Buffer.from(one.body, 'base64').toString()).toBe('will fail');
    const queues = (await (await systemFetch('/system/async/queues')).json()) as Array<{ name: string; queued: number; deadLetters: number }>;
    expect(queues.find((q) => q.name === failing)).toMatchObject({ queued: 0, deadLetters: 1 });

    // The UI's page of asynchronous calls shows it, in a real browser.
    const [username, password] = inject('credentials').split(':') as [string, string];
    const browser = await openBrowser({ httpCredentials: { username, password } });
    try {
      await browser.page.goto(gatewayUrl('/ui/#/async'));
      const row = browser.page.locator('#dead-letters tbody tr', { hasText: callId });
      await row.waitFor({ timeout: 15_000 });
      expect(await row.locator('td').nth(2).textContent()).toBe('503');
      const queueRow = browser.page.locator('#queues tbody tr', { hasText: failing });
      expect(await queueRow.locator('td').nth(2).textContent()).toBe('1');
    } finally {
      await browser.close();
    }

    // Replay: 202, the dead letter goes, the call is attempted again (3 more times) and comes back as a new dead letter.
    const replay = await systemFetch(`/system/async/dead-letters/${String(letter.id)}/replay`, { method: 'POST' });
    expect(replay.status).toBe(202);
    expect(await replay.json()).toMatchObject({ replayed: letter.id, callId, function: failing });
    expect((await systemFetch(`/system/async/dead-letters/${String(letter.id)}`)).status).toBe(404);
    const again = await waitFor('the replayed call as a new dead letter', async () => {
      const list = (await (await systemFetch(`/system/async/dead-letters?function=${failing}`)).json()) as Array<Record<string, unknown>>;
      return list.find((l) => l.callId === callId && l.id !== letter.id);
    }, 60_000, 500);
    expect(again).toMatchObject({ attempts: 3, status: 503 });
    expect((await count()) - before).toBe(6);

    // DELETE forgets it.
    expect((await systemFetch(`/system/async/dead-letters/${String(again.id)}`, { method: 'DELETE' })).status).toBe(204);
    expect((await systemFetch(`/system/async/dead-letters/${String(again.id)}`)).status).toBe(404);
  });
});

describe('metrics', () => {
  it('the worker serves its figures, and Prometheus scrapes them with the invocations it made', async () => {
    const text = await docker('exec', await worker(), 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/metrics');
    expect(text).toMatch(new RegExp(`async_invocations_total\\{function_name="${target}",outcome="success"\\} \\d+`));
    expect(text).toMatch(new RegExp(`gateway_function_invocation_total\\{function_name="${target}",code="200",source="async"\\} \\d+`));
    expect(text).toMatch(/# TYPE async_queue_depth gauge/);
    expect(text).toMatch(/# TYPE async_retries_total counter/);
    expect(text).toMatch(/# TYPE async_dead_letter_depth gauge/);
    // The gateways report the replicas: a second source would double any sum of them.
    expect(text).not.toMatch(/gateway_service_count/);
    const gatewayText = await (await fetch(gatewayUrl('/metrics'))).text();
    expect(gatewayText).toMatch(new RegExp(`gateway_async_accepted_total\\{function_name="${target}"\\} \\d+`));

    const query = async (q: string) => {
      const res = await monitoringFetch('prometheus', `/api/v1/query?query=${encodeURIComponent(q)}`);
      return ((await res.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
    };
    const scraped = await waitFor('the worker scraped by Prometheus', async () => {
      const rows = await query(`async_invocations_total{function_name="${target}",job="queue-worker"}`);
      return rows.length > 0 ? rows : undefined;
    }, 30_000, 1_000);
    expect(Number(scraped[0]!.value[1])).toBeGreaterThan(0);
    const up = await query('up{job="queue-worker"}');
    expect(up.map((r) => r.value[1])).toContain('1');
  });
});

describe('nothing accepted is lost', () => {
  const slow = fn('asslow');
  // Measured under its own load only: the other vitest process's busiest moments wait (test/support/load-turns.ts).
  inTurn('e2e: async calls through faults');
  beforeAll(async () => {
    created.push(slow);
    // 200 ms per call at about 30 calls/s: some six calls are in the worker's hands at any moment, and the kills cut them.
    await deploySlowEcho(slow, 200, { 'com.openfaas.async.max-inflight': '20' });
  });

  it('calls back every one of 1,000 calls while the worker is killed twice, NATS once and the gateway once', async () => {
    const total = 1_000;
    const ids = new Set<string>();
    const run = `load-${Date.now()}`;
    let rejected = 0;
    /** Every attempt: sent and ended (ms after the start), and its status (0: no answer from a gateway). */
    const attempts: Array<{ sent: number; ended: number; status: number; text: string }> = [];
    /** When the gateway was killed, and when its new task answered (ms after the start). */
    const gatewayDown = { from: Infinity, to: Infinity };
    const events: string[] = [];
    const started = Date.now();
    let callbacksSoFar = 0;
    const progress = setInterval(() => {
      void fetch(gatewayUrl(`/function/${receiver}/count`)).then(async (r) => (callbacksSoFar = Number(await r.text()))).catch(() => undefined);
    }, 500);

    // The faults, each once a share of the calls was accepted: the worker is killed while it works, NATS while calls come in.
    const faults = (async () => {
      const at = async (share: number) => waitFor(`${share * 100} % of the calls accepted`, async () => (ids.size >= share * total ? true : undefined), 180_000, 100);
      /** Calls in the worker's hands (its async_inflight gauge), read just before it is killed. */
      const inHand = async (id: string) => {
        const text = await docker('exec', id, 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/metrics').catch(() => '');
        return text.split('\n').filter((l) => l.startsWith('async_inflight{')).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
      };
      await at(0.15);
      const first = await worker();
      events.push(`${await inHand(first)} calls in hand`);
      await docker('kill', first);
      events.push(`worker killed at ${((Date.now() - started) / 1000).toFixed(1)} s (${callbacksSoFar} callbacks so far)`);
      await at(0.45);
      await killNats((what) => events.push(`${what} at ${((Date.now() - started) / 1000).toFixed(1)} s`));
      await at(0.6);
      const [gatewayTask] = await containersOf(fn('gateway'));
      await docker('kill', gatewayTask!);
      gatewayDown.from = Date.now() - started;
      events.push(`gateway killed at ${((Date.now() - started) / 1000).toFixed(1)} s`);
      await waitFor('the gateway answering again', async () => ((await fetch(gatewayUrl('/healthz')).catch(() => undefined))?.status === 200 ? true : undefined), 90_000, 250);
      gatewayDown.to = Date.now() - started;
      events.push(`gateway answering again at ${((Date.now() - started) / 1000).toFixed(1)} s`);
      await at(0.75);
      await waitFor('a worker running', async () => ((await containersOf(fn('queue-worker'))).length === 1 ? true : undefined), 60_000, 250);
      const second = await worker();
      events.push(`${await inHand(second)} calls in hand`);
      await docker('kill', second);
      events.push(`worker killed again at ${((Date.now() - started) / 1000).toFixed(1)} s (${callbacksSoFar} callbacks so far)`);
    })();

    // Ten senders; a 503 (the queue not reachable while NATS restarts) or no answer (the gateway restarting) is not an acceptance: the sender tries again.
    let next = 0;
    const sender = async () => {
      while (next < total) {
        const id = `${run}-${next++}`;
        for (let attempt = 0; ; attempt++) {
          const sentAt = Date.now() - started;
          const accepted = await invokeAsync(slow, `call ${id}`, { 'x-callback-url': callbackUrl(receiver), 'x-call-id': id }, 'POST', 20_000);
          attempts.push({ sent: sentAt, ended: sentAt + accepted.ms, status: accepted.status, text: accepted.text.slice(0, 160) });
          if (accepted.status === 202) {
            ids.add(id);
            break;
          }
          rejected++;
          if (attempt > 60) throw new Error(`call ${id} not accepted: ${accepted.status} ${accepted.text}`);
          await new Promise((r) => setTimeout(r, 500));
        }
        // Spread the calls over the faults (about 30 per second).
        await new Promise((r) => setTimeout(r, 300));
      }
    };
    const [receiverTask] = await containersOf(receiver);
    await Promise.all(Array.from({ length: 10 }, sender));
    const acceptedIn = Date.now() - started;
    try {
      await faults;
      const callbacks = await callbacksFor(ids, 240_000).catch(async (error: Error) => {
        // The receiver keeps what it got in memory: a replaced task (Swarm took it for unhealthy) lost it.
        const [now] = await containersOf(receiver);
        throw new Error(`${error.message}; the receiver's task ${now === receiverTask ? 'is the one it was' : 'was replaced meanwhile, and what it held is lost'}`);
      });
      const perId = new Map<string, number>();
      for (const c of callbacks) perId.set(c.callId!, (perId.get(c.callId!) ?? 0) + 1);
      const duplicates = [...perId.values()].reduce((sum, n) => sum + n - 1, 0);
      const wrong = callbacks.filter((c) => c.status !== '200' || Buffer.from(c.body, 'base64').toString() !== `call ${c.callId}`);
      // An accept never waits long, not even while NATS or the gateway restarts: a gateway answers at once (202, or
      // 503 while the queue is away). Only while the gateway's task is replaced may a connection wait with no gateway
      // behind it (Docker's port proxy holds it until the new task listens or the connection fails): reported, not ours.
      const described = (a: (typeof attempts)[number]) => `sent at ${(a.sent / 1000).toFixed(1)} s, ${a.ended - a.sent} ms, ${a.status} ${a.text}`;
      const duringRestart = (a: (typeof attempts)[number]) => a.status === 0 && a.ended >= gatewayDown.from && a.sent <= gatewayDown.to + 1_000;
      const slowest = (list: typeof attempts) => Math.max(0, ...list.map((a) => a.ended - a.sent));
      const elsewhere = attempts.filter((a) => !duringRestart(a));
      const restartWaits = attempts.filter(duringRestart);
      report(`${total} calls accepted in ${(acceptedIn / 1000).toFixed(1)} s (${rejected} not accepted while NATS or the gateway restarted (503 or no answer), tried again by the sender); slowest answer or failure outside the gateway's restart ${slowest(elsewhere)} ms, slowest of ${restartWaits.length} with no gateway behind the port during its restart ${slowest(restartWaits)} ms; ${events.join(', ')}`);
      report(`every call called back: ${perId.size} of ${ids.size} ids, ${callbacks.length} callbacks, ${duplicates} duplicates (at-least-once), ${wrong.length} with a wrong status or body${wrong.length ? ` (${wrong.slice(0, 3).map((c) => `${c.callId}: status ${c.status}, attempts ${c.attempts}, dead letter ${c.deadLetter}, body ${Buffer.from(c.body, 'base64').toString().slice(0, 120)}`).join('; ')})` : ''}; last callback ${((Math.max(...callbacks.map((c) => c.at)) - started) / 1000).toFixed(1)} s after the first call`);
      expect(perId.size).toBe(total);
      const tooSlow = elsewhere.filter((a) => a.ended - a.sent >= 5_000);
      if (tooSlow.length > 0) {
        // Where the gateways say the time went (they log every accept over 1 s with its steps).
        const said = (await gatewayLogs(new Date(started)).catch(() => '')).split('\n').filter((l) => l.includes('to be accepted') || l.includes('to be refused'));
        expect.fail(`${tooSlow.length} attempts took 5 s or more: ${tooSlow.slice(0, 5).map(described).join('; ')}; ${events.join(', ')}; the gateways said: ${said.slice(-10).join(' | ')}`);
      }
      expect(wrong).toEqual([]);
      // The queue is empty again.
      await waitFor('an empty queue', async () => {
        const rows = (await (await systemFetch('/system/async/queues')).json()) as Array<{ name: string; queued: number }>;
        return rows.find((r) => r.name === slow)?.queued === 0 ? true : undefined;
      }, 60_000, 500);
    } finally {
      clearInterval(progress);
    }
  }, 600_000);
});
