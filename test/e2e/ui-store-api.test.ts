// The UI's store, API and asynchronous-calls pages and a function's own API,
// in the real chromium against the deployed stack (the UI suites' stack):
// the API page lists every operation of /system/openapi.json and sends one
// with the signed-in credentials; a function that publishes an OpenAPI
// document gets its operations listed with try-it forms (and one whose
// document is no document says so); the store deploys a function from the
// built-in catalog and it answers; a catalog URL that does not answer, or
// answers something else, is reported while the built-in catalog stays; and
// script injected into a catalog and a function's document never runs.
// Screenshots of the new pages go to docs/images/ for the README.
import { mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { invokeFromPage, openBrowser, removeQuietly, screenshot, screenshotOnFailure, textOf, watchProblems, type BrowserSession, type PageProblems } from './support/browser.js';
import { fn, gatewayUrl, image, systemFetch, waitFor } from './support/gateway.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/ui-store-api/', import.meta.url));
const DOCS_IMAGES = fileURLToPath(new URL('../../docs/images/', import.meta.url));
const REPLICA_TIMEOUT = 90_000;

/** What injected markup would do if it ran or were parsed: set a flag, change the title. */
const INJECTED = `<img src=x onerror="window.__pwned='img'"><script>window.__pwned='script'</script>`;

/** A function (the watchdog, classic mode) that serves its OpenAPI document at /openapi.json and echoes method, path and body elsewhere. */
const apiFn = () => fn('uiopenapi');
/** echoit, claiming a document at /openapi.json: it answers the empty body it gets, which is no document. */
const badApiFn = () => fn('uiopenapibad');
/** A function that answers a store catalog (with script in it) for the gateway to read. */
const catalogFn = () => fn('uicatalog');
/** What the store deploys: the built-in catalog's wordcount... */
const STORE_ENTRY = 'wordcount';
/** ...under a name of the test stack's own (service names are the engine's: other stacks may deploy a "wordcount"). */
const storeDeployed = () => fn('storewc');

const FUNCTION_DOC = {
  openapi: '3.0.3',
  info: { title: 'Greeter', version: '1.0.0' },
  paths: {
    '/hello/{who}': {
      get: {
        summary: 'Greets someone',
        description: 'Answers with the method, the path and the query.',
        parameters: [
          { name: 'who', in: 'path', required: true, schema: { type: 'string' }, example: 'ada' },
          { name: 'loud', in: 'query', schema: { type: 'string' } },
        ],
        responses: { '200': { description: 'a greeting' } },
      },
    },
    '/evil': {
      get: {
        summary: `Injected ${INJECTED}`,
        description: `A link in the description <a href="javascript:window.__pwned='link'">click</a>`,
        parameters: [{ name: 'q', in: 'query', schema: { type: 'string' }, example: `"><svg onload="window.__pwned='param'">` }],
        responses: { '200': { description: `<b>bold</b>` } },
      },
    },
    '/echo': {
      post: {
        summary: 'Echoes the body',
        requestBody: { required: true, content: { 'text/plain': { schema: { type: 'string' }, example: 'hello from the document' } } },
        responses: { '200': { description: 'the body' } },
      },
    },
  },
};

const CATALOG = {
  version: '0.2.1',
  functions: [
    {
      title: `Evil ${INJECTED}`,
      name: 'evil',
      description: `Says <b>hello</b> ${INJECTED}`,
      author: `<script>window.__pwned='author'</script>`,
      images: { armhf: 'example/evil:1-armhf' },
      repo_url: "javascript:window.__pwned='repo'",
      icon: 'https://example.invalid/icon.png',
      labels: { '<i>label</i>': `<script>window.__pwned='label'</script>` },
    },
    { title: 'Echo (remote)', name: 'remote-echo', description: 'From the catalog a function serves.', images: { x86_64: image('echoit'), arm64: image('echoit'), armhf: image('echoit') } },
  ],
};

let session: BrowserSession;
let page: Page;
const problems: PageProblems = { pageErrors: [], cspViolations: [] };
const requested: string[] = [];

const step = (name: string): void => screenshotOnFailure(() => page, ARTIFACTS, name);
const text = textOf;
const remove = removeQuietly;

