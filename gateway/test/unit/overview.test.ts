// GET /system/overview against fake Prometheus and AlertManager servers: the
// stack's health and the firing alerts, also when either is down.
import { afterEach, describe, expect, it } from 'vitest';
import { status } from './support/fake-provider.js';
import { closedUrl, startFakeAlertManager, startFakePrometheus } from './support/fake-monitoring.js';
import { startGateway } from './support/test-gateway.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function gatewayWith(env: Record<string, string>) {
  const gw = await startGateway({ env });
  cleanups.push(() => gw.close());
  gw.provider.functions.set('func_echoit', status('func_echoit'));
  gw.provider.functions.set('func_markdown', status('func_markdown'));
  return gw;
}

describe('GET /system/overview', () => {
  it('reports every part up with its URL, the gateway targets Prometheus scrapes, and the firing alerts', async () => {
    const prometheus = await startFakePrometheus({
      targets: [
        { job: 'gateway', instance: '10.0.2.5:8080', health: 'up' },
        { job: 'prometheus', instance: 'localhost:9090', health: 'up' },
      ],
    });
    const alertmanager = await startFakeAlertManager([
      {
        labels: { alertname: 'APIHighInvocationRate', function_name: 'func_echoit', severity: 'major', service: 'gateway' },
        annotations: { summary: 'High invocation rate on func_echoit', description: '12.5 req/s' },
        startsAt: '2026-01-01T10:00:05Z',
      },
      { labels: { alertname: 'service_down', instance: '10.0.2.9:8080' }, startsAt: '2026-01-01T09:59:00Z' },
    ]);
    cleanups.push(() => prometheus.close(), () => alertmanager.close());
    const gw = await gatewayWith({ PROMETHEUS_URL: prometheus.url, ALERTMANAGER_URL: alertmanager.url });

    const res = await fetch(`${gw.url}/system/overview`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      gateway: { up: true, version: '0.0.0-test', functions: 2 },
      prometheus: { url: prometheus.url, up: true, gatewayTargets: [{ job: 'gateway', instance: '10.0.2.5:8080', health: 'up', lastError: '', lastScrape: '2026-01-01T00:00:00Z' }] },
      alertmanager: { url: alertmanager.url, up: true },
      alerts: [
        { name: 'service_down', state: 'active', startsAt: '2026-01-01T09:59:00Z', labels: { alertname: 'service_down', instance: '10.0.2.9:8080' }, annotations: {} },
        {
          name: 'APIHighInvocationRate',
          function: 'func_echoit',
          severity: 'major',
          state: 'active',
          startsAt: '2026-01-01T10:00:05Z',
          summary: 'High invocation rate on func_echoit',
          labels: { alertname: 'APIHighInvocationRate', function_name: 'func_echoit', severity: 'major', service: 'gateway' },
          annotations: { summary: 'High invocation rate on func_echoit', description: '12.5 req/s' },
        },
      ],
    });
    // Only what is firing: active, neither silenced nor inhibited.
    expect(alertmanager.queries.find((q) => q.path === '/api/v2/alerts')?.params).toEqual({ active: 'true', silenced: 'false', inhibited: 'false' });
  });

  it('says which part is down and why, with alerts null (unknown) when AlertManager cannot be asked, quickly', async () => {
    const prometheus = await startFakePrometheus({ ready: false, targets: [] });
    cleanups.push(() => prometheus.close());
    const amUrl = await closedUrl();
    const gw = await gatewayWith({ PROMETHEUS_URL: prometheus.url, ALERTMANAGER_URL: amUrl });
    const started = Date.now();
    const res = await fetch(`${gw.url}/system/overview`);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(body.prometheus).toMatchObject({ url: prometheus.url, up: false, error: `Prometheus at ${prometheus.url} answered 503: not ready` });
    expect(body.alertmanager).toMatchObject({ url: amUrl, up: false });
    expect(body.alertmanager.error).toMatch(new RegExp(`^AlertManager at ${amUrl} did not answer: ECONNREFUSED`));
    expect(body.alerts).toBeNull();
    expect(body.gateway).toEqual({ up: true, version: '0.0.0-test', functions: 2 });
  });

  it('is behind the gateway credentials', async () => {
    const gw = await startGateway({ env: { PROMETHEUS_URL: await closedUrl(), ALERTMANAGER_URL: await closedUrl() }, credentials: { user: 'admin', password: 'pw' } });
    cleanups.push(() => gw.close());
    expect((await fetch(`${gw.url}/system/overview`)).status).toBe(401);
  });
});
