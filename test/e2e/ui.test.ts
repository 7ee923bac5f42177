// The web UI at /ui in a real browser (Debian's chromium driven by
// playwright-core) against the stack deployed on the real Swarm: what a user
// sees and does, step by step, in one browser session. Each step leaves a
// screenshot in test-artifacts/ui/; a failing step leaves FAILED-<step>.png.
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { invokeFromPage, openBrowser, screenshot, watchProblems, type BrowserSession, type PageProblems } from './support/browser.js';
import { fn, gatewayUrl, image, listFunctions, systemFetch, waitFor } from './support/gateway.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/ui/', import.meta.url));
const ECHO_IMAGE = image('echoit');
/** Slow enough for a replica to start on a loaded two-core machine. */
const REPLICA_TIMEOUT = 90_000;

let session: BrowserSession;
let page: Page;
const problems: PageProblems = { pageErrors: [], cspViolations: [] };
/** Every URL the page asked for: none may leave the gateway. */
const requested: string[] = [];

const echoit = () => fn('echoit');
/** The function the form deploys (and the test removes). */
const deployed = () => fn('uideployed');

/** Takes a screenshot now, and another named FAILED-<name> if the running test fails. */
async function step(name: string): Promise<void> {
  onTestFailed(async () => {
    await screenshot(page, ARTIFACTS, `FAILED-${name}`).catch(() => undefined);
  });
}

async function text(locator: Locator): Promise<string> {
  return ((await locator.textContent({ timeout: 5_000 }).catch(() => '')) ?? '').trim();
}

function row(name: string): Locator {
  return page.locator(`tr[data-function="${name}"]`);
}