async function deploy(body: Record<string, unknown>): Promise<void> {
  const res = await systemFetch('/system/functions', { method: 'POST', body: JSON.stringify(body) });
  expect(res.status, await res.text()).toBe(202);
}

async function ready(name: string): Promise<void> {
  await waitFor(`${name} ready`, async () => {
    const res = await systemFetch(`/system/function/${name}`);
    return res.status === 200 && ((await res.json()) as { availableReplicas: number }).availableReplicas >= 1 ? true : undefined;
  }, REPLICA_TIMEOUT, 500);
  // A new task can take a moment to answer: wait for its first answer.
  await waitFor(`${name} answering`, async () => ((await fetch(gatewayUrl(`/function/${name}/openapi.json`))).status === 200 ? true : undefined), 60_000, 500);
}

const chooseStore = (url: string | null) => systemFetch('/system/store', { method: 'PUT', body: JSON.stringify({ url }) });

/** The README's picture of a page: what the window shows, from the top. */
async function docShot(name: string): Promise<void> {
  await expect.poll(() => text(page.locator('#live')), { timeout: 10_000 }).toMatch(/^Live/);
  await page.evaluate('window.scrollTo(0, 0)');
  await mkdir(DOCS_IMAGES, { recursive: true });
  await page.screenshot({ path: `${DOCS_IMAGES}${name}.png` });
}

/** Nothing injected ran: no flag, the title untouched. */
async function expectNothingRan(): Promise<void> {
  expect(await page.evaluate('window.__pwned')).toBeUndefined();
  expect(await page.title()).toMatch(/· SwarmFaaS$/);
}

