// The New function page in the real chromium against the deployed stack (the
// UI suites' stack) and its real builder: a node handler written in the
// CodeMirror editor is built, deployed and invoked; its source is opened
// again from the function page, edited and redeployed while a loop of calls
// runs (none fails); it is there again after a page reload and after the
// gateway was replaced (the stack keeps it, not the browser nor the gateway); a handler that does not build shows the failing line
// next to the code and deploys nothing. No page error, no CSP violation
// (CodeMirror's styles included). The README's screenshot goes to docs/images/.
import { mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { invokeFromPage, openBrowser, removeQuietly, screenshot, screenshotOnFailure, textOf, watchProblems, type BrowserSession, type PageProblems } from './support/browser.js';
import { invoke, invokeLoop, report } from './support/functions.js';
import { containersOf, docker } from './support/docker.js';
import { fn, gatewayUrl, image, systemFetch, waitFor } from './support/gateway.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/ui-editor/', import.meta.url));
const DOCS_IMAGES = fileURLToPath(new URL('../../docs/images/', import.meta.url));
/** A first build pulls nothing (the stack's bases are local) but runs the load check (and npm ci when the handler has dependencies): generous on a loaded machine. */
const BUILD_TIMEOUT = 300_000;

const written = () => fn('uied');
const broken = () => fn('uiedbad');
/** The store's QR-code function, under a name of the test stack's own. */
const qr = () => fn('uiqr');

const handler = (version: string) => `// Written in the browser.
export default async function handle(req) {
  const text = typeof req.body === 'string' ? req.body : req.rawBody?.toString() ?? '';
  return { status: 200, headers: { 'content-type': 'text/plain' }, body: '${version}:' + text };
}
`;
const BROKEN_HANDLER = `export default async function handle(req) {
  return { status: 200 body: 'no comma' };
}
`;

let session: BrowserSession;
let page: Page;
const problems: PageProblems = { pageErrors: [], cspViolations: [] };

const step = (name: string): void => screenshotOnFailure(() => page, ARTIFACTS, name);
const text = textOf;
const remove = removeQuietly;

/** Replaces the open file's text as a user pasting it would (insertText: no auto-closed brackets). */
async function writeCode(code: string): Promise<void> {
  await page.locator('[data-testid="code"] .cm-content:visible').click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.insertText(code);
}

const editorText = () => page.locator('[data-testid="code"] .cm-content:visible').evaluate((el) => (el as unknown as { innerText: string }).innerText);

