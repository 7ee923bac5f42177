/**
 * The watchdog as a real process (its bundled entry point): start-up errors
 * name the variable, and SIGTERM drains in-flight requests and exits 0.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'wd-main-'));
const bundle = join(dir, 'watchdog.mjs');

beforeAll(async () => {
  // The same bundle the image gets (build.mjs is plain JavaScript, shared with the build script).
  const { bundleWatchdog } = (await import(fileURLToPath(new URL('../../build.mjs', import.meta.url)))) as {
    bundleWatchdog: (outfile: string) => Promise<unknown>;
  };
  await bundleWatchdog(bundle);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, [bundle], { env: { PATH: process.env.PATH, TMPDIR: dir, ...env } });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

describe('the watchdog process', () => {
  it.each([
    ['read_timeout', { fprocess: 'cat', read_timeout: 'abc' }],
    ['fprocess', {}],
    ['max_inflight', { fprocess: 'cat', max_inflight: 'lots' }],
  ])('refuses to start with an invalid %s, naming it', async (variable, env) => {
    const p = run(env as Record<string, string>);
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain(`invalid configuration: ${variable}:`);
  });

  it('on SIGTERM stops accepting, removes the lock, finishes in-flight requests and exits 0', async () => {
    const port = String(await freePort());
    const p = run({ fprocess: `sh -c 'sleep 1; cat'`, port, write_timeout: '5s' });
    const lock = join(dir, '.lock');
    expect(await waitFor(() => existsSync(lock), 5000)).toBe(true);
    const url = `http://127.0.0.1:${port}/`;
    const inflight = Array.from({ length: 5 }, (_, i) =>
      fetch(url, { method: 'POST', body: `body ${i}` }).then(async (r) => [r.status, await r.text()]),
    );
    await new Promise((r) => setTimeout(r, 300));
    p.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(lock)).toBe(false);
    // New connections are refused while the old ones finish.
    await expect(fetch(url, { method: 'POST', body: 'late' })).rejects.toThrow();
    const answers = await Promise.all(inflight);
    answers.forEach(([status, text], i) => {
      expect(status).toBe(200);
      expect(text).toBe(`body ${i}`);
    });
    expect(await p.exited).toBe(0);
  });
});
