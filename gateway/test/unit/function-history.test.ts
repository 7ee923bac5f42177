// GET /system/function/{name}/history and GET /system/functions/history
// against a fake Prometheus HTTP server: the range queries the gateway builds
// (a fixed set, the function's name escaped), and the JSON it answers.
import { afterEach, describe, expect, it } from 'vitest';
import { eventsOf, parseWindow, promString } from '../../src/programs/gateway/prometheus/history.js';
import { status } from './support/fake-provider.js';
import { closedUrl, startFakePrometheus, type FakePrometheusOptions, type MatrixSeries } from './support/fake-monitoring.js';
import { startGateway, type TestGateway } from './support/test-gateway.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(options: FakePrometheusOptions = {}, env: Record<string, string> = {}) {
  const prometheus = await startFakePrometheus(options);
  cleanups.push(() => prometheus.close());
  const gw: TestGateway = await startGateway({ env: { PROMETHEUS_URL: prometheus.url, ...env } });
  cleanups.push(() => gw.close());
  gw.provider.functions.set('func_echoit', status('func_echoit'));
  return { prometheus, gw };
}

/** Samples every `step` seconds from `start`, one value each. */
function samples(start: number, step: number, values: number[]): Array<[number, string]> {
  return values.map((v, i) => [start + i * step, String(v)]);
}