describe('the New function page', () => {
  beforeAll(async () => {
    await rm(ARTIFACTS, { recursive: true, force: true });
    await Promise.all([remove(written()), remove(broken()), remove(qr())]);
    const [username, ...rest] = inject('credentials').split(':');
    session = await openBrowser({ httpCredentials: { username: username!, password: rest.join(':') } });
    page = session.page;
    await watchProblems(page, problems);
  });

  afterAll(async () => {
    await session?.close();
    await Promise.all([remove(written()), remove(broken()), remove(qr())]);
  });

  it('writes a node handler in the editor, builds and deploys it, and the function answers', async () => {
    step('new');
    await page.goto(gatewayUrl('/ui/'));
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New function' }).click();
    await page.getByRole('heading', { level: 1, name: 'New function' }).waitFor({ timeout: 30_000 });
    // The editor's bundle came with this page, not with the first load.
    expect(await page.locator('[data-testid="code"] .cm-editor').count()).toBe(2); // handler.js, package.json
    expect(await page.getByRole('tab', { name: 'handler.js' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.getByLabel('Template').inputValue()).toBe('node');
    expect(await editorText()).toContain('export default async function handle');
    await page.getByLabel('Name', { exact: true }).fill(written());
    await writeCode(handler('v1'));
    await page.getByText('Environment, secrets and scaling').click();
    await page.getByLabel('Minimum replicas').fill('2');
    await page.getByRole('button', { name: 'Add a variable' }).click();
    await page.getByLabel('Variable name').last().fill('GREETING');
    await page.getByLabel('Variable value').last().fill('hello');
    await expect.poll(() => text(page.locator('#live')), { timeout: 10_000 }).toMatch(/^Live/);
    await page.evaluate('window.scrollTo(0, 0)');
    await mkdir(DOCS_IMAGES, { recursive: true });
    await page.screenshot({ path: `${DOCS_IMAGES}new-function-page.png` });

    const started = Date.now();
    await page.getByTestId('deploy-source').click();
    // The log streams while the build runs.
    await expect.poll(() => text(page.getByTestId('build-log')), { timeout: 60_000 }).not.toBe('');
    await page.waitForURL(new RegExp(`#/fn/${written()}$`), { timeout: BUILD_TIMEOUT });
    report(`[editor] first build + deploy from the page: ${Date.now() - started} ms`);
    expect(await invokeFromPage(page, 'from the page', 120_000)).toBe('v1:from the page');
    const deployed = (await (await systemFetch(`/system/function/${written()}`)).json()) as { envVars?: Record<string, string>; labels: Record<string, string>; annotations: Record<string, string> };
    expect(deployed.labels['com.openfaas.scale.min']).toBe('2');
    expect(deployed.annotations['com.swarmfaas.source']).toBe('node');
    expect(deployed.annotations['com.openfaas.openapi']).toBe('/openapi.json');
  });

  it('opens the source again from the function page, and redeploys an edit while calls run, with no failed call', async () => {
    step('edit');
    await waitFor(`${written()} at 2 replicas`, async () => {
      const res = await systemFetch(`/system/function/${written()}`);
      return res.status === 200 && ((await res.json()) as { availableReplicas: number }).availableReplicas >= 2 ? true : undefined;
    }, 120_000, 500);
    await page.getByTestId('edit-source').click();
    await page.getByRole('heading', { level: 1, name: `Edit ${written()}` }).waitFor({ timeout: 30_000 });
    expect(await editorText()).toContain("'v1:'");
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe(written());
    await writeCode(handler('v2'));

    let stop = false;
    const loop = invokeLoop(written(), { workers: 2, maxRequests: 5_000, maxMs: BUILD_TIMEOUT + 120_000, pauseMs: 50, stop: () => stop });
    const started = Date.now();
    await page.getByTestId('deploy-source').click();
    await page.waitForURL(new RegExp(`#/fn/${written()}$`), { timeout: BUILD_TIMEOUT });
    report(`[editor] rebuild + rolling update from the page: ${Date.now() - started} ms`);
    await waitFor(`${written()} answering v2`, async () => {
      const answer = await invoke(written(), 'x');
      return answer.text === 'v2:x' ? true : undefined;
    }, 180_000, 500);
    // A few more seconds of calls on the new version, then the old tasks are gone.
    await new Promise((r) => setTimeout(r, 3_000));
    stop = true;
    const answers = await loop;
    const failed = answers.filter((a) => a.status !== 200);
    const versions = new Set(answers.filter((a) => a.status === 200).map((a) => a.text.split(':')[0]));
    report(`[editor] calls during the redeploy: ${answers.length}, failed: ${failed.length}, versions seen: ${[...versions].join(', ')}`);
    expect(failed.slice(0, 5)).toEqual([]);
    expect(versions).toEqual(new Set(['v1', 'v2']));
  });

  it('shows the kept source after a page reload (the stack keeps it, not the browser)', async () => {
    step('reload');
    await page.goto(gatewayUrl(`/ui/#/edit/${encodeURIComponent(written())}`));
    await page.reload();
    await page.getByRole('heading', { level: 1, name: `Edit ${written()}` }).waitFor({ timeout: 30_000 });
    expect(await editorText()).toContain("'v2:'");
    const kept = (await (await systemFetch(`/system/source/${written()}`)).json()) as { files: Record<string, string>; template: string; envVars: Record<string, string> };
    expect(kept.template).toBe('node');
    expect(kept.files['handler.js']).toBe(handler('v2'));
    expect(kept.envVars).toEqual({ GREETING: 'hello' });
  });

  it('opens the kept source again after the gateway was killed and replaced (the stack keeps it, not the gateway)', async () => {
    step('gateway-restart');
    await page.goto('about:blank'); // no page polls the gateway while it is away
    const [before] = await containersOf(fn('gateway'));
    await docker('kill', before!);
    await waitFor(
      'a new gateway task answering',
      async () => {
        const [now] = await containersOf(fn('gateway'));
        return now && now !== before && (await fetch(gatewayUrl('/healthz')).catch(() => undefined))?.status === 200 ? true : undefined;
      },
      90_000,
      250,
    );
    await page.goto(gatewayUrl(`/ui/#/edit/${encodeURIComponent(written())}`));
    await page.getByRole('heading', { level: 1, name: `Edit ${written()}` }).waitFor({ timeout: 30_000 });
    expect(await editorText()).toContain("'v2:'");
    expect((await invoke(written(), 'after the restart')).status).toBe(200);
  });

  it('shows a failing build next to the code and deploys nothing', async () => {
    step('broken');
    await page.goto(gatewayUrl('/ui/#/new'));
    await page.getByRole('heading', { level: 1, name: 'New function' }).waitFor({ timeout: 30_000 });
    await page.getByLabel('Name', { exact: true }).fill(broken());
    await writeCode(BROKEN_HANDLER);
    await page.getByTestId('deploy-source').click();
    const errors = page.getByTestId('build-errors');
    await errors.waitFor({ state: 'visible', timeout: BUILD_TIMEOUT });
    expect(await text(errors)).toMatch(/The build failed: .*Nothing was deployed\./s);
    expect(await text(errors)).toMatch(/handler\.js line 2: SyntaxError: Unexpected identifier/);
    // The line is marked in the editor.
    await page.locator('[data-testid="code"] .cm-content:visible .cm-lintRange-error').first().waitFor({ timeout: 5_000 });
    expect((await systemFetch(`/system/function/${broken()}`)).status).toBe(404);
    expect((await systemFetch(`/system/source/${broken()}`)).status).toBe(404);
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: `${DOCS_IMAGES}new-function-failed-build.png` });
  });

  it('deploys the QR-code function from the store, and it answers a PNG of the text', async () => {
    step('store-qr');
    await page.goto(gatewayUrl('/ui/#/store'));
    await page.getByRole('heading', { level: 1, name: 'Store' }).waitFor({ timeout: 30_000 });
    const card = page.locator('[data-store-function="qrcode"]');
    await card.waitFor({ timeout: 30_000 });
    expect(await text(card.getByTestId('store-image'))).toBe(image('qrcode'));
    await card.getByLabel('Name to deploy qrcode as').fill(qr());
    await card.getByRole('button', { name: 'Deploy qrcode' }).click();
    await page.getByRole('heading', { level: 1, name: qr() }).waitFor({ timeout: 30_000 });
    const png = await waitFor(`${qr()} answering a PNG`, async () => {
      const res = await fetch(gatewayUrl(`/function/${qr()}?size=200`), { method: 'POST', body: 'https://github.com/openfaas', signal: AbortSignal.timeout(15_000) }).catch(() => undefined);
      if (res?.status !== 200) return undefined;
      return { type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
    }, 120_000, 1_000);
    expect(png.type).toBe('image/png');
    expect(png.bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(png.bytes.readUInt32BE(16)).toBe(200); // IHDR width
    // The Invoke panel shows the image the function answered.
    await page.getByLabel('Body', { exact: true }).fill('hello from the store');
    await page.getByRole('button', { name: 'Invoke', exact: true }).click();
    await expect.poll(() => text(page.getByTestId('status')), { timeout: 60_000 }).toBe('200 OK');
    await screenshot(page, ARTIFACTS, 'store-qrcode');
  });

  it('had no page error, and no Content-Security-Policy violation but inline style attributes in the editor', () => {
    expect(problems.pageErrors).toEqual([]);
    // CodeMirror, once the text changed, copies a node of its own that carries
    // a style attribute (a few times a session); the policy blocks the copy's
    // attribute (style-src-attr) and CodeMirror sets its styles through the
    // CSSOM, which the policy allows: nothing shows. Every other kind fails.
    const styleAttribute = (v: string) => v === 'style-src-attr blocked inline at :0' || (v.startsWith('Applying inline style violates') && v.includes('style attributes'));
    expect(problems.cspViolations.filter((v) => !styleAttribute(v))).toEqual([]);
    report(`[editor] style-src-attr reports from the editor: ${problems.cspViolations.filter((v) => v.startsWith('style-src-attr')).length}`);
  });
});
