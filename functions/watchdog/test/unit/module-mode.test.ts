/** Module mode: the function's ES module handles requests inside the watchdog's own process. */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { parseBody, toAnswer } from '../../src/module-mode.js';
import { startWatchdog, type Running } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'wd-module-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
/** Writes a handler module and returns its path. */
function moduleFile(source: string): string {
  const path = join(dir, `handler-${++count}.mjs`);
  writeFileSync(path, source);
  return path;
}

let running: Running | undefined;
afterEach(async () => {
  await running?.dispose();
  running = undefined;
});

async function start(source: string, env: Record<string, string> = {}): Promise<Running> {
  running = await startWatchdog({ mode: 'module', module: moduleFile(source), ...env });
  return running;
}

describe('module mode', () => {
  it('needs no fprocess, and takes the node template\'s handler path by default', () => {
    const config = loadConfig({ mode: 'module' });
    expect(config.modulePath).toBe('/home/app/function/handler.js');
    expect(config.command).toEqual([]);
    expect(() => loadConfig({ mode: 'module', module: 'relative.js' })).toThrow(/module: .*absolute path/);
  });

  it('is ready (lock file) with the module loaded, and gives the handler method, path, query, headers and a parsed JSON body', async () => {
    const wd = await start(`
      export default async function handle(req) {
        return { status: 201, headers: { 'X-Seen': req.method + ' ' + req.path }, body: { query: req.query, who: req.body.name, type: req.headers['content-type'], raw: req.rawBody.length } };
      }`);
    expect(existsSync(wd.lockFile)).toBe(true);
    const res = await fetch(`${wd.url}/some/where?a=1&b=two`, { method: 'POST', body: JSON.stringify({ name: 'Ada' }), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-seen')).toBe('POST /some/where');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(Number(res.headers.get('x-duration-seconds'))).toBeGreaterThan(0);
    expect(await res.json()).toEqual({ query: { a: '1', b: 'two' }, who: 'Ada', type: 'application/json', raw: 14 });
  });

  it('gives text bodies as strings and other types as Buffers; a string answer is text/plain, a Buffer octets, anything else JSON', async () => {
    const wd = await start(`
      export default (req) => {
        if (req.path === '/text') return 'got ' + typeof req.body + ': ' + req.body;
        if (req.path === '/bytes') return Buffer.isBuffer(req.body) ? Buffer.from(req.body).reverse() : 'not a buffer';
        return [1, 2, 3];
      }`);
    const text = await fetch(`${wd.url}/text`, { method: 'POST', body: 'hello' });
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await text.text()).toBe('got string: hello');
    const bytes = await fetch(`${wd.url}/bytes`, { method: 'POST', body: Buffer.from([1, 2, 3]), headers: { 'content-type': 'application/octet-stream' } });
    expect(bytes.headers.get('content-type')).toBe('application/octet-stream');
    expect([...Buffer.from(await bytes.arrayBuffer())]).toEqual([3, 2, 1]);
    const json = await fetch(`${wd.url}/other`);
    expect(await json.json()).toEqual([1, 2, 3]);
  });

  it('answers 400 for a JSON body that does not parse, without calling the handler', async () => {
    const wd = await start(`let calls = 0; export default () => ({ body: String(++calls) });`);
    const bad = await fetch(wd.url, { method: 'POST', body: '{nope', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/not valid JSON/);
    expect(await (await fetch(wd.url)).text()).toBe('1');
  });

  it('answers 500 with the message of an error the handler throws, and keeps serving', async () => {
    const wd = await start(`export default async (req) => { if (req.path === '/fail') throw new Error('no luck'); return 'fine'; }`);
    const failed = await fetch(`${wd.url}/fail`);
    expect(failed.status).toBe(500);
    expect(await failed.text()).toBe('the handler failed: no luck\n');
    expect(await (await fetch(`${wd.url}/ok`)).text()).toBe('fine');
  });

  it('answers 504 after exec_timeout, and 500 for an invalid status', async () => {
    const wd = await start(`export default (req) => req.path === '/slow' ? new Promise(() => {}) : { status: 'ok' };`, { exec_timeout: '300ms' });
    const slow = await fetch(`${wd.url}/slow`);
    expect(slow.status).toBe(504);
    const bad = await fetch(`${wd.url}/bad`);
    expect(bad.status).toBe(500);
    expect(await bad.text()).toMatch(/returned status "ok"/);
  });

  it('answers 413 for a body over max_body', async () => {
    const wd = await start(`export default (req) => String(req.rawBody.length);`, { max_body: '1Ki' });
    expect((await fetch(wd.url, { method: 'POST', body: 'x'.repeat(1024) })).status).toBe(200);
    const big = await fetch(wd.url, { method: 'POST', body: 'x'.repeat(1025) });
    expect(big.status).toBe(413);
  });

  it('runs requests concurrently in one process', async () => {
    const wd = await start(`export default async () => { await new Promise((r) => setTimeout(r, 200)); return String(process.pid); }`);
    const started = Date.now();
    const pids = await Promise.all(Array.from({ length: 10 }, async () => (await fetch(wd.url)).text()));
    expect(Date.now() - started).toBeLessThan(1500);
    expect(new Set(pids)).toEqual(new Set([String(process.pid)]));
  });

  it('refuses to start when the module does not load or exports no function', async () => {
    await expect(startWatchdog({ mode: 'module', module: join(dir, 'missing.mjs') })).rejects.toThrow(/missing\.mjs does not exist/);
    await expect(startWatchdog({ mode: 'module', module: moduleFile('export const x = 1;') })).rejects.toThrow(/must export a function as default.*exports x/);
    await expect(startWatchdog({ mode: 'module', module: moduleFile("import 'no-such-package-here';") })).rejects.toThrow(/Cannot find package 'no-such-package-here'/);
  });
});

describe('watchdog --check (run while a template is built)', () => {
  const bundle = fileURLToPath(new URL('../../dist/watchdog.mjs', import.meta.url));
  const run = (env: Record<string, string>) =>
    promisify(execFile)(process.execPath, [bundle, '--check'], { env: { PATH: process.env.PATH ?? '', ...env } }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );

  it('exits 0 for a module that loads, 1 with the reason for one that does not', async () => {
    if (!existsSync(bundle)) {
      const { bundleWatchdog } = (await import(fileURLToPath(new URL('../../build.mjs', import.meta.url)))) as { bundleWatchdog: () => Promise<unknown> };
      await bundleWatchdog();
    }
    expect(await run({ mode: 'module', module: moduleFile('export default () => 1;') })).toMatchObject({ code: 0 });
    const broken = await run({ mode: 'module', module: moduleFile("import missing from 'left-pad-not-here';\nexport default missing;") });
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/Cannot find package 'left-pad-not-here'/);
    // (Syntax errors are checked here, in a plain node: vitest's own loader rewrites them.)
    const syntax = await run({ mode: 'module', module: moduleFile('export default async function (req) {\n  return { body: ;\n}') });
    expect(syntax.code).toBe(1);
    expect(syntax.out).toMatch(/SyntaxError: Unexpected token/);
  });
});

describe('the answer a handler returns', () => {
  it('reads response objects, bodies and other values', () => {
    expect(toAnswer('hi')).toMatchObject({ status: 200, headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': 2 } });
    expect(toAnswer({ statusCode: 204 }).status).toBe(204);
    expect(toAnswer({ status: 200, headers: { 'Content-Type': 'text/html' }, body: '<p>' }).headers['content-type']).toBe('text/html');
    expect(toAnswer({ ok: true }).body.toString()).toBe('{"ok":true}');
    expect(toAnswer(undefined)).toMatchObject({ status: 200, headers: { 'content-length': 0 } });
    expect(() => toAnswer({ status: 42 })).toThrow(/status 42/);
  });

  it('parses bodies by content type', () => {
    expect(parseBody(Buffer.from('{"a":1}'), 'application/vnd.api+json; charset=utf-8')).toEqual({ ok: true, body: { a: 1 } });
    expect(parseBody(Buffer.from('a=1'), 'application/x-www-form-urlencoded')).toEqual({ ok: true, body: 'a=1' });
    expect(parseBody(Buffer.from('x'), undefined)).toEqual({ ok: true, body: 'x' });
    expect(parseBody(Buffer.alloc(0), 'application/json')).toEqual({ ok: true, body: undefined });
    expect(Buffer.isBuffer((parseBody(Buffer.from('x'), 'image/png') as { body: unknown }).body)).toBe(true);
  });
});
