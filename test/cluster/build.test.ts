// From code to a function on a worker of the 3-node cluster: `faas-cli new
// --lang bash` and `faas-cli up --remote-builder`, the image named under the
// stack's registry (127.0.0.1:5000, a mirror of it on every node): the
// builder on the manager builds and pushes it, and the function's task on a
// worker pulls it through that node's mirror. An image the other nodes could
// not pull is refused with the reason.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildRequestTar } from '../../builder/test/support.js';
import { sign } from '../../builder/src/signature.js';
import { repoRoot, Workspace } from '../e2e/support/build.js';
import { gatewayUrl, systemFetch, waitFor } from '../e2e/support/gateway.js';
import { dockerOn, manager, nodeHost, nodes, report, tasks } from './support/cluster.js';

const NAME = 'clt-built';
const IMAGE = `127.0.0.1:5000/${NAME}:latest`;
let ws: Workspace;

beforeAll(async () => {
  ws = new Workspace();
  await ws.login();
  const { execFile } = await import('node:child_process');
  await new Promise<void>((resolve, reject) => execFile('cp', ['-r', `${repoRoot}template`, ws.path('template')], (e) => (e ? reject(e) : resolve())));
});
afterAll(async () => {
  await systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: NAME }) }).catch(() => undefined);
  ws?.dispose();
});

describe('builds on a cluster', () => {
  it('builds on the manager, pushes to the stack registry, and a worker runs the function', async () => {
    const made = await ws.cli(['new', '--lang', 'bash', NAME, '--prefix', '127.0.0.1:5000']);
    expect(made.code, made.out).toBe(0);
    expect(ws.read('stack.yaml')).toContain(`image: ${IMAGE}`);
    // On a worker: the node that did not build it must pull it.
    ws.write('stack.yaml', ws.read('stack.yaml').replace(`image: ${IMAGE}`, `image: ${IMAGE}\n    constraints:\n      - node.role == worker`));
    ws.write(`${NAME}/handler.sh`, '#!/usr/bin/env bash\necho "built on the manager, answering from $(hostname): $(cat)"\n');
    const started = Date.now();
    const up = await ws.up();
    expect(up.code, up.out.slice(-3000)).toBe(0);
    expect(up.out).toMatch(/pushed 127\.0\.0\.1:5000\/clt-built:latest@sha256:[0-9a-f]{64}/);
    const answer = await waitFor(`${NAME} answering`, async () => {
      const res = await fetch(gatewayUrl(`/function/${NAME}`), { method: 'POST', body: 'hello cluster', signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
      const text = res?.status === 200 ? await res.text() : '';
      return text.includes('hello cluster') ? text : undefined;
    }, 180_000, 1000);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    // (The gateway routes to a task as soon as its watchdog is ready, before Swarm's health check says so.)
    const running = await waitFor(`${NAME}'s task running as Swarm sees it`, async () => {
      const now = (await tasks(NAME)).filter((t) => t.state === 'running' && t.desired === 'running');
      return now.length ? now : undefined;
    }, 60_000, 500);
    const workers = (await nodes()).filter((n) => !n.manager).map((n) => n.hostname);
    report([`built, pushed and answering on ${running.map((t) => t.node).join(', ')} ${seconds} s after faas-cli up: ${answer.trim()}`]);
    expect(running).toHaveLength(1);
    expect(workers).toContain(running[0]!.node);
    // The worker pulled it (it was built on the manager only).
    expect(await dockerOn(nodeHost(running[0]!.node), 'image', 'ls', '-q', IMAGE)).not.toBe('');
    expect(await manager('image', 'inspect', IMAGE, '--format', '{{index .Config.Labels "com.swarmfaas.builder.stack"}}')).toBe(inject('stackName'));
  });

  it('refuses an image only the manager would have, saying where to name it', async () => {
    const body = await buildRequestTar({ image: 'clt-local-only:1' }, { Dockerfile: 'ARG WATCHDOG_IMAGE\nFROM ${WATCHDOG_IMAGE}\n' });
    const res = await fetch(gatewayUrl('/build'), { method: 'POST', body, headers: { 'x-build-signature': sign(body, inject('payloadSecret')) } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/this swarm has 3 nodes: name it under 127\.0\.0\.1:5000\//);
  });
});
