// The gateway's /system API end to end on the real Swarm: list, get, deploy,
// update, delete, info, healthz; each route's success and its errors.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { fn, gatewayUrl, image, listFunctions, systemFetch, version, waitFor } from './support/gateway.js';

const run = promisify(execFile);
const stack = inject('stackName');
const deployed = new Set<string>();
const secrets: string[] = [];

async function deploy(body: Record<string, unknown>): Promise<Response> {
  const res = await systemFetch('/system/functions', { method: 'POST', body: JSON.stringify(body) });
  if (res.status === 202) deployed.add(String(body.service));
  return res;
}

async function invoke(name: string, body: string, path = ''): Promise<{ status: number; text: string }> {
  const res = await fetch(gatewayUrl(`/function/${name}${path}`), { method: 'POST', body, signal: AbortSignal.timeout(15_000) });
  return { status: res.status, text: await res.text() };
}

async function inspect(name: string): Promise<any> {
  const { stdout } = await run('docker', ['service', 'inspect', name]);
  return JSON.parse(stdout)[0];
}

/** Polls an invocation until it answers 200 with the expected text; returns ms taken. */
async function untilAnswers(name: string, body: string, expected: string | RegExp, timeoutMs = 60_000): Promise<number> {
  const started = Date.now();
  await waitFor(`${name} to answer`, async () => {
    const answer = await invoke(name, body).catch(() => undefined);
    if (!answer || answer.status !== 200) return undefined;
    return (typeof expected === 'string' ? answer.text === expected : expected.test(answer.text)) ? true : undefined;
  }, timeoutMs, 250);
  return Date.now() - started;
}

afterAll(async () => {
  for (const name of deployed) {
    await systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: name }) }).catch(() => undefined);
  }
  for (const secret of secrets) {
    // The function holding the secret may take a moment to go (409 until then).
    await waitFor(`secret ${secret} removed`, async () => {
      const res = await systemFetch('/system/secrets', { method: 'DELETE', body: JSON.stringify({ name: secret }) });
      return res.status === 202 || res.status === 404 ? true : undefined;
    }, 30_000, 1000).catch(() => undefined);
  }
});

