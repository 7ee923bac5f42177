// Debian's chromium driven by playwright-core, for tests of the web UI.
// No browser is downloaded: `npx playwright install` cannot reach its CDN
// here, so the system's /usr/bin/chromium (apt package `chromium`) is used.
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { onTestFailed } from 'vitest';
import { systemFetch } from './gateway.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export interface BrowserOptions {
  /** Basic-auth credentials the browser answers the gateway's challenge with. */
  httpCredentials?: { username: string; password: string };
  viewport?: { width: number; height: number };
}

/** Starts chromium with a fresh profile (deleted on close) and opens one page. */
export async function openBrowser(options: BrowserOptions = {}): Promise<BrowserSession> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`No chromium at ${CHROMIUM_PATH}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH.`);
  }
  const profile = await mkdtemp(join(tmpdir(), 'ui-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: FLAGS,
    viewport: options.viewport ?? { width: 1280, height: 900 },
    httpCredentials: options.httpCredentials,
    timeout: 60_000,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as <dir>/<name>.png and returns its path. */
export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export interface PageProblems {
  /** Uncaught errors of the page's scripts. */
  pageErrors: string[];
  /** Content-Security-Policy violations the page (or a frame in it) reported. */
  cspViolations: string[];
}

/**
 * Collects what must never happen on a page of the UI: uncaught errors and
 * Content-Security-Policy violations, both the console's reports and the
 * securitypolicyviolation events (which also carry what was blocked).
 */
export async function watchProblems(page: Page, problems: PageProblems = { pageErrors: [], cspViolations: [] }): Promise<PageProblems> {
  page.on('pageerror', (error) => problems.pageErrors.push(error.message));
  page.on('console', (message) => {
    if (/content security policy/i.test(message.text())) problems.cspViolations.push(message.text());
  });
  await page.exposeFunction('__reportCspViolation', (text: string) => problems.cspViolations.push(text));
  await page.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => {
    window.__reportCspViolation(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber);
  });`);
  return problems;
}

/**
 * Sends the body in a function page's Invoke panel until the function answers
 * 200: a new task can take a moment to join DNS, so the test retries as a user
 * would. Answers the response body shown.
 */
export async function invokeFromPage(page: Page, body: string, timeoutMs = 60_000): Promise<string> {
  const shown = async (selector: ReturnType<Page['getByTestId']>) => ((await selector.textContent({ timeout: 5_000 }).catch(() => '')) ?? '').trim();
  await page.getByLabel('Body', { exact: true }).fill(body);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.getByRole('button', { name: 'Invoke', exact: true }).click();
    await page.getByTestId('status').waitFor({ timeout: 30_000 });
    if ((await shown(page.getByTestId('status'))) === '200 OK') break;
    if (Date.now() > deadline) throw new Error(`the function did not answer 200 within ${timeoutMs} ms: ${await shown(page.getByTestId('status'))}`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
  return ((await page.getByLabel('Response body', { exact: true }).textContent()) ?? '').trim();
}

/** On the running test's failure, a screenshot of the page (FAILED-<name>.png in dir). */
export function screenshotOnFailure(page: () => Page, dir: string, name: string): void {
  onTestFailed(async () => {
    await screenshot(page(), dir, `FAILED-${name}`).catch(() => undefined);
  });
}

/** A locator's text, trimmed; '' when it does not show within 5 s. */
export async function textOf(locator: Locator): Promise<string> {
  return ((await locator.textContent({ timeout: 5_000 }).catch(() => '')) ?? '').trim();
}

/** Deletes a function through the API, whether or not it is there (the UI suites' clean-up). */
export async function removeQuietly(name: string): Promise<void> {
  await systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: name }) }).catch(() => undefined);
}
