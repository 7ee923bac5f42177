// The Docker engine API stops answering for a while. The real dockerd is
// shared, so it is never stopped: a second gateway of this test reaches the
// engine through a small TCP proxy (its own service, DOCKER_HOST=tcp://...),
// and the proxy's container is paused, so that the engine API accepts
// connections but never answers, like a hung engine. Both services are
// removed afterwards.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fn, image, waitFor } from './support/gateway.js';
import { containersOf, docker, invoke, invokeLoop, removeFunction, report } from './support/functions.js';

const stack = inject('stackName');
const proxy = fn('relproxy');
const gateway = fn('relgw');
// The second gateway's host port: the stack gateway's + 1 unless E2E_SECOND_GATEWAY_PORT says otherwise.
const port = Number(process.env.E2E_SECOND_GATEWAY_PORT ?? Number(new URL(inject('gatewayUrl')).port) + 1);
const base = `http://127.0.0.1:${port}`;
const probe = fn('relengine');
let proxyContainer = '';

// A TCP -> unix socket relay to the engine, in plain Node (the gateway image has node).
const relay =
  "require('net').createServer((c)=>{const u=require('net').connect('/var/run/docker.sock');" +
  "c.pipe(u).pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy());}).listen(2375)";

async function system(method: string, path: string, body?: unknown): Promise<{ status: number; text: string; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${base}${path}`, {
    method,
    signal: AbortSignal.timeout(30_000),
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  return { status: res.status, text: await res.text(), ms: Date.now() - started };
}

async function cleanUp(): Promise<void> {
  if (proxyContainer) await docker('unpause', proxyContainer).catch(() => undefined);
  await removeFunction(probe);
  await docker('service', 'rm', gateway).catch(() => undefined);
  await docker('service', 'rm', proxy).catch(() => undefined);
}

beforeAll(async () => {
  await cleanUp();
  await docker('service', 'create', '--detach', '--name', proxy, '--network', `${stack}_functions`, '--endpoint-mode', 'dnsrr',
    '--mount', 'type=bind,source=/var/run/docker.sock,target=/var/run/docker.sock', '--restart-condition', 'none',
    image('gateway'), 'node', '-e', relay);
  await docker('service', 'create', '--detach', '--name', gateway, '--network', `${stack}_functions`, '--endpoint-mode', 'dnsrr',
    '--publish', `mode=host,target=8080,published=${port}`, '--restart-condition', 'none',
    '--env', `DOCKER_HOST=tcp://${proxy}:2375`, '--env', `FUNCTIONS_NETWORK=${stack}_functions`, '--env', 'SCALE_TO_ZERO=false',
    image('gateway'));
  proxyContainer = await waitFor('the proxy container', async () => (await containersOf(proxy))[0], 60_000, 500);
  await waitFor('the second gateway to list the stack functions', async () => {
    const res = await fetch(`${base}/system/functions`).catch(() => undefined);
    if (res?.status !== 200) return undefined;
    const names = ((await res.json()) as Array<{ name: string }>).map((f) => f.name);
    return names.includes(fn('echoit')) ? true : undefined;
  }, 90_000, 500);
}, 180_000);

afterAll(cleanUp);

describe('the Docker engine API stops answering', () => {
  it('/system/* answers 503 with a message, known functions keep answering, and the gateway recovers by itself', async () => {
    expect((await invoke(fn('echoit'), 'before', 10_000, base)).status).toBe(200);

    await docker('pause', proxyContainer);
    const pausedAt = Date.now();
    let outage = true;
    // Invocations of a known function all along the outage (bounded: ~5/s, at most 40 s).
    const invocations = invokeLoop(fn('echoit'), { workers: 1, maxRequests: 200, maxMs: 40_000, pauseMs: 200, stop: () => !outage, base });

    const [deploy, remove, scale, get, list] = await Promise.all([
      system('POST', '/system/functions', { service: probe, image: image('echoit') }),
      system('DELETE', '/system/functions', { functionName: probe }),
      system('POST', `/system/scale-function/${fn('echoit')}`, { replicas: 2 }),
      system('GET', `/system/function/${fn('never-deployed')}`),
      system('GET', '/system/functions'),
    ]);
    for (const answer of [deploy, remove, scale, get, list]) {
      expect(answer.status, answer.text).toBe(503);
      expect(answer.text).toMatch(/docker: the engine did not answer within 8 s/);
      expect(answer.ms).toBeLessThan(12_000);
    }
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    await docker('unpause', proxyContainer);
    const outageMs = Date.now() - pausedAt;
    outage = false;
    const during = await invocations;
    const failed = during.filter((a) => a.status !== 200 || a.text !== a.body);
    expect(failed).toEqual([]);
    expect(during.length).toBeGreaterThan(20);
    // Nothing changed while the engine was away (the 503s were not half-done).
    expect(await containersOf(fn('echoit'))).toHaveLength(1);

    // Recovers by itself: the list answers again, deploys work again, and the new function answers.
    await waitFor('the list to answer again', async () => ((await system('GET', '/system/functions')).status === 200 ? true : undefined), 30_000, 500);
    const recoveredMs = await waitFor('a deploy to succeed again', async () => {
      const res = await system('POST', '/system/functions', { service: probe, image: image('echoit'), labels: { 'com.openfaas.scale.zero': 'false' } });
      return res.status === 202 ? Date.now() - pausedAt - outageMs : undefined;
    }, 30_000, 500);
    await waitFor('the new function to answer', async () => ((await invoke(probe, 'after', 5000, base)).status === 200 ? true : undefined), 60_000, 250);
    report(
      `engine API hung for ${(outageMs / 1000).toFixed(1)} s: deploy/delete/scale/get/list -> 503 in ${Math.max(deploy.ms, remove.ms, scale.ms, get.ms, list.ms)} ms at most; ` +
        `${during.length} invocations of a known function meanwhile, ${failed.length} failed; deploy accepted again ${(recoveredMs / 1000).toFixed(1)} s after the engine returned`,
    );
  });
});