describe('GET /system/functions and /system/function/{name}', () => {
  it('lists the stack functions with the OpenFaaS fields, and no other service', async () => {
    const echoit = await waitFor('echoit listed and available', async () => {
      const found = (await listFunctions()).find((f) => f.name === fn('echoit'));
      return found && found.availableReplicas >= 1 ? found : undefined;
    });
    expect(echoit).toMatchObject({ image: image('echoit'), replicas: 1, availableReplicas: 1, labels: { function: 'true' } });
    expect(typeof echoit.invocationCount).toBe('number');
    expect(echoit).toHaveProperty('envProcess');
    expect(echoit).toHaveProperty('annotations');
    const names = (await listFunctions()).map((f) => f.name);
    for (const other of ['gateway', 'prometheus', 'alertmanager']) expect(names).not.toContain(fn(other));
    const wordcount = (await listFunctions()).find((f) => f.name === fn('wordcount'));
    expect(wordcount?.labels['com.faas.max_replicas']).toBe('10');
  });

  it('gets one function, and 404 for a missing one or a service that is not a function', async () => {
    const res = await systemFetch(`/system/function/${fn('echoit')}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: fn('echoit'), image: image('echoit') });
    expect((await systemFetch(`/system/function/${fn('nothing-here')}`)).status).toBe(404);
    expect((await systemFetch(`/system/function/${fn('gateway')}`)).status).toBe(404);
  });
});

describe('POST /system/functions', () => {
  const name = fn('gwe2e-deploy');

  it('deploys a function that is invokable within seconds, labelled and on the functions network', async () => {
    const secret = `${stack}_gwe2e-secret`;
    // Made for functions (only such secrets can be mounted).
    await systemFetch('/system/secrets', { method: 'DELETE', body: JSON.stringify({ name: secret }) });
    expect((await systemFetch('/system/secrets', { method: 'POST', body: JSON.stringify({ name: secret, value: 'top-secret-value' }) })).status).toBe(201);
    secrets.push(secret);

    const started = Date.now();
    const res = await deploy({
      service: name,
      image: image('watchdog'),
      envProcess: `cat /run/secrets/${secret}`,
      envVars: { write_debug: 'true' },
      labels: { team: 'e2e' },
      annotations: { purpose: 'gateway e2e' },
      constraints: ['node.role == manager'],
      secrets: [secret],
      limits: { memory: '96m' },
    });
    expect(res.status).toBe(202);
    const ms = await untilAnswers(name, 'ignored', 'top-secret-value');
    const totalMs = Date.now() - started;
    expect(totalMs).toBeLessThan(30_000);
    process.stderr.write(`[gateway e2e] deployed function answered ${(totalMs / 1000).toFixed(1)} s after POST (${ms} ms polling)\n`);

    const service = await inspect(name);
    expect(service.Spec.Labels).toMatchObject({ function: 'true', team: 'e2e' });
    expect(service.Spec.TaskTemplate.ContainerSpec.Labels).toMatchObject({ function: 'true' });
    expect(service.Spec.TaskTemplate.ContainerSpec.Env).toContain(`fprocess=cat /run/secrets/${secret}`);
    expect(service.Spec.TaskTemplate.RestartPolicy.Condition).toBe('any');
    expect(service.Spec.TaskTemplate.Resources.Limits.MemoryBytes).toBe(96 * 1024 * 1024);
    expect(service.Spec.TaskTemplate.Placement.Constraints).toEqual(['node.role == manager']);
    expect(service.Spec.EndpointSpec.Mode).toBe('dnsrr');
    const { stdout: networkId } = await run('docker', ['network', 'inspect', `${stack}_functions`, '--format', '{{.Id}}']);
    expect(service.Spec.TaskTemplate.Networks.map((n: { Target: string }) => n.Target)).toContain(networkId.trim());

    const listed = await (await systemFetch(`/system/function/${name}`)).json();
    expect(listed).toMatchObject({ name, labels: { team: 'e2e', function: 'true' }, annotations: { purpose: 'gateway e2e' } });
  });

  it('answers 409 when the name is taken, by a function or by another service', async () => {
    expect((await deploy({ service: name, image: image('echoit') })).status).toBe(409);
    expect((await deploy({ service: fn('gateway'), image: image('echoit') })).status).toBe(409);
  });

  it('answers 400 naming the field for a bad name, image, network or body', async () => {
    const cases: Array<[Record<string, unknown> | string, RegExp]> = [
      [{ service: 'bad.name', image: image('echoit') }, /service/],
      [{ service: fn('gwe2e-x'), image: 'Not A/Valid:Image' }, /image/],
      [{ service: fn('gwe2e-x'), image: image('echoit'), network: `${stack}_no-such-network` }, /network/],
      [{ service: fn('gwe2e-x'), image: image('echoit'), secrets: ['gwe2e-no-such-secret'] }, /secret/],
      [{ service: fn('gwe2e-x') }, /image/],
      ['{not json', /body/],
    ];
    for (const [body, field] of cases) {
      const res = await systemFetch('/system/functions', { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await res.text()).toMatch(field);
    }
    expect((await run('docker', ['service', 'ls', '-q', '--filter', `name=${fn('gwe2e-x')}`])).stdout.trim()).toBe('');
  });
});

describe('PUT /system/functions', () => {
  const name = fn('gwe2e-update');

  it('rolls out a new image without downtime and keeps the replicas', async () => {
    expect((await deploy({ service: name, image: image('echoit'), labels: { 'com.openfaas.scale.zero': 'false' } })).status).toBe(202);
    await untilAnswers(name, 'one two three', 'one two three');
    await run('docker', ['service', 'scale', '--detach', `${name}=2`]);
    await waitFor('2 replicas available', async () => {
      const f = (await (await systemFetch(`/system/function/${name}`)).json()) as { availableReplicas: number };
      return f.availableReplicas === 2 ? true : undefined;
    });

    // Invoke all along while the update rolls; every answer must be a 200. At
    // about 4 per second: above 5 per second the autoscaling alert would
    // (rightly) add replicas and this test could not see them kept.
    const answers: Array<{ status: number; text: string }> = [];
    let rolling = true;
    const load = (async () => {
      while (rolling && answers.length < 5000) {
        answers.push(await invoke(name, 'one two three').catch((e) => ({ status: 0, text: String(e) })));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const res = await systemFetch('/system/functions', { method: 'PUT', body: JSON.stringify({ service: name, image: image('wordcount') }) });
    expect(res.status).toBe(202);
    // wordcount answers "      0       3      13" (lines, words, bytes).
    await waitFor('the new image to answer', async () => (/^\s*0\s+3\s+13\s*$/.test(answers.at(-1)?.text ?? '') ? true : undefined), 90_000, 200);
    await waitFor('the update to complete', async () => {
      const s = await inspect(name);
      return !s.UpdateStatus || s.UpdateStatus.State === 'completed' ? true : undefined;
    }, 90_000, 500);
    await new Promise((r) => setTimeout(r, 1000));
    rolling = false;
    await load;

    const failures = answers.filter((a) => a.status !== 200);
    expect(failures, JSON.stringify(failures.slice(0, 3))).toEqual([]);
    expect(answers.some((a) => a.text === 'one two three')).toBe(true);
    expect(answers.at(-1)!.text).toMatch(/^\s*0\s+3\s+13\s*$/);
    const after = (await (await systemFetch(`/system/function/${name}`)).json()) as { replicas: number; image: string };
    expect(after).toMatchObject({ replicas: 2, image: image('wordcount') });
    process.stderr.write(`[gateway e2e] ${answers.length} invocations during the rolling update, ${failures.length} failed\n`);
  });

  it('answers 404 for a function that does not exist and for a service that is not a function', async () => {
    expect((await systemFetch('/system/functions', { method: 'PUT', body: JSON.stringify({ service: fn('gwe2e-missing'), image: image('echoit') }) })).status).toBe(404);
    expect((await systemFetch('/system/functions', { method: 'PUT', body: JSON.stringify({ service: fn('prometheus'), image: image('echoit') }) })).status).toBe(404);
    expect((await inspect(fn('prometheus'))).Spec.TaskTemplate.ContainerSpec.Image).not.toMatch(/echoit/);
  });

  it('answers 400 for an invalid body', async () => {
    const res = await systemFetch('/system/functions', { method: 'PUT', body: JSON.stringify({ service: name, image: 'UPPER/case' }) });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/image/);
  });
});

describe('DELETE /system/functions', () => {
  it('removes a function', async () => {
    const name = fn('gwe2e-delete');
    expect((await deploy({ service: name, image: image('echoit') })).status).toBe(202);
    const res = await systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: name }) });
    expect(res.status).toBe(202);
    deployed.delete(name);
    expect((await run('docker', ['service', 'ls', '-q', '--filter', `name=${name}`])).stdout.trim()).toBe('');
    expect((await systemFetch(`/system/function/${name}`)).status).toBe(404);
    await waitFor('invocations to answer 404', async () => ((await invoke(name, 'x')).status === 404 ? true : undefined), 10_000, 200);
  });

  it('refuses to delete the gateway, Prometheus or a missing function: 404, and they keep running', async () => {
    for (const target of [fn('gateway'), fn('prometheus'), fn('gwe2e-never-deployed')]) {
      const res = await systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: target }) });
      expect(res.status, target).toBe(404);
    }
    expect((await run('docker', ['service', 'ls', '-q', '--filter', `name=${fn('gateway')}`])).stdout.trim()).not.toBe('');
    expect((await fetch(gatewayUrl('/healthz'))).status).toBe(200);
  });

  it('answers 400 without functionName', async () => {
    expect((await systemFetch('/system/functions', { method: 'DELETE', body: '{}' })).status).toBe(400);
  });
});

describe('GET /system/info, /healthz, /', () => {
  it('describes the orchestration, provider and version', async () => {
    const res = await systemFetch('/system/info');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ provider: { orchestration: 'swarm' }, version: { release: version } });
  });

  it('answers /healthz and redirects / to /ui/', async () => {
    expect((await fetch(gatewayUrl('/healthz'))).status).toBe(200);
    const res = await fetch(gatewayUrl('/'), { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/ui/');
  });
});

describe('a function Swarm cannot start', () => {
  it('says why in GET /system/function/{name} (the engine\'s reason), and lists its tasks with their node', async () => {
    const name = fn('gwe2e-noimage');
    deployed.add(name);
    const res = await deploy({ service: name, image: 'swarmfaas/no-such-image:1' });
    expect(res.status).toBe(202);
    const status = await waitFor('the reason', async () => {
      const got = (await (await systemFetch(`/system/function/${name}`)).json()) as { unavailableReason?: string; availableReplicas: number; instances: Array<{ node: string; state: string; error?: string }> };
      return got.unavailableReason ? got : undefined;
    }, 60_000, 500);
    process.stderr.write(`[gateway] unavailable function: reason "${status.unavailableReason}", instances ${JSON.stringify(status.instances)}\n`);
    expect(status.availableReplicas).toBe(0);
    expect(status.unavailableReason).toMatch(/no such image|pull|not found|manifest/i);
    // The Go-style body of the deploy (nulls) and Kubernetes quantities went through too.
    const goStyle = await deploy({ service: fn('gwe2e-gostyle'), image: image('echoit'), labels: null, annotations: null, envVars: null, secrets: null, constraints: null, limits: { memory: '128Mi', cpu: '100m' }, requests: { memory: '64Mi', cpu: null } });
    deployed.add(fn('gwe2e-gostyle'));
    expect(goStyle.status).toBe(202);
    const back = (await (await systemFetch(`/system/function/${fn('gwe2e-gostyle')}`)).json()) as { limits: unknown; requests: unknown; namespace: string };
    expect(back).toMatchObject({ limits: { memory: '128Mi', cpu: '100m' }, requests: { memory: '64Mi' }, namespace: 'openfaas-fn' });
  });
});