describe('the store, API and asynchronous calls pages', () => {
  beforeAll(async () => {
    await rm(ARTIFACTS, { recursive: true, force: true });
    await Promise.all([remove(apiFn()), remove(badApiFn()), remove(catalogFn()), remove(storeDeployed())]);
    expect((await chooseStore(null)).status).toBe(200);
    await deploy({
      service: apiFn(),
      image: image('watchdog'),
      envProcess: `sh -c 'if [ "$Http_Path" = /openapi.json ]; then printf %s "$DOC"; else printf "%s %s %s|" "$Http_Method" "$Http_Path" "$Http_Query"; cat; fi'`,
      envVars: { DOC: JSON.stringify(FUNCTION_DOC) },
      annotations: { 'com.openfaas.openapi': '/openapi.json' },
      labels: { 'ui.note': INJECTED },
    });
    await deploy({ service: badApiFn(), image: image('echoit'), annotations: { 'com.openfaas.openapi': '/openapi.json' } });
    await deploy({ service: catalogFn(), image: image('watchdog'), envProcess: `sh -c 'printf %s "$CATALOG"'`, envVars: { CATALOG: JSON.stringify(CATALOG) } });
    const [username, ...rest] = inject('credentials').split(':');
    session = await openBrowser({ httpCredentials: { username: username!, password: rest.join(':') } });
    page = session.page;
    await watchProblems(page, problems);
    page.on('request', (request) => requested.push(request.url()));
    await Promise.all([ready(apiFn()), ready(badApiFn()), ready(catalogFn())]);
  });

  afterAll(async () => {
    await session?.close();
    await chooseStore(null).catch(() => undefined);
    await Promise.all([remove(apiFn()), remove(badApiFn()), remove(catalogFn()), remove(storeDeployed())]);
  });

  it('lists every operation of /system/openapi.json on the API page, and sends one with the signed-in credentials', async () => {
    step('api');
    await page.goto(gatewayUrl('/ui/'));
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API' }).click();
    await page.getByRole('heading', { level: 1, name: 'API' }).waitFor();
    const doc = (await (await systemFetch('/system/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    const expected = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    expect(expected.length).toBeGreaterThan(50);
    await page.locator('details.operation').first().waitFor({ timeout: 15_000 });
    const listed = (await page.locator('details.operation').evaluateAll((els) => els.flatMap((el) => (el.getAttribute('data-operations') ?? '').split('\n')))) as string[];
    expect([...listed].sort()).toEqual([...expected].sort());
    expect(await text(page.getByTestId('api-status'))).toMatch(new RegExp(`^${expected.length} operations on ${Object.keys(doc.paths).length} paths`));

    // The filter narrows the list.
    const filter = page.getByLabel('Filter the operations');
    await filter.fill('dead-letters');
    await expect.poll(() => page.locator('details.operation:visible').count()).toBe(4);

    // Try it: one function, with the credentials the browser holds.
    await filter.fill('/system/function/{name}');
    const operation = page.locator('details.operation', { has: page.locator('code.op-path', { hasText: /^\/system\/function\/\{name\}$/ }) }).filter({ hasText: 'One function' });
    await operation.locator('summary').click();
    expect(await operation.getByLabel('namespace (query)').inputValue()).toBe('');
    await operation.getByLabel('name (path, required)').fill(fn('echoit'));
    await operation.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => text(operation.getByTestId('try-status')), { timeout: 15_000 }).toBe('200 OK');
    const answer = JSON.parse(await text(operation.getByTestId('try-body'))) as { name: string; scaling: { max: number } };
    expect(answer.name).toBe(fn('echoit'));
    expect(answer.scaling.max).toBe(20);
    await docShot('api-page');
  });

  it("lists a function's own OpenAPI operations and tries them, showing everything the document says as text", async () => {
    step('function-api');
    await page.goto(gatewayUrl(`/ui/#/fn/${apiFn()}`));
    const panel = page.getByRole('region', { name: 'API', exact: true });
    await expect.poll(() => text(panel.getByTestId('function-api-status')), { timeout: 30_000 }).toBe('3 operations from /openapi.json (Greeter 1.0.0).');
    // The injected markup is there as text, literally, and did nothing.
    const evil = panel.locator('details.operation', { has: page.locator('code.op-path', { hasText: `/function/${apiFn()}/evil` }) });
    expect(await text(evil.locator('.op-summary'))).toBe(`Injected ${INJECTED}`);
    await evil.locator('summary').click();
    expect(await text(evil.locator('.op-description'))).toBe(`A link in the description <a href="javascript:window.__pwned='link'">click</a>`);
    expect(await evil.locator('.op-description a, .op-responses b').count()).toBe(0);
    expect(await evil.getByLabel('q (query)').inputValue()).toBe(`"><svg onload="window.__pwned='param'">`);
    await evil.locator('summary').click();
    const hello = panel.locator('details.operation', { has: page.locator('code.op-path', { hasText: `/function/${apiFn()}/hello/{who}` }) });
    await hello.locator('summary').click();
    // Try it: the path parameter from the document's example, the query parameter emptied.
    expect(await hello.getByLabel('who (path, required)').inputValue()).toBe('ada');
    await hello.getByLabel('loud (query)').fill('yes');
    await hello.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => text(hello.getByTestId('try-status')), { timeout: 30_000 }).toBe('200 OK');
    expect(await text(hello.getByTestId('try-body'))).toBe('GET /hello/ada loud=yes|');
    const echo = panel.locator('details.operation', { hasText: 'Echoes the body' });
    await echo.locator('summary').click();
    expect(await echo.getByLabel('Body', { exact: true }).inputValue()).toBe('hello from the document');
    await echo.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => text(echo.getByTestId('try-body')), { timeout: 30_000 }).toBe('POST /echo |hello from the document');
    // Tall enough that the panel needs no scrolling (the sticky header would cover part of it).
    await page.setViewportSize({ width: 1280, height: 2400 });
    await page.evaluate('window.scrollTo(0, 0)');
    await panel.screenshot({ path: `${DOCS_IMAGES}function-api.png` });
    await page.setViewportSize({ width: 1280, height: 900 });
    // What the function answers, and its labels, are text too.
    await echo.getByLabel('Body', { exact: true }).fill(INJECTED);
    await echo.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => text(echo.getByTestId('try-body')), { timeout: 30_000 }).toBe(`POST /echo |${INJECTED}`);
    expect(await page.locator('.chips').textContent()).toContain(`ui.note=${INJECTED}`);
    await expectNothingRan();

    // A document that is no document: the panel says so, the rest of the page works.
    await page.goto(gatewayUrl(`/ui/#/fn/${badApiFn()}`));
    const bad = page.getByRole('region', { name: 'API', exact: true });
    await expect.poll(() => text(bad.getByTestId('function-api-status')), { timeout: 30_000 }).toBe(`${badApiFn()} names /openapi.json as its OpenAPI document (com.openfaas.openapi), but it is not JSON.`);
    await page.getByLabel('Body', { exact: true }).fill('still invokable');
    await page.getByRole('button', { name: 'Invoke', exact: true }).click();
    await expect.poll(() => text(page.getByTestId('status')), { timeout: 30_000 }).toBe('200 OK');
    expect(await text(page.getByLabel('Response body', { exact: true }))).toBe('still invokable');
  });

  it('deploys a function from the built-in catalog in one click, and it answers', async () => {
    step('store-deploy');
    await page.goto(gatewayUrl('/ui/'));
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Store' }).click();
    await page.getByRole('heading', { level: 1, name: 'Store' }).waitFor();
    await expect.poll(() => text(page.getByTestId('store-source')), { timeout: 15_000 }).toMatch(/^The built-in catalog: \d+ functions, also at http:\/\/.+\/store\/functions\.json/);
    for (const name of ['echoit', 'wordcount', 'base64', 'markdown', 'nodeinfo']) await page.locator(`[data-store-function="${name}"]`).waitFor();
    const card = page.locator(`[data-store-function="${STORE_ENTRY}"]`);
    expect(await text(card.getByTestId('store-image'))).toBe(image('wordcount'));
    await docShot('store-page');
    await page.getByLabel('Filter the catalog').fill('lines, words');
    await expect.poll(() => page.locator('[data-store-function]:visible').count()).toBe(1);
    expect(await card.getByLabel(`Name to deploy ${STORE_ENTRY} as`).inputValue()).toBe(STORE_ENTRY);
    await card.getByLabel(`Name to deploy ${STORE_ENTRY} as`).fill(storeDeployed());
    await card.getByRole('button', { name: `Deploy ${STORE_ENTRY}` }).click();
    // The store opens the new function's page.
    await page.getByRole('heading', { level: 1, name: storeDeployed() }).waitFor({ timeout: 30_000 });
    await expect.poll(() => text(page.getByTestId('replicas')), { timeout: REPLICA_TIMEOUT, interval: 1000 }).toBe('1 / 1');
    // The catalog's label, and the limits the gateway computed from it.
    expect(await page.locator('.chips').textContent()).toContain('com.faas.max_replicas=10');
    expect(await text(page.getByTestId('scaling-limits'))).toContain('between 1 and 10 replicas');
    expect(await invokeFromPage(page, 'one two three')).toMatch(/^0\s+3\s+13$/);
    const info = (await (await systemFetch(`/system/function/${storeDeployed()}`)).json()) as { image: string };
    expect(info.image).toBe(image('wordcount'));
    await screenshot(page, ARTIFACTS, 'store-deployed');
  });

  it('says so when a chosen catalog does not answer or answers something else, and keeps the built-in one', async () => {
    step('store-errors');
    await page.goto(gatewayUrl('/ui/#/store'));
    await page.locator('[data-store-function="echoit"]').waitFor({ timeout: 15_000 });
    await page.locator('details.store-settings summary').click();
    const url = page.getByLabel('Catalog URL (OpenFaaS store format)');
    // Nothing listens there (inside the gateway's container).
    await url.fill('http://127.0.0.1:8079/functions.json');
    await page.getByRole('button', { name: 'Use this catalog' }).click();
    await expect.poll(() => text(page.getByTestId('store-error')), { timeout: 15_000 }).toBe('The catalog at http://127.0.0.1:8079/functions.json cannot be used: it could not be reached (ECONNREFUSED). Showing the built-in catalog.');
    expect(await page.locator('[data-store-function="echoit"]').count()).toBe(1);
    // Something that is not a catalog: the gateway's own health check.
    await url.fill('http://127.0.0.1:8080/healthz');
    await page.getByRole('button', { name: 'Use this catalog' }).click();
    await expect.poll(() => text(page.getByTestId('store-error')), { timeout: 15_000 }).toBe('The catalog at http://127.0.0.1:8080/healthz cannot be used: it is not JSON. Showing the built-in catalog.');
    expect(await page.locator('[data-store-function="echoit"]').count()).toBe(1);
    // Every gateway (and a reload) sees the choice: it is kept by the stack.
    expect(((await (await systemFetch('/system/store')).json()) as { chosen: string }).chosen).toBe('http://127.0.0.1:8080/healthz');
    // Not a URL at all: refused by the gateway, said next to the field.
    await url.fill('javascript:alert(1)');
    await page.getByRole('button', { name: 'Use this catalog' }).click();
    await expect.poll(() => text(page.locator('.store-choice .field-error')), { timeout: 10_000 }).toContain('url: expected an http:// or https:// URL');
    await page.getByRole('button', { name: 'Use the built-in catalog' }).click();
    await expect.poll(() => page.getByTestId('store-error').isHidden(), { timeout: 10_000 }).toBe(true);
    expect(await text(page.getByTestId('store-choice'))).toBe('Chosen: the built-in catalog.');
  });

  it("shows a remote catalog's entries as text (script in it never runs) and marks those without an image for this architecture", async () => {
    step('store-remote');
    const remote = `http://127.0.0.1:8080/function/${catalogFn()}`;
    // The gateway gives a catalog 5 s: the function serving it must be up now (on a loaded machine Swarm may have replaced its task meanwhile).
    const since = Date.now();
    await waitFor(`${catalogFn()} answering`, async () => ((await fetch(gatewayUrl(`/function/${catalogFn()}`), { signal: AbortSignal.timeout(4_000) })).status === 200 ? true : undefined), 60_000, 500);
    console.info(`[ui] the catalog function answered ${Date.now() - since} ms after the store test asked`);
    await page.goto(gatewayUrl('/ui/'));
    await page.goto(gatewayUrl('/ui/#/store'));
    await page.locator('[data-store-function="echoit"]').waitFor({ timeout: 15_000 });
    await page.locator('details.store-settings summary').click();
    await page.getByLabel('Catalog URL (OpenFaaS store format)').fill(remote);
    await page.getByRole('button', { name: 'Use this catalog' }).click();
    await expect.poll(() => text(page.getByTestId('store-source')), { timeout: 15_000 }).toBe(`2 functions from ${remote}.`);
    const evil = page.locator('[data-store-function="evil"]');
    expect(await text(evil.locator('h2'))).toBe(`Evil ${INJECTED}`);
    expect(await text(evil.locator('.store-description'))).toBe(`Says <b>hello</b> ${INJECTED}`);
    expect(await evil.locator('.store-description b, img, script').count()).toBe(0);
    expect(await text(evil.getByTestId('not-deployable'))).toMatch(/^Not deployable here: no image for (x86_64|arm64) \(only armhf\)\.$/);
    expect(await evil.getByRole('button', { name: 'Deploy evil' }).isDisabled()).toBe(true);
    // The javascript: source is text, not a link; the icon is not loaded.
    expect(await evil.locator('a').count()).toBe(0);
    expect(requested.some((u) => u.includes('example.invalid'))).toBe(false);
    const other = page.locator('[data-store-function="remote-echo"]');
    expect(await other.getByRole('button', { name: 'Deploy remote-echo' }).isEnabled()).toBe(true);
    await expectNothingRan();
    await screenshot(page, ARTIFACTS, 'store-remote');
    expect((await chooseStore(null)).status).toBe(200);
  });

  it('shows the asynchronous calls as a page of the app, linked from the nav', async () => {
    step('async');
    await page.goto(gatewayUrl('/ui/'));
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Async' }).click();
    await page.getByRole('heading', { level: 1, name: 'Asynchronous calls' }).waitFor();
    await page.locator(`#queues tbody tr[data-function="${fn('echoit')}"]`).waitFor({ timeout: 15_000 });
    expect(await page.locator('#dead-letters').count()).toBe(1);
    // Old links land on the app's page.
    await page.goto(gatewayUrl('/ui/async.html'));
    await page.getByRole('heading', { level: 1, name: 'Asynchronous calls' }).waitFor({ timeout: 15_000 });
    expect(new URL(page.url()).hash).toBe('#/async');
  });

  it('loaded nothing from elsewhere and raised no error or Content-Security-Policy violation', async () => {
    const origin = new URL(gatewayUrl()).origin;
    expect(requested.filter((url) => !url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('about:'))).toEqual([]);
    expect(problems.pageErrors).toEqual([]);
    expect(problems.cspViolations).toEqual([]);
  });
});
