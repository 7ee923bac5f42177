// The UI's memory, in the real chromium against the deployed stack: a
// function's chart during and after the original demo's load (history from
// Prometheus through the gateway, not only what the page saw), the window
// choices, the list's sparklines, the overview page, and what the pages do
// while Prometheus is stopped. The screenshot of the function page during the
// demo is written to docs/images/function-page.png for the README.
import { readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { paceLoad, type LoadResult } from './support/scaling.js';
import { openBrowser, screenshot, watchProblems, type BrowserSession, type PageProblems } from './support/browser.js';
import { docker } from './support/docker.js';
import { fn, gatewayUrl, image, listFunctions, monitoringFetch, systemFetch, waitFor } from './support/gateway.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/ui-history/', import.meta.url));
const DOCS_IMAGES = fileURLToPath(new URL('../../docs/images/', import.meta.url));
/** At most 4 replicas: the demo's scale-up without starting 20 tasks on a shared two-core machine. */
const MAX_REPLICAS = 4;
/** The demo's load, paced: well above the alert's 5 req/s, bounded in time. */
const LOAD_RATE = 20;
const LOAD_SECONDS = 75;
/** How long into the load the README's picture is taken. */
const SCREENSHOT_AFTER_MS = 45_000;

const demo = () => fn('uidemo');
const problems: PageProblems = { pageErrors: [], cspViolations: [] };
const sessions: BrowserSession[] = [];
let load: LoadResult | undefined;

/** Another tab of the first browser (cheaper than a second chromium while the load runs). */
async function tab(): Promise<Page> {
  const first = sessions[0];
  if (!first) return browser();
  const page = await first.context.newPage();
  await watchProblems(page, problems);
  return page;
}

async function browser(): Promise<Page> {
  const [username, ...rest] = inject('credentials').split(':');
  const session = await openBrowser({ httpCredentials: { username: username!, password: rest.join(':') } });
  sessions.push(session);
  await watchProblems(session.page, problems);
  return session.page;
}

/** When the running test fails: a screenshot of every page open, and what each shows at its address. */
function failureShot(_page: () => Page | undefined, name: string): void {
  onTestFailed(async () => {
    for (const [i, p] of sessions.flatMap((session) => session.context.pages()).entries()) {
      await screenshot(p, ARTIFACTS, `FAILED-${name}-${i}`).catch(() => undefined);
      console.info(`[ui] FAILED-${name}-${i}: ${p.url()} h1=${await p.locator('h1').first().textContent({ timeout: 1000 }).catch(() => '(none)')}`);
    }
  });
}

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).first().textContent({ timeout: 5_000 }).catch(() => '')) ?? '').trim();
}

async function replicas(name: string): Promise<{ replicas: number; availableReplicas: number }> {
  const res = await systemFetch(`/system/function/${name}`);
  if (res.status !== 200) throw new Error(`GET /system/function/${name} answered ${res.status}`);
  return (await res.json()) as { replicas: number; availableReplicas: number };
}