describe('GET /system/function/{name}/history', () => {
  it('asks Prometheus five range queries over the last 15 minutes, 10 s apart, by default', async () => {
    const { prometheus, gw } = await setup();
    const before = Math.floor(Date.now() / 1000);
    const res = await fetch(`${gw.url}/system/function/func_echoit/history`);
    expect(res.status).toBe(200);
    const ranges = prometheus.queries.filter((q) => q.path === '/api/v1/query_range');
    expect(ranges.map((q) => q.params.query).sort()).toEqual(
      [
        'sum by (code) (rate(gateway_function_invocation_total{function_name="func_echoit"}[20s]))',
        'sum(rate(gateway_functions_seconds_sum{function_name="func_echoit"}[20s])) / sum(rate(gateway_functions_seconds_count{function_name="func_echoit"}[20s]))',
        'max(gateway_service_count{function_name="func_echoit"})',
        'max(gateway_service_available_replicas{function_name="func_echoit"})',
        'sum by (event) (gateway_scaling_events_total{function_name="func_echoit"})',
      ].sort(),
    );
    for (const q of ranges) {
      const end = Number(q.params.end);
      expect(end).toBeGreaterThanOrEqual(before);
      expect(end).toBeLessThanOrEqual(before + 2);
      expect(end - Number(q.params.start)).toBe(900);
      expect(q.params.step).toBe('10');
    }
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it.each([
    ['5m', 300, 5, '20s'],
    ['15m', 900, 10, '20s'],
    ['1h', 3600, 30, '30s'],
    ['6h', 21600, 180, '180s'],
    ['24h', 86400, 600, '600s'],
  ])('window=%s spans %i s with a step of %i s and rates over %s', async (window, seconds, step, rateRange) => {
    const { prometheus, gw } = await setup();
    const res = await fetch(`${gw.url}/system/function/func_echoit/history?window=${window}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { window: string; start: number; end: number; step: number };
    expect(body.window).toBe(window);
    expect(body.end - body.start).toBe(seconds);
    expect(body.step).toBe(step);
    const rate = prometheus.queries.find((q) => q.params.query?.startsWith('sum by (code)'));
    expect(rate?.params.query).toContain(`[${rateRange}]`);
    expect(rate?.params.step).toBe(String(step));
  });

  it('answers rate by status code, mean duration, replicas, available replicas and scale events as [unix seconds, value] pairs', async () => {
    const t0 = Math.floor(Date.now() / 1000) - 600;
    const answers: Record<string, MatrixSeries[]> = {
      'sum by (code)': [
        { metric: { code: '200' }, values: samples(t0, 10, [0, 2.5, 12.345678901]) },
        { metric: { code: '500' }, values: samples(t0, 10, [0, 0.1, 0]) },
      ],
      'sum(rate(gateway_functions_seconds_sum': [{ metric: {}, values: [[t0, 'NaN'], [t0 + 10, '0.004'], [t0 + 20, '0.0052']] }],
      'max(gateway_service_count': [{ metric: {}, values: samples(t0, 10, [1, 5, 5]) }],
      'max(gateway_service_available_replicas': [{ metric: {}, values: samples(t0, 10, [1, 1, 5]) }],
      'sum by (event)': [
        { metric: { event: 'up' }, values: samples(t0, 10, [0, 1, 1]) },
        { metric: { event: 'down' }, values: samples(t0, 10, [0, 0, 0]) },
      ],
    };
    const { gw } = await setup({ series: (query) => Object.entries(answers).find(([prefix]) => query.startsWith(prefix))?.[1] ?? [] });
    const res = await fetch(`${gw.url}/system/function/func_echoit/history?window=15m`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({
      name: 'func_echoit',
      window: '15m',
      step: 10,
      rate: {
        '200': [[t0, 0], [t0 + 10, 2.5], [t0 + 20, 12.3457]],
        '500': [[t0, 0], [t0 + 10, 0.1], [t0 + 20, 0]],
      },
      // A step without invocations has no mean: no sample rather than NaN (JSON has none).
      duration: [[t0 + 10, 0.004], [t0 + 20, 0.0052]],
      replicas: [[t0, 1], [t0 + 10, 5], [t0 + 20, 5]],
      availableReplicas: [[t0, 1], [t0 + 10, 1], [t0 + 20, 5]],
      events: [{ time: t0 + 10, event: 'up', count: 1 }],
    });
  });

  it('leaves out what Prometheus holds from before the function was created (an older function of the same name)', async () => {
    const t0 = Math.floor(Date.now() / 1000) - 600;
    const { gw } = await setup({
      series: (query) => (query.startsWith('max(gateway_service_count') ? [{ metric: {}, values: samples(t0, 10, [3, 3, 1, 1]) }] : []),
    });
    gw.provider.functions.set('func_echoit', status('func_echoit', { createdAt: new Date((t0 + 20) * 1000).toISOString() }));
    const body = (await (await fetch(`${gw.url}/system/function/func_echoit/history`)).json()) as { replicas: unknown };
    expect(body.replicas).toEqual([[t0 + 20, 1], [t0 + 30, 1]]);
  });

  it('puts the function name into the queries only as an escaped label value', async () => {
    const { prometheus, gw } = await setup();
    // (An encoded backslash never reaches a route: the path normaliser refuses it.)
    const odd = 'fn"} or vector(1) #';
    gw.provider.functions.set(odd, status(odd));
    const res = await fetch(`${gw.url}/system/function/${encodeURIComponent(odd)}/history`);
    expect(res.status).toBe(200);
    const replicas = prometheus.queries.find((q) => q.params.query?.startsWith('max(gateway_service_count'));
    expect(replicas?.params.query).toBe('max(gateway_service_count{function_name="fn\\"} or vector(1) #"})');
  });

  it('refuses a window not on the list with 400 naming it and the choices, without asking Prometheus', async () => {
    const { prometheus, gw } = await setup();
    for (const [query, named] of [
      ['window=2h', '"2h"'],
      ['window=15m&window=1h', '2 values'],
      ['window=15', '"15"'],
    ] as const) {
      const res = await fetch(`${gw.url}/system/function/func_echoit/history?${query}`);
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(text).toContain(`invalid window ${named}`);
      expect(text).toContain('5m, 15m, 1h, 6h, 24h');
    }
    expect(prometheus.queries).toEqual([]);
  });

  it('answers 404 for an unknown function, without asking Prometheus', async () => {
    const { prometheus, gw } = await setup();
    const res = await fetch(`${gw.url}/system/function/func_nosuch/history`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('function func_nosuch not found');
    expect(prometheus.queries).toEqual([]);
  });

  it('answers 503 naming Prometheus and its URL when nothing listens there, at once', async () => {
    const url = await closedUrl();
    const gw = await startGateway({ env: { PROMETHEUS_URL: url } });
    cleanups.push(() => gw.close());
    gw.provider.functions.set('func_echoit', status('func_echoit'));
    const started = Date.now();
    const res = await fetch(`${gw.url}/system/function/func_echoit/history`);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(new RegExp(`^Prometheus at ${url} did not answer: ECONNREFUSED`));
  });

  it('answers 503 within the timeout when Prometheus hangs', async () => {
    const { gw } = await setup({ hang: true });
    const started = Date.now();
    const res = await fetch(`${gw.url}/system/function/func_echoit/history`);
    const took = Date.now() - started;
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('no answer within 3 s');
    expect(took).toBeGreaterThanOrEqual(2900);
    expect(took).toBeLessThan(4000);
  });

  it('answers 503 with what Prometheus said when it refuses the query', async () => {
    const { gw } = await setup({ failWith: { status: 422, error: 'query processing would load too many samples' } });
    const res = await fetch(`${gw.url}/system/function/func_echoit/history`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('answered 422 to /api/v1/query_range: query processing would load too many samples');
  });

  it('is behind the gateway credentials like the rest of /system', async () => {
    const prometheus = await startFakePrometheus();
    cleanups.push(() => prometheus.close());
    const gw = await startGateway({ env: { PROMETHEUS_URL: prometheus.url }, credentials: { user: 'admin', password: 'secret' } });
    cleanups.push(() => gw.close());
    gw.provider.functions.set('func_echoit', status('func_echoit'));
    expect((await fetch(`${gw.url}/system/function/func_echoit/history`)).status).toBe(401);
    expect((await fetch(`${gw.url}/system/functions/history`)).status).toBe(401);
    const auth = { authorization: `Basic ${Buffer.from('admin:secret').toString('base64')}` };
    expect((await fetch(`${gw.url}/system/function/func_echoit/history`, { headers: auth })).status).toBe(200);
    expect(prometheus.queries.length).toBeGreaterThan(0);
  });
});

describe('GET /system/functions/history', () => {
  it('asks four queries grouped by function and answers every function there is now, with empty lists where Prometheus has nothing', async () => {
    const t0 = Math.floor(Date.now() / 1000) - 600;
    const { prometheus, gw } = await setup({
      series: (query) => {
        if (query.startsWith('sum by (function_name) (rate(gateway_function_invocation_total'))
          return [
            { metric: { function_name: 'func_echoit' }, values: samples(t0, 10, [0, 4]) },
            // A function removed since: Prometheus still has it.
            { metric: { function_name: 'func_gone' }, values: samples(t0, 10, [1, 1]) },
          ];
        if (query.startsWith('max by (function_name) (gateway_service_count')) return [{ metric: { function_name: 'func_echoit' }, values: samples(t0, 10, [1, 2]) }];
        return [];
      },
    });
    gw.provider.functions.set('func_markdown', status('func_markdown'));
    const res = await fetch(`${gw.url}/system/functions/history?window=1h`);
    expect(res.status).toBe(200);
    expect(prometheus.queries.map((q) => q.params.query).sort()).toEqual(
      [
        'sum by (function_name) (rate(gateway_function_invocation_total[30s]))',
        'sum by (function_name) (rate(gateway_functions_seconds_sum[30s])) / sum by (function_name) (rate(gateway_functions_seconds_count[30s]))',
        'max by (function_name) (gateway_service_count)',
        'max by (function_name) (gateway_service_available_replicas)',
      ].sort(),
    );
    const body = (await res.json()) as { window: string; step: number; functions: Record<string, unknown> };
    expect(body.window).toBe('1h');
    expect(body.step).toBe(30);
    expect(body.functions).toEqual({
      func_echoit: { rate: [[t0, 0], [t0 + 10, 4]], duration: [], replicas: [[t0, 1], [t0 + 10, 2]], availableReplicas: [] },
      func_markdown: { rate: [], duration: [], replicas: [], availableReplicas: [] },
    });
  });

  it('refuses a bad window with 400 and answers 503 when Prometheus is down', async () => {
    const { gw } = await setup();
    const bad = await fetch(`${gw.url}/system/functions/history?window=1d`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('invalid window "1d"');
    const down = await startGateway({ env: { PROMETHEUS_URL: await closedUrl() } });
    cleanups.push(() => down.close());
    expect((await fetch(`${down.url}/system/functions/history`)).status).toBe(503);
  });
});

describe('history building blocks', () => {
  it('defaults the window to 15m and accepts only the listed ones', () => {
    expect(parseWindow(undefined)).toEqual({ ok: true, window: { name: '15m', seconds: 900, step: 10 } });
    expect(parseWindow('24h')).toEqual({ ok: true, window: { name: '24h', seconds: 86400, step: 600 } });
    expect(parseWindow('toString')).toMatchObject({ ok: false });
    expect(parseWindow('__proto__')).toMatchObject({ ok: false });
  });

  it('writes PromQL strings with escapes', () => {
    expect(promString('a"b\\c\n')).toBe('"a\\"b\\\\c\\n"');
  });

  it('reads events from counter steps: increases, a reset after a gateway restart, and a series born inside the window', () => {
    const range = { start: 1000, end: 1100, step: 10 };
    const events = eventsOf(
      [
        { metric: { event: 'up' }, values: [[1000, 2], [1010, 2], [1020, 4], [1030, 0], [1040, 1]] },
        { metric: { event: 'wake' }, values: [[1050, 1], [1060, 1]] },
        { metric: { event: 'zero' }, values: [[1000, 7], [1010, 7]] },
        { metric: { event: 'bogus' }, values: [[1000, 0], [1010, 5]] },
      ],
      range,
    );
    expect(events).toEqual([
      { time: 1020, event: 'up', count: 2 },
      { time: 1040, event: 'up', count: 1 },
      { time: 1050, event: 'wake', count: 1 },
    ]);
  });
});
