// Namespaces and secrets on the real Swarm: two namespaces each with a
// function called echo, answering separately; a function in one namespace
// cannot open a connection to one in another; a secret read where OpenFaaS
// functions read it, rotated while its function is invoked (no failure);
// and the secrets a function may not name. Figures print as "[namespaces] ..." lines.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { docker, invoke, invokeLoop } from './support/functions.js';
import { fn, gatewayUrl, image, systemFetch, waitFor } from './support/gateway.js';

function report(line: string): void {
  process.stderr.write(`[namespaces] ${line}\n`);
}

const NS_A = 'e2e-team-a';
const NS_B = 'e2e-team-b';
const removals: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const remove of removals.reverse()) await remove().catch(() => undefined);
});

async function post(path: string, body: unknown, method = 'POST'): Promise<{ status: number; text: string }> {
  const res = await systemFetch(path, { method, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

async function deploy(body: Record<string, unknown>): Promise<void> {
  const res = await post('/system/functions', body);
  if (res.status !== 202) throw new Error(`deploy ${JSON.stringify(body)}: ${res.status} ${res.text}`);
  const qualified = body.namespace ? `${String(body.service)}.${String(body.namespace)}` : String(body.service);
  removals.push(() => post('/system/functions', { functionName: body.service, namespace: body.namespace ?? '' }, 'DELETE'));
  await waitFor(`${qualified} ready`, async () => {
    const res = await systemFetch(`/system/function/${qualified}`);
    return res.status === 200 && ((await res.json()) as { availableReplicas: number }).availableReplicas >= 1 ? true : undefined;
  }, 90_000, 250);
}

/** The task address of a function's first task on its namespace's network. */
async function taskAddress(service: string): Promise<string> {
  const ids = (await docker('service', 'ps', '-q', '--filter', 'desired-state=running', service)).split('\n').filter(Boolean);
  const attachments = JSON.parse(await docker('inspect', '--format', '{{json .NetworksAttachments}}', ids[0]!)) as Array<{ Network: { Spec: { Name: string } }; Addresses: string[] }>;
  const own = attachments.find((a) => !a.Network.Spec.Name.includes('ingress'))!;
  return own.Addresses[0]!.split('/')[0]!;
}

/** A function that tries to open http://<body>:8080/ and says what happened. */
const PROBE = `sh -c 'read ip; timeout 3 wget -q -O - --post-data probe http://$ip:8080/ 2>/dev/null && echo " reached" || echo unreachable'`;

describe('namespaces', () => {
  it('keeps two functions called echo apart, each in its own namespace, reachable only from its own', async () => {
    expect((await post(`/system/namespace/${NS_A}`, { labels: { team: 'a' } })).status).toBe(201);
    removals.push(() => systemFetch(`/system/namespace/${NS_A}`, { method: 'DELETE' }));
    expect((await post('/system/namespace', { name: NS_B, annotations: { note: 'b' } })).status).toBe(201);
    removals.push(() => systemFetch(`/system/namespace/${NS_B}`, { method: 'DELETE' }));
    const names = (await (await systemFetch('/system/namespaces')).json()) as string[];
    expect(names).toEqual(expect.arrayContaining(['openfaas-fn', NS_A, NS_B]));
    expect(names[0]).toBe('openfaas-fn');
    expect(await (await systemFetch(`/system/namespace/${NS_A}`)).json()).toEqual({ name: NS_A, labels: { team: 'a' }, annotations: {} });

    await deploy({ service: 'echo', namespace: NS_A, image: image('echoit'), envProcess: 'tr a-z A-Z' });
    await deploy({ service: 'echo', namespace: NS_B, image: image('echoit'), envProcess: 'rev' });
    expect((await invoke(`echo.${NS_A}`, 'hello')).text).toBe('HELLO');
    expect((await invoke(`echo.${NS_B}`, 'hello')).text.trim()).toBe('olleh');
    // The CLI's spelling, and ?namespace= on list and get.
    const listA = (await (await systemFetch(`/system/functions?namespace=${NS_A}`)).json()) as Array<{ name: string; namespace: string }>;
    expect(listA.map((f) => `${f.name}.${f.namespace}`)).toEqual([`echo.${NS_A}`]);
    expect((await (await systemFetch(`/system/function/echo?namespace=${NS_B}`)).json()) as { envProcess: string }).toMatchObject({ envProcess: 'rev' });
    expect((await systemFetch('/system/functions')).status).toBe(200);
    expect(((await (await systemFetch('/system/functions')).json()) as Array<{ name: string }>).some((f) => f.name === 'echo')).toBe(false);

    await deploy({ service: 'probe', namespace: NS_A, image: image('echoit'), envProcess: PROBE });
    await deploy({ service: fn('nsprobe'), image: image('echoit'), envProcess: PROBE });
    const echoA = await taskAddress(`${NS_A}--echo`);
    const echoB = await taskAddress(`${NS_B}--echo`);
    const sameNamespace = (await invoke(`probe.${NS_A}`, echoA)).text.trim();
    const otherNamespace = (await invoke(`probe.${NS_A}`, echoB)).text.trim();
    const fromDefault = (await invoke(fn('nsprobe'), echoA)).text.trim();
    report(`from a function in ${NS_A}: to echo in ${NS_A} "${sameNamespace}", to echo in ${NS_B} "${otherNamespace}"; from the default namespace to ${NS_A}: "${fromDefault}"`);
    expect(sameNamespace).toBe('PROBE reached');
    expect(otherNamespace).toBe('unreachable');
    expect(fromDefault).toBe('unreachable');
  });

  it('scales and rolls a function in a namespace like one in the default namespace (every new task gets an address of its own)', async () => {
    // Tasks made after the gateway joined the namespace used to be handed the
    // gateway's own address there ("Address already in use").
    expect((await post('/system/scale-function/echo', { serviceName: 'echo', namespace: NS_A, replicas: 3 })).status).toBeLessThan(300);
    await waitFor(`echo.${NS_A} at 3 replicas`, async () => {
      const status = (await (await systemFetch(`/system/function/echo.${NS_A}`)).json()) as { availableReplicas: number };
      return status.availableReplicas === 3 ? true : undefined;
    }, 60_000, 250);
    const update = await post('/system/functions', { service: 'echo', namespace: NS_A, image: image('echoit'), envProcess: 'rev' }, 'PUT');
    expect(update.status).toBe(202);
    const started = Date.now();
    await waitFor(`echo.${NS_A} rolled onto the new process`, async () => {
      const answers = await Promise.all(Array.from({ length: 6 }, () => invoke(`echo.${NS_A}`, 'abc')));
      return answers.every((a) => a.text.trim() === 'cba') ? true : undefined;
    }, 90_000, 500);
    const failed = (await docker('service', 'ps', '--format', '{{.Error}}', `${NS_A}--echo`)).split('\n').filter((e) => e.trim());
    report(`echo.${NS_A}: scaled to 3 and rolled in ${((Date.now() - started) / 1000).toFixed(1)} s; task errors: ${failed.length ? failed.join('; ') : 'none'}`);
    expect(failed).toEqual([]);
  });

  it('refuses to delete a namespace while it holds functions, and deletes it once empty', async () => {
    const refused = await systemFetch(`/system/namespace/${NS_B}`, { method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toMatch(/still holds functions: .*echo/);
    expect((await post('/system/functions', { functionName: 'echo', namespace: NS_B }, 'DELETE')).status).toBe(202);
    await waitFor('echo gone from the namespace', async () => ((await systemFetch(`/system/function/echo.${NS_B}`)).status === 404 ? true : undefined));
    expect((await systemFetch(`/system/namespace/${NS_B}`, { method: 'DELETE' })).status).toBe(202);
    expect((await systemFetch('/system/namespaces').then((r) => r.json())) as string[]).not.toContain(NS_B);
    expect((await invoke(`echo.${NS_B}`, 'x')).status).toBe(404);
    expect((await post('/system/functions', { service: 'late', namespace: NS_B, image: image('echoit') })).status).toBe(400);
    // Created again, it holds functions again (on a network of its own).
    expect((await post(`/system/namespace/${NS_B}`, {})).status).toBe(201);
    await deploy({ service: 'again', namespace: NS_B, image: image('echoit'), envProcess: 'rev' });
    expect((await invoke(`again.${NS_B}`, 'xyz')).text.trim()).toBe('zyx');
    expect((await post('/system/functions', { functionName: 'again', namespace: NS_B }, 'DELETE')).status).toBe(202);
    await waitFor('again gone', async () => ((await systemFetch(`/system/function/again.${NS_B}`)).status === 404 ? true : undefined));
    expect((await systemFetch(`/system/namespace/${NS_B}`, { method: 'DELETE' })).status).toBe(202);
  });
});

describe('secrets', () => {
  const secret = 'e2e-api-key';
  const reader = fn('secretreader');

  it('is read where OpenFaaS functions read it, changes with no failed invocation, and is never listed with its value', async () => {
    expect((await post('/system/secrets', { name: secret, value: 'first value' })).status).toBe(201);
    removals.push(() => systemFetch('/system/secrets', { method: 'DELETE', body: JSON.stringify({ name: secret }) }));
    const listed = await (await systemFetch('/system/secrets')).text();
    expect(JSON.parse(listed)).toEqual(expect.arrayContaining([{ name: secret, namespace: 'openfaas-fn' }]));
    expect(listed).not.toContain('first value');

    await deploy({
      service: reader,
      image: image('echoit'),
      secrets: [secret],
      envProcess: `sh -c 'cat /var/openfaas/secrets/${secret}; printf " | "; cat /run/secrets/${secret}'`,
      labels: { 'com.openfaas.scale.min': '2', 'com.openfaas.scale.factor': '0' },
    });
    expect((await invoke(reader, '')).text).toBe('first value | first value');

    // Rotate while two clients keep invoking it (bounded).
    let rotated = false;
    const load = invokeLoop(reader, { workers: 2, maxRequests: 3_000, maxMs: 60_000, pauseMs: 20, stop: () => rotated });
    await new Promise((r) => setTimeout(r, 1_000));
    const changedAt = Date.now();
    expect((await post('/system/secrets', { name: secret, value: 'second value' }, 'PUT')).status).toBe(202);
    await waitFor('every task reading the new value', async () => {
      const answers = await Promise.all(Array.from({ length: 6 }, () => invoke(reader, '')));
      return answers.every((a) => a.text === 'second value | second value') ? true : undefined;
    }, 90_000, 500);
    const rolledMs = Date.now() - changedAt;
    rotated = true;
    const answers = await load;
    const failed = answers.filter((a) => a.status !== 200);
    const slowest = Math.max(...answers.map((a) => a.ms));
    report(`secret rotated under load: ${answers.length} invocations, ${failed.length} failed, slowest ${slowest} ms; every task read the new value ${(rolledMs / 1000).toFixed(1)} s after PUT`);
    expect(failed).toEqual([]);
  });

  it('refuses to delete a secret in use, naming the function', async () => {
    const res = await systemFetch('/system/secrets', { method: 'DELETE', body: JSON.stringify({ name: secret }) });
    expect(res.status).toBe(409);
    expect(await res.text()).toContain(reader);
  });

  it('cannot be any other secret of the swarm: the stack\'s own credentials are not mountable', async () => {
    const stackSecret = `${inject('stackName')}_basic-auth-password`;
    const res = await post('/system/functions', { service: fn('thief'), image: image('echoit'), secrets: [stackSecret], envProcess: `cat /run/secrets/${stackSecret}` });
    report(`deploy naming the stack's password secret ${stackSecret}: ${res.status} ${res.text}`);
    expect(res.status).toBe(400);
    expect(res.text).toMatch(new RegExp(`secrets: no secret named ${stackSecret}`));
    expect((await fetch(gatewayUrl(`/function/${fn('thief')}`), { method: 'POST' })).status).toBe(404);
  });
});