async function openFunction(page: Page, name: string): Promise<void> {
  await page.goto(gatewayUrl(`/ui/#/fn/${encodeURIComponent(name)}`));
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

const chart = (page: Page) => page.locator('svg.chart');

/** The overview's view of the stack, through the gateway (works whether or not Prometheus' port is published). */
async function overview(): Promise<{ prometheus: { up: boolean; gatewayTargets?: Array<{ health: string }> } }> {
  return (await (await systemFetch('/system/overview')).json()) as { prometheus: { up: boolean; gatewayTargets?: Array<{ health: string }> } };
}

async function prometheusScrapesGateway(): Promise<boolean> {
  const o = await overview();
  return o.prometheus.up && (o.prometheus.gatewayTargets ?? []).some((t) => t.health === 'up');
}

describe('the UI remembers: history from Prometheus', () => {
  beforeAll(async () => {
    await rm(ARTIFACTS, { recursive: true, force: true });
    await systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: demo() }) });
    await waitFor('a removed uidemo to be gone', async () => ((await systemFetch(`/system/function/${demo()}`)).status === 404 ? true : undefined), 60_000);
    const res = await systemFetch('/system/functions', {
      method: 'POST',
      body: JSON.stringify({ service: demo(), image: image('echoit'), labels: { 'com.openfaas.scale.max': String(MAX_REPLICAS) } }),
    });
    expect(res.status).toBe(202);
    await waitFor('uidemo to answer', async () => {
      const answer = await fetch(gatewayUrl(`/function/${demo()}`), { method: 'POST', body: 'ready?' });
      return answer.status === 200 && (await answer.text()) === 'ready?' ? true : undefined;
    }, 120_000, 1000);
    // Prometheus must have scraped the new function before the load, so the load's rate has a base.
    await waitFor('Prometheus to scrape the gateway', async () => ((await prometheusScrapesGateway()) ? true : undefined), 60_000, 1000);
    await new Promise((resolve) => setTimeout(resolve, 6_000));
  });

  afterAll(async () => {
    for (const s of sessions) await s.close();
    await systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: demo() }) }).catch(() => undefined);
  });

  let livePage: Page | undefined;

  it('charts the original demo live: the load, the alert, the scale-up and its marker (screenshot for the README)', async () => {
    failureShot(() => livePage, 'demo-live');
    livePage = await browser();
    await openFunction(livePage, demo());
    await livePage.getByRole('radio', { name: '5 min', exact: true }).click();
    await expect.poll(() => chart(livePage!).getAttribute('data-history-window'), { timeout: 20_000 }).toBe('5m');

    const stop = new AbortController();
    const running = paceLoad(demo(), LOAD_RATE, LOAD_SECONDS, { stop: stop.signal, maxInFlight: 8 });
    const started = Date.now();
    try {
      await waitFor('uidemo to be scaled up by the alert', async () => ((await replicas(demo())).replicas === MAX_REPLICAS ? true : undefined), 45_000, 500);
      const scaledAfter = (Date.now() - started) / 1000;
      // The page saw it: the desired line steps up and a marker says so.
      await expect.poll(() => chart(livePage!).locator('path.replicas-desired').getAttribute('data-values'), { timeout: 10_000 }).toMatch(new RegExp(`1,${MAX_REPLICAS}$`));
      await expect.poll(() => chart(livePage!).locator('g.marker[data-kind="up"]').count(), { timeout: 10_000 }).toBeGreaterThan(0);
      await waitFor('every replica of uidemo to be ready', async () => ((await replicas(demo())).availableReplicas === MAX_REPLICAS ? true : undefined), 60_000, 500);
      await expect.poll(() => chart(livePage!).locator('path.replicas-available').getAttribute('data-values'), { timeout: 10_000 }).toMatch(new RegExp(`${MAX_REPLICAS}$`));

      // The overview lists the alert that did it, from AlertManager through the gateway.
      const overviewPage = await tab();
      await overviewPage.goto(gatewayUrl('/ui/#/overview'));
      await overviewPage.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      const alert = overviewPage.locator(`li[data-alert="APIHighInvocationRate"][data-function="${demo()}"]`);
      await alert.waitFor({ timeout: 30_000 });
      expect(await alert.textContent()).toContain(`High invocation rate on ${demo()}`);
      await screenshot(overviewPage, ARTIFACTS, 'overview-during-load');

      // The picture of the demo: the load well under way, at the new size for a while.
      const ranFor = Date.now() - started;
      if (ranFor < SCREENSHOT_AFTER_MS) await new Promise((resolve) => setTimeout(resolve, SCREENSHOT_AFTER_MS - ranFor));
      await livePage.bringToFront();
      await livePage.evaluate('window.scrollTo(0, 0)');
      const file = await screenshot(livePage, DOCS_IMAGES, 'function-page');
      console.info(`[ui] the demo's load scaled ${demo()} to ${MAX_REPLICAS} after ${scaledAfter.toFixed(1)} s; screenshot ${file}`);
    } finally {
      stop.abort();
      load = await running;
    }
    console.info(`[ui] load: ${load.sent} requests in ${load.seconds.toFixed(1)} s, ${load.ok} answered, failures ${JSON.stringify(load.failures)}`);
    expect(load.ok).toBeGreaterThan(LOAD_RATE * 10);
  });

  let historyPage: Page | undefined;

  it('shows the load on the chart of a page opened afterwards (history, not only live), with the scale events', async () => {
    failureShot(() => historyPage, 'history');
    expect(load, 'the load of the previous test ran').toBeDefined();
    // The alert resolves after the load: back to 1.
    await waitFor('uidemo to be scaled back down', async () => ((await replicas(demo())).replicas === 1 ? true : undefined), 90_000, 1000);
    // Prometheus sees the scale-down at its next scrape.
    await new Promise((resolve) => setTimeout(resolve, 8_000));

    // A new browser: nothing seen live before this moment.
    historyPage = await browser();
    await openFunction(historyPage, demo());
    const svg = chart(historyPage);
    await expect.poll(() => svg.getAttribute('data-history-window'), { timeout: 20_000 }).toBe('15m');
    expect(await svg.getAttribute('data-history')).toBe('loaded');
    expect(Number(await svg.getAttribute('data-history-points'))).toBeGreaterThan(5);
    // The load ran at 20 req/s: its rate is there, from before the page was opened.
    const peak = Number(await svg.getAttribute('data-history-peak-rate'));
    expect(peak).toBeGreaterThan(LOAD_RATE / 2);
    expect(peak).toBeLessThan(LOAD_RATE * 1.5);
    expect(await svg.getAttribute('data-history-replicas')).toMatch(new RegExp(`(^|,)1,${MAX_REPLICAS}(,\\d+)*,1$`));
    // Both scale events, counted by the gateway and read from Prometheus.
    expect(await svg.locator('g.marker[data-kind="up"]').count()).toBeGreaterThan(0);
    expect(await svg.locator('g.marker[data-kind="down"]').count()).toBeGreaterThan(0);
    const changes = await text(historyPage, 'ol.events');
    expect(changes).toContain('Scaled up');
    expect(changes).toContain('Scaled down');
    // The mean duration panel has the load's durations.
    expect(await svg.locator('path.duration-line').getAttribute('d')).toMatch(/^M/);
    expect(await text(historyPage, '[data-testid="history-status"]')).toBe('');
    await screenshot(historyPage, ARTIFACTS, 'history-after-load');
    console.info(`[ui] history after the load: peak ${peak.toFixed(1)} req/s, replicas ${await svg.getAttribute('data-history-replicas')}`);
  });

  it('changes the chart range with the window choices', async () => {
    failureShot(() => historyPage, 'windows');
    const page = historyPage!;
    const svg = chart(page);
    const asked: string[] = [];
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname === `/system/function/${demo()}/history`) asked.push(url.searchParams.get('window') ?? '');
    });
    for (const [label, window, seconds, leftLabel] of [
      ['5 min', '5m', 300, '-5m'],
      ['1 h', '1h', 3600, '-1h'],
      ['6 h', '6h', 21600, '-6h'],
      ['24 h', '24h', 86400, '-24h'],
      ['15 min', '15m', 900, '-15m'],
    ] as const) {
      await page.getByRole('radio', { name: label, exact: true }).click();
      await expect.poll(() => svg.getAttribute('data-history-window'), { timeout: 20_000 }).toBe(window);
      expect(await svg.getAttribute('data-span')).toBe(String(seconds));
      expect(await page.getByRole('radio', { name: label, exact: true }).getAttribute('aria-checked')).toBe('true');
      const timeLabels = await svg.locator('text.axis-time').allTextContents();
      expect(timeLabels.at(-1)).toBe(leftLabel);
      expect(timeLabels[0]).toBe('now');
      // The load is inside every window.
      expect(Number(await svg.getAttribute('data-history-peak-rate'))).toBeGreaterThan(0);
      await screenshot(page, ARTIFACTS, `window-${window}`);
    }
    expect(asked).toEqual(expect.arrayContaining(['5m', '1h', '6h', '24h', '15m']));
  });

  it("shows each function's last 15 minutes in the list, from one history request for all", async () => {
    const page = await browser();
    failureShot(() => page, 'list-sparklines');
    const historyRequests: string[] = [];
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (path.endsWith('/history')) historyRequests.push(path);
    });
    await page.goto(gatewayUrl('/ui/'));
    const row = page.locator(`tr[data-function="${demo()}"]`);
    await row.waitFor({ timeout: 30_000 });
    const spark = row.locator('svg.spark');
    await expect.poll(async () => Number(await spark.getAttribute('data-history-points')), { timeout: 20_000 }).toBeGreaterThan(5);
    expect(Number(await spark.getAttribute('data-peak-rate'))).toBeGreaterThan(LOAD_RATE / 2);
    const rows = await page.locator('tr[data-function]').count();
    expect(rows).toBe((await listFunctions()).length);
    expect(historyRequests).toEqual(['/system/functions/history']);
    await screenshot(page, ARTIFACTS, 'list-sparklines');
  });

  it('lists every function with its numbers on the overview page, and the health of the stack', async () => {
    const page = await browser();
    failureShot(() => page, 'overview');
    await page.goto(gatewayUrl('/ui/#/overview'));
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    const functions = await listFunctions();
    expect(functions.length).toBeGreaterThan(5);
    for (const f of functions) {
      const row = page.locator(`tr[data-function="${f.name}"]`);
      await row.waitFor({ timeout: 30_000 });
      await expect.poll(async () => ((await row.locator('[data-testid="replicas"]').textContent()) ?? '').trim(), { timeout: 15_000 }).toBe(`${f.availableReplicas} / ${f.replicas}`);
      expect(Number(((await row.locator('[data-testid="invocations"]').textContent()) ?? '').replace(/,/g, ''))).toBeGreaterThanOrEqual(f.invocationCount);
      // Numbers once the page has polled twice and read the history.
      for (const cell of ['rate-now', 'rate-mean', 'rate-peak', 'replicas-peak']) {
        await expect.poll(async () => ((await row.locator(`[data-testid="${cell}"]`).textContent()) ?? '').trim(), { timeout: 20_000 }).toMatch(/^\d/);
      }
      expect(await row.locator('svg.spark path.spark-replicas').count()).toBe(1);
    }
    const demoRow = page.locator(`tr[data-function="${demo()}"]`);
    await expect.poll(async () => Number(await demoRow.locator('[data-testid="rate-peak"]').textContent()), { timeout: 20_000 }).toBeGreaterThan(LOAD_RATE / 2);
    expect(((await demoRow.locator('[data-testid="replicas-peak"]').textContent()) ?? '').trim()).toBe(String(MAX_REPLICAS));
    expect(((await demoRow.locator('[data-testid="duration-mean"]').textContent()) ?? '').trim()).toMatch(/^\d+(\.\d+)? (ms|s)$/);

    for (const [service, url] of [
      ['Gateway', new URL(gatewayUrl()).origin],
      ['Prometheus', 'http://prometheus:9090'],
      ['AlertManager', 'http://alertmanager:9093'],
    ]) {
      const card = page.locator(`[data-service="${service}"]`);
      await expect.poll(() => card.locator('[data-testid="health-state"]').textContent(), { timeout: 15_000 }).toBe('up');
      expect(await card.locator('[data-testid="health-url"]').textContent()).toBe(url);
    }
    await screenshot(page, ARTIFACTS, 'overview');
  });

  it("runs every query of the Grafana dashboard on the stack's Prometheus, finding the demo's series", async () => {
    const dashboard = JSON.parse(await readFile(new URL('../../grafana/swarm-faas-dashboard.json', import.meta.url), 'utf8')) as {
      panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
      annotations: { list: Array<{ expr?: string }> };
    };
    const queries = [...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr }))), ...dashboard.annotations.list.flatMap((a) => (a.expr ? [{ title: 'annotation', expr: a.expr }] : []))];
    expect(queries.length).toBeGreaterThan(10);
    const empty: string[] = [];
    for (const { title, expr } of queries) {
      // Grafana's variables as Grafana would fill them in for the last 15 minutes.
      const query = expr.replaceAll('$function', demo()).replaceAll('$__rate_interval', '20s').replaceAll('$__range', '15m');
      const res = await monitoringFetch('prometheus', `/api/v1/query_range?${new URLSearchParams({ query, start: String(Date.now() / 1000 - 900), end: String(Date.now() / 1000), step: '15' })}`);
      const body = (await res.json()) as { status: string; error?: string; data?: { result: unknown[] } };
      expect(body.status, `${title}: ${query}: ${body.error ?? ''}`).toBe('success');
      if ((body.data?.result.length ?? 0) === 0) empty.push(`${title}: ${query}`);
    }
    // The error ratio has no series while every answer is 200; everything else has data after the load.
    expect(empty.filter((q) => !q.includes('code!~'))).toEqual([]);
  });

  it('says so while Prometheus is stopped, keeps the live part going, and shows the history again once it is back', async () => {
    const page = await browser();
    failureShot(() => page, 'prometheus-down');
    const prometheus = `${inject('stackName')}_prometheus`;
    await openFunction(page, demo());
    const svg = chart(page);
    await expect.poll(() => svg.getAttribute('data-history'), { timeout: 20_000 }).toBe('loaded');
    const overviewPage = await browser();
    await overviewPage.goto(gatewayUrl('/ui/#/overview'));
    const promCard = overviewPage.locator('[data-service="Prometheus"]');
    try {
      await docker('service', 'scale', '--detach', `${prometheus}=0`);
      const status = page.getByTestId('history-status');
      await expect.poll(() => status.textContent(), { timeout: 40_000 }).toMatch(/^History unavailable: Prometheus at http:\/\/prometheus:9090 did not answer/);
      expect(await svg.getAttribute('data-history')).toBe('none');
      await expect.poll(() => promCard.locator('[data-testid="health-state"]').textContent(), { timeout: 30_000 }).toBe('down');
      console.info(`[ui] with Prometheus stopped the page says: ${await status.textContent()}`);

      // Live: invocations made now show up on the page within a few polls.
      const before = Number(((await page.getByTestId('invocations').textContent()) ?? '').replace(/,/g, ''));
      for (let i = 0; i < 10; i++) expect((await fetch(gatewayUrl(`/function/${demo()}`), { method: 'POST', body: 'live' })).status).toBe(200);
      await expect.poll(async () => Number(((await page.getByTestId('invocations').textContent()) ?? '').replace(/,/g, '')), { timeout: 10_000 }).toBeGreaterThanOrEqual(before + 10);
      expect(await svg.locator('path.rate-line').getAttribute('d')).toMatch(/^M/);
      expect(((await page.locator('#live').textContent()) ?? '').trim()).toMatch(/^Live/);
      await screenshot(page, ARTIFACTS, 'prometheus-down');
      await screenshot(overviewPage, ARTIFACTS, 'overview-prometheus-down');
    } finally {
      await docker('service', 'scale', '--detach', `${prometheus}=1`);
      // Other suites need Prometheus: wait until it scrapes the gateway again.
      await waitFor('Prometheus to scrape the gateway again', async () => ((await prometheusScrapesGateway()) ? true : undefined), 120_000, 1000);
    }
    await expect.poll(() => svg.getAttribute('data-history'), { timeout: 40_000 }).toBe('loaded');
    expect(await page.getByTestId('history-status').isHidden()).toBe(true);
    await expect.poll(() => promCard.locator('[data-testid="health-state"]').textContent(), { timeout: 30_000 }).toBe('up');
  });

  it('raised no JavaScript error and no Content-Security-Policy violation on any page', () => {
    expect(problems.pageErrors).toEqual([]);
    expect(problems.cspViolations).toEqual([]);
  });
});