async function openFunction(name: string): Promise<void> {
  await page.goto(gatewayUrl(`/ui/#/fn/${encodeURIComponent(name)}`));
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

describe('web UI at /ui', () => {
  beforeAll(async () => {
    await rm(ARTIFACTS, { recursive: true, force: true });
    // Functions a failed earlier run left behind.
    await systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: deployed() }) });
    const [username, ...rest] = inject('credentials').split(':');
    session = await openBrowser({ httpCredentials: { username: username!, password: rest.join(':') } });
    page = session.page;
    await watchProblems(page, problems);
    page.on('request', (request) => requested.push(request.url()));
  });

  afterAll(async () => {
    await session?.close();
    await systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: deployed() }) }).catch(() => undefined);
  });

  it('is behind the gateway credentials', async () => {
    const anonymous = await fetch(gatewayUrl('/ui/'));
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  it('sends a strict Content-Security-Policy and X-Frame-Options: DENY, and the browser enforces it', async () => {
    await step('00-csp');
    const res = await systemFetch('/ui/');
    await res.arrayBuffer();
    const policy = res.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');

    await page.goto(gatewayUrl('/ui/'));
    await page.getByRole('heading', { level: 1, name: 'Functions' }).waitFor();
    // An inline script (what an injected <script> would be) is refused, and the refusal is seen.
    const ran = await page.evaluate(`(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__inlineRan = true';
      document.body.append(script);
      return window.__inlineRan === true;
    })()`);
    expect(ran).toBe(false);
    // Both reports arrive: the console's and the securitypolicyviolation event's.
    await expect.poll(() => problems.cspViolations.some((v) => v.startsWith('script-src-elem blocked inline')), { timeout: 5_000 }).toBe(true);
    await expect.poll(() => problems.cspViolations.some((v) => /Content Security Policy/.test(v)), { timeout: 5_000 }).toBe(true);
    console.info(`[ui] CSP refused an injected inline script: ${problems.cspViolations.join(' | ')}`);
    problems.cspViolations.length = 0;
  });

  it('works from a link with the credentials in it (http://admin:<password>@host/ui/)', async () => {
    await step('00-credentials-link');
    const credentials = inject('credentials');
    const url = new URL(gatewayUrl('/ui/'));
    const link = `${url.protocol}//${credentials.split(':').map(encodeURIComponent).join(':')}@${url.host}/ui/`;
    // A browser that knows no credentials but the link's.
    const bare = await openBrowser();
    try {
      const linkProblems = await watchProblems(bare.page);
      const answers: number[] = [];
      bare.page.on('response', (r) => {
        if (new URL(r.url()).pathname.startsWith('/system/')) answers.push(r.status());
      });
      await bare.page.goto(link);
      const echo = bare.page.locator(`tr[data-function="${echoit()}"]`);
      await echo.waitFor({ timeout: 30_000 });
      await expect.poll(async () => ((await echo.locator('td').nth(1).textContent()) ?? '').trim(), { timeout: 30_000 }).toMatch(/^\d+ \/ \d+/);
      expect(((await bare.page.locator('#live').textContent()) ?? '').trim()).toMatch(/^Live/);
      // The function page's calls (history, details, logs) work from there too.
      await echo.getByRole('link').click();
      await bare.page.getByRole('heading', { level: 1, name: echoit() }).waitFor();
      await expect.poll(() => bare.page.locator('svg.chart').getAttribute('data-history'), { timeout: 30_000 }).toBe('loaded');
      await screenshot(bare.page, ARTIFACTS, '00-credentials-link');
      expect(answers.length).toBeGreaterThan(0);
      expect(answers.filter((status) => status !== 200)).toEqual([]);
      expect(linkProblems).toEqual({ pageErrors: [], cspViolations: [] });
    } finally {
      await bare.close();
    }
  });

  it('loads again when a module fails to arrive (as Chromium aborts requests when Docker changes the interfaces), and says so when it keeps failing', async () => {
    const [username, ...rest] = inject('credentials').split(':');
    const fresh = await openBrowser({ httpCredentials: { username: username!, password: rest.join(':') } });
    try {
      // The first request for one of the list's modules is cut off, the way net::ERR_NETWORK_CHANGED cuts it.
      let cut = 0;
      await fresh.page.route('**/ui/js/views/list.js', async (route) => (cut++ < 1 ? route.abort('internetdisconnected') : route.continue()));
      await fresh.page.goto(gatewayUrl('/ui/'));
      await fresh.page.getByRole('heading', { level: 1, name: 'Functions' }).waitFor({ timeout: 15_000 });
      await fresh.page.locator(`tr[data-function="${echoit()}"]`).waitFor({ timeout: 15_000 });
      expect(cut).toBe(2); // cut once, then fetched by the reload
      // Cut every time: after a few reloads the page says what went wrong instead of staying blank.
      await fresh.page.unroute('**/ui/js/views/list.js');
      let always = 0;
      await fresh.page.route('**/ui/js/views/list.js', async (route) => {
        always++;
        await route.abort('internetdisconnected');
      });
      await fresh.page.goto(gatewayUrl('/ui/?again'));
      const alert = fresh.page.getByRole('alert');
      await alert.waitFor({ timeout: 15_000 });
      expect(await text(alert)).toMatch(/^The UI's scripts did not load \(.+\)\. Reload the page to try again\.$/);
      expect(always).toBe(4); // the first load and 3 reloads
      console.info(`[ui] a module cut off once: the page reloaded and showed the list; cut off every time: "${await text(alert)}" after ${always} loads`);
    } finally {
      await fresh.close();
    }
  });

  it('lists echoit with its image, replicas and invocations, from / and without assets from elsewhere', async () => {
    await step('01-list');
    await page.goto(gatewayUrl('/'));
    expect(new URL(page.url()).pathname).toBe('/ui/');
    await page.getByRole('heading', { level: 1, name: 'Functions' }).waitFor();
    const echo = row(echoit());
    await echo.waitFor({ timeout: 30_000 });
    expect(await text(echo.getByRole('link'))).toBe(echoit());
    expect(await text(echo.locator('td').nth(0))).toBe(ECHO_IMAGE);
    await expect.poll(() => text(echo.locator('td').nth(1)), { timeout: REPLICA_TIMEOUT }).toBe('1 / 1');
    expect(await text(echo.locator('td').nth(2))).toMatch(/^[\d,]+$/);
    await screenshot(page, ARTIFACTS, '01-list');

    const origin = new URL(gatewayUrl()).origin;
    const foreign = requested.filter((url) => !url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('about:'));
    expect(foreign).toEqual([]);
    // Bytes of JavaScript and CSS the first load fetched (uncompressed), from the browser's resource timing.
    // (Expressions as strings: the tests are typed for Node, without the DOM's types.)
    const assets = (await page.evaluate(`(() => {
      const sum = (ext) => performance.getEntriesByType('resource')
        .filter((e) => new URL(e.name).pathname.endsWith(ext))
        .reduce((total, e) => total + e.decodedBodySize, 0);
      return { js: sum('.js'), css: sum('.css') };
    })()`)) as { js: number; css: number };
    const total = assets.js + assets.css;
    console.info(`[ui] first load: ${assets.js} B of JavaScript + ${assets.css} B of CSS = ${(total / 1024).toFixed(1)} KB`);
    expect(assets.js).toBeGreaterThan(0);
    expect(assets.css).toBeGreaterThan(0);
    expect(total).toBeLessThan(200 * 1024);
  });

  it("shows each task's node and state, and why tasks are missing (sample tasks in the gateway's answer)", async () => {
    await step('01-tasks');
    // Until GET /system/function/{name} sends instances and unavailableReason (#12), the browser
    // adds sample ones to the gateway's real answers: this checks the page renders them.
    const reason = 'No such image: example/missing:1 (on node-3)';
    const since = new Date(Date.now() - 30_000).toISOString();
    const sample = [
      { id: 'a1b2c3d4e5f6a7b8c9d0e1f2', node: 'node-1', state: 'running', ready: true, since },
      { id: 'ffeeddccbbaa998877665544', node: 'node-3', state: 'rejected', ready: false, since, error: 'No such image: example/missing:1' },
    ];
    const detail = gatewayUrl(`/system/function/${echoit()}`);
    await page.route(detail, async (route) => {
      const real = (await (await route.fetch()).json()) as Record<string, unknown>;
      await route.fulfill({ json: { ...real, replicas: 2, availableReplicas: 1, instances: sample, unavailableReason: reason } });
    });
    await page.route(gatewayUrl('/system/functions'), async (route) => {
      const real = (await (await route.fetch()).json()) as Array<Record<string, unknown>>;
      await route.fulfill({ json: real.map((f) => (f.name === echoit() ? { ...f, unavailableReason: reason } : f)) });
    });
    try {
      await page.goto(gatewayUrl('/ui/'));
      await expect.poll(() => text(row(echoit()).getByTestId('unavailable-reason')), { timeout: 15_000 }).toBe(`⚠ ${reason}`);
      await openFunction(echoit());
      await expect.poll(() => text(page.getByTestId('unavailable-reason')), { timeout: 15_000 }).toBe(`Fewer tasks than wanted: ${reason}`);
      const tasks = page.getByRole('region', { name: 'Tasks' });
      await expect.poll(() => tasks.locator('tbody tr').count(), { timeout: 15_000 }).toBe(2);
      // The failing task first, with the engine's error; each with its node.
      expect(await tasks.getByTestId('task-node').allTextContents()).toEqual(['node-3', 'node-1']);
      const failing = tasks.locator('tbody tr').first();
      expect(await failing.getAttribute('class')).toContain('task-bad');
      expect(await text(failing)).toContain('No such image: example/missing:1');
      expect(await text(tasks.locator('tbody tr').nth(1))).toContain('receives traffic');
      expect(await text(page.getByTestId('nodes'))).toBe('1 task: 1 on node-1');
      await screenshot(page, ARTIFACTS, '01-tasks');
    } finally {
      // The list's polls keep coming: one still being answered when the routes go must not fail the run.
      await page.unrouteAll({ behavior: 'ignoreErrors' });
    }
    // Back where the next step begins: the list.
    await page.goto(gatewayUrl('/ui/'));
    await row(echoit()).waitFor({ timeout: 30_000 });
  });

  it('invokes echoit and shows the echoed text, status and duration; the list count follows without a reload', async () => {
    await step('02-invoke');
    const before = (await listFunctions()).find((f) => f.name === echoit())!.invocationCount;
    await page.getByRole('link', { name: echoit(), exact: true }).click();
    await page.getByRole('heading', { level: 1, name: echoit() }).waitFor();
    await page.getByLabel('Method').selectOption('POST');
    await page.getByLabel('Content type').fill('text/plain');
    const message = 'Hello, Function as a Service';
    await page.getByLabel('Body', { exact: true }).fill(message);
    await page.getByRole('button', { name: 'Invoke', exact: true }).click();
    await page.getByTestId('status').waitFor({ timeout: 30_000 });
    expect(await text(page.getByTestId('status'))).toBe('200 OK');
    expect(await text(page.getByLabel('Response body', { exact: true }))).toBe(message);
    // The watchdog's X-Duration-Seconds, shown as a duration.
    expect(await text(page.locator('dt:text-is("Duration") + dd'))).toMatch(/^\d+(\.\d+)? (ms|s)$/);
    await screenshot(page, ARTIFACTS, '02-invoke');

    // Back to the list by the page's own link: no reload, the count is polled.
    const loads: string[] = [];
    page.on('load', () => loads.push(page.url()));
    await page.getByRole('link', { name: '← All functions' }).click();
    await expect
      .poll(async () => Number((await text(row(echoit()).locator('td').nth(2))).replace(/,/g, '')), { timeout: 15_000 })
      .toBeGreaterThanOrEqual(before + 1);
    expect(loads).toEqual([]);
    await screenshot(page, ARTIFACTS, '02-list-count');
  });

  it('pretty-prints a JSON answer', async () => {
    await step('02-json');
    await openFunction(echoit());
    await page.getByLabel('Content type').fill('application/json');
    await page.getByLabel('Body', { exact: true }).fill('{"user":"ada","tags":["a","b"]}');
    await page.getByRole('button', { name: 'Invoke', exact: true }).click();
    const json = page.getByLabel('Response body as JSON');
    await json.waitFor({ timeout: 30_000 });
    expect(await json.textContent()).toBe(JSON.stringify({ user: 'ada', tags: ['a', 'b'] }, null, 2));
    // The raw text is one click away.
    await page.getByRole('radio', { name: 'Text' }).click();
    expect(await text(page.getByLabel('Response body', { exact: true }))).toBe('{"user":"ada","tags":["a","b"]}');
    await screenshot(page, ARTIFACTS, '02-json');
  });

  it("renders the markdown function's HTML in a sandboxed frame, sent from the keyboard", async () => {
    await step('02-markdown');
    await openFunction(fn('markdown'));
    await page.getByLabel('Content type').fill('text/markdown');
    const body = page.getByLabel('Body', { exact: true });
    await body.fill('# Hello\n\nSome *emphasis*.\n\n<script>document.body.setAttribute("data-ran", "yes"); parent.document.title = "pwned";</script>');
    await body.press('Control+Enter');
    const frame = page.locator('iframe.response-html');
    await frame.waitFor({ timeout: 30_000 });
    // No scripts and no same-origin access for what a function returns.
    expect(await frame.getAttribute('sandbox')).toBe('');
    const inside = page.frameLocator('iframe.response-html');
    expect(await text(inside.locator('h1'))).toBe('Hello');
    expect(await text(inside.locator('em'))).toBe('emphasis');
    expect(await inside.locator('body').getAttribute('data-ran')).toBeNull();
    expect(await page.title()).not.toContain('pwned');
    await screenshot(page, ARTIFACTS, '02-markdown');
  });

  it('shows the gateway validation error next to the name field', async () => {
    await step('03-bad-name');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Deploy' }).click();
    await page.getByRole('heading', { level: 1, name: 'Deploy a function' }).waitFor();
    const name = page.getByLabel('Name', { exact: true });
    await name.fill('bad name!');
    const image = page.getByLabel('Image', { exact: true });
    await image.fill(ECHO_IMAGE);
    await image.press('Enter'); // submits the form, as a keyboard user would
    const error = page.locator('[data-error-for="service"]');
    await error.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await text(error)).not.toBe('');
    expect(await name.getAttribute('aria-invalid')).toBe('true');
    // The error is announced with the field: it is in the field's description.
    expect((await name.getAttribute('aria-describedby')) ?? '').toContain((await error.getAttribute('id'))!);
    expect(await page.evaluate(`document.activeElement?.getAttribute('name')`)).toBe('service');
    // The image was fine: no error shown there.
    expect(await page.locator('[data-error-for="image"]').isVisible()).toBe(false);
    expect(page.url()).toContain('#/deploy');
    await screenshot(page, ARTIFACTS, '03-bad-name');
  });

  it('deploys a function through the form; it appears in the list and answers', async () => {
    await step('04-deploy');
    await page.goto(gatewayUrl('/ui/#/deploy'));
    await page.getByLabel('Name', { exact: true }).fill(deployed());
    await page.getByLabel('Image', { exact: true }).fill(ECHO_IMAGE);
    await page.getByLabel('fprocess').fill('cat');
    await page.getByLabel('Maximum replicas').fill('3');
    await page.getByRole('button', { name: 'Add a variable' }).click();
    await page.getByLabel('Variable name').fill('greeting');
    await page.getByLabel('Variable value').fill('hello');
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    // The form takes the user to the new function's page.
    await page.getByRole('heading', { level: 1, name: deployed() }).waitFor({ timeout: 30_000 });
    await expect.poll(() => text(page.getByTestId('replicas')), { timeout: REPLICA_TIMEOUT, interval: 1000 }).toBe('1 / 1');
    expect(await page.locator('.chips').textContent()).toContain('com.openfaas.scale.max=3');

    const info = (await listFunctions()).find((f) => f.name === deployed());
    expect(info?.image).toBe(ECHO_IMAGE);
    expect(info?.labels['com.openfaas.scale.max']).toBe('3');

    // A new task can take a moment to join DNS: invokeFromPage retries as a user would.
    expect(await invokeFromPage(page, 'deployed from the form')).toBe('deployed from the form');
    await screenshot(page, ARTIFACTS, '04-deployed');

    await page.getByRole('link', { name: '← All functions' }).click();
    await row(deployed()).waitFor({ timeout: 10_000 });
    await screenshot(page, ARTIFACTS, '04-list-with-deployed');
  });

  it('charts the replica change after a manual scale', async () => {
    await step('05-scale');
    await openFunction(deployed());
    await expect.poll(() => text(page.getByTestId('replicas')), { timeout: REPLICA_TIMEOUT }).toBe('1 / 1');
    const desired = page.locator('svg.chart path.replicas-desired');
    const available = page.locator('svg.chart path.replicas-available');
    await expect.poll(() => desired.getAttribute('data-values'), { timeout: 10_000 }).toBe('1');

    await page.getByLabel('Desired replicas', { exact: true }).fill('2');
    await page.getByRole('button', { name: 'Scale', exact: true }).click();
    await expect.poll(() => desired.getAttribute('data-values'), { timeout: 15_000 }).toBe('1,2');
    await expect.poll(() => text(page.getByRole('list', { name: /Replica changes/ })), { timeout: 5_000 }).toContain('1 → 2');
    // The solid line follows once the second replica is up.
    await expect.poll(() => available.getAttribute('data-values'), { timeout: REPLICA_TIMEOUT, interval: 1000 }).toMatch(/(^|,)2$/);
    await expect.poll(() => text(page.getByTestId('replicas')), { timeout: 10_000 }).toBe('2 / 2');
    await screenshot(page, ARTIFACTS, '05-scaled');
  });

  it('deletes the function after confirmation and it leaves the list', async () => {
    await step('06-delete');
    await openFunction(deployed());
    await page.getByRole('button', { name: 'Delete…' }).click();
    const dialog = page.getByRole('dialog', { name: `Delete ${deployed()}?` });
    await dialog.waitFor();
    // The safe choice has the focus.
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Cancel');
    await screenshot(page, ARTIFACTS, '06-confirm');
    await dialog.getByRole('button', { name: `Delete ${deployed()}` }).click();
    await page.getByRole('heading', { level: 1, name: 'Functions' }).waitFor({ timeout: 30_000 });
    await row(deployed()).waitFor({ state: 'detached', timeout: 30_000 });
    expect(await row(echoit()).isVisible()).toBe(true);
    await waitFor('the function to be gone from the API', async () => ((await systemFetch(`/system/function/${deployed()}`)).status === 404 ? true : undefined), 30_000);
    await screenshot(page, ARTIFACTS, '06-deleted');
  });

  it('lists secrets by name only, creates one, gives it a new value and deletes it', async () => {
    await step('secrets');
    const secret = 'ui-e2e-secret';
    await systemFetch('/system/secrets', { method: 'DELETE', body: JSON.stringify({ name: secret }) });
    await page.goto(gatewayUrl('/ui/#/secrets'));
    await page.getByRole('heading', { level: 1, name: 'Secrets' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill(secret);
    await page.getByLabel('Value', { exact: true }).fill('shown only once');
    await page.getByRole('button', { name: 'Create secret' }).click();
    const item = page.locator(`li[data-secret="${secret}"]`);
    await item.waitFor();
    expect(await page.content()).not.toContain('shown only once');
    const listed = (await (await systemFetch('/system/secrets')).json()) as Array<{ name: string }>;
    expect(listed.map((s) => s.name)).toContain(secret);
    await item.getByLabel(`New value of ${secret}`).fill('a new value');
    await item.getByRole('button', { name: 'Change' }).click();
    await expect.poll(() => text(item), { timeout: 10_000 }).toMatch(/changed/);
    page.once('dialog', (dialog) => void dialog.accept());
    await item.getByRole('button', { name: 'Delete' }).click();
    await item.waitFor({ state: 'detached', timeout: 10_000 });
    expect(((await (await systemFetch('/system/secrets')).json()) as Array<{ name: string }>).map((s) => s.name)).not.toContain(secret);
    await screenshot(page, ARTIFACTS, 'secrets');
  });

  it('fits a phone-sized screen without sideways scrolling', async () => {
    await step('07-phone');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(gatewayUrl('/ui/#/'));
    await row(echoit()).waitFor();
    const overflow = async () => Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    expect(await overflow()).toBeLessThanOrEqual(0);
    await screenshot(page, ARTIFACTS, '07-phone-list');
    await openFunction(echoit());
    expect(await overflow()).toBeLessThanOrEqual(0);
    await screenshot(page, ARTIFACTS, '07-phone-function');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('raised no JavaScript error and no Content-Security-Policy violation on any page', () => {
    expect(problems.pageErrors).toEqual([]);
    expect(problems.cspViolations).toEqual([]);
  });
});
