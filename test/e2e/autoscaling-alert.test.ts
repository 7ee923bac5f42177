// POST /system/alert on the deployed stack with payloads recorded from
// AlertManager 0.25 (test/e2e/fixtures/alertmanager-*.json): firing, repeated,
// resolved, several functions in one payload, non-functions, malformed.
// The replicas are read back from the gateway (Swarm's desired count).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { alertFixture, functionState, gatewayLogs } from './support/scaling.js';
import { fn, systemFetch, waitFor } from './support/gateway.js';

const run = promisify(execFile);
const echoit = fn('echoit');
const markdown = fn('markdown');

interface Outcome {
  function?: string;
  action: string;
  from?: number;
  to?: number;
  reason: string;
}

async function postAlert(fixture: string): Promise<{ status: number; outcomes: Outcome[]; text: string }> {
  const res = await systemFetch('/system/alert', { method: 'POST', body: alertFixture(fixture) });
  const text = await res.text();
  let outcomes: Outcome[] = [];
  try {
    outcomes = (JSON.parse(text) as { outcomes: Outcome[] }).outcomes;
  } catch {
    // not JSON: an error message
  }
  return { status: res.status, outcomes, text };
}

async function serviceReplicas(service: string): Promise<number> {
  const { stdout } = await run('docker', ['service', 'inspect', service, '--format', '{{.Spec.Mode.Replicated.Replicas}}']);
  return Number(stdout.trim());
}

describe('POST /system/alert with recorded AlertManager payloads', () => {
  beforeAll(async () => {
    // An earlier suite's load on echoit may have fired the stack's real alert: its resolution brings echoit back to 1.
    await waitFor(`${echoit} at 1 replica`, async () => ((await functionState(echoit)).replicas === 1 ? true : undefined), 90_000, 500);
  }, 100_000);

  afterAll(async () => {
    // Leave the stack as found, whatever happened above.
    await postAlert('several-firing').catch(() => undefined);
    await postAlert('resolved').catch(() => undefined);
    for (const name of [echoit, markdown]) {
      await systemFetch(`/system/scale-function/${name}`, { method: 'POST', body: JSON.stringify({ replicas: 1 }) }).catch(() => undefined);
    }
  });

  it('needs the credentials, like every /system route', async () => {
    const res = await fetch(`${inject('gatewayUrl')}/system/alert`, { method: 'POST', body: alertFixture('firing') });
    expect(res.status).toBe(401);
    expect((await functionState(echoit)).replicas).toBe(1);
  });

  it('steps echoit 1 -> 5 on firing; a repeated delivery does not step again; resolved brings it back to 1', async () => {
    expect((await functionState(echoit)).replicas).toBe(1);
    const firing = await postAlert('firing');
    expect(firing.status, firing.text).toBe(200);
    expect(firing.outcomes).toEqual([expect.objectContaining({ function: echoit, action: 'scaled', from: 1, to: 5 })]);
    expect(await serviceReplicas(echoit)).toBe(5);
    expect((await functionState(echoit)).replicas).toBe(5);

    const repeated = await postAlert('firing');
    expect(repeated.status).toBe(200);
    expect(repeated.outcomes[0]).toMatchObject({ action: 'unchanged' });
    expect(await serviceReplicas(echoit)).toBe(5);

    const resolved = await postAlert('resolved');
    expect(resolved.status).toBe(200);
    expect(resolved.outcomes).toEqual([expect.objectContaining({ function: echoit, action: 'scaled', from: 5, to: 1 })]);
    expect(await serviceReplicas(echoit)).toBe(1);

    const resolvedAgain = await postAlert('resolved');
    expect(resolvedAgain.status).toBe(200);
    expect(await serviceReplicas(echoit)).toBe(1);
  });

  it('scales every function named in one payload and ignores the rest with a log line', async () => {
    const since = new Date(Date.now() - 1000);
    const stack = inject('stackName');
    const res = await postAlert('several-firing');
    expect(res.status, res.text).toBe(200);
    const byName = Object.fromEntries(res.outcomes.map((o) => [o.function, o]));
    expect(byName[echoit]).toMatchObject({ action: 'scaled', to: 5 });
    expect(byName[markdown]).toMatchObject({ action: 'scaled', to: 5 });
    // A real service of the stack that is not a function, and a name nobody uses.
    expect(byName[`${stack}_prometheus`]).toMatchObject({ action: 'ignored' });
    expect(byName[`${stack}_nosuch`]).toMatchObject({ action: 'ignored' });
    expect(await serviceReplicas(`${stack}_prometheus`)).toBe(1);
    expect(await serviceReplicas(echoit)).toBe(5);
    expect(await serviceReplicas(markdown)).toBe(5);
    const logs = await waitFor('the gateway to log the ignored alerts', async () => {
      const text = await gatewayLogs(since);
      return text.includes(`${stack}_prometheus, which is not a function`) && text.includes(`${stack}_nosuch, which is not a function`) ? text : undefined;
    }, 20_000, 1000);
    expect(logs).toMatch(/scaled .*_echoit up from 1 to 5 replicas/);

    // Next notification of the same group: echoit resolved, markdown still firing (a repeat within the cooldown).
    const mixed = await postAlert('several-mixed');
    expect(mixed.status).toBe(200);
    expect(await serviceReplicas(echoit)).toBe(1);
    expect(await serviceReplicas(markdown)).toBe(5);
  });

  it('ignores an alert that names no function (service_down)', async () => {
    const res = await postAlert('service-down');
    expect(res.status).toBe(200);
    expect(res.outcomes).toEqual([expect.objectContaining({ action: 'ignored', reason: 'no function_name label' })]);
  });

  it('refuses a malformed payload with 400 and changes nothing', async () => {
    const before = await serviceReplicas(markdown);
    const res = await postAlert('malformed');
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/invalid request: alerts/);
    const notJson = await systemFetch('/system/alert', { method: 'POST', body: '{"alerts": [' });
    expect(notJson.status).toBe(400);
    expect(await serviceReplicas(markdown)).toBe(before);
  });
});
