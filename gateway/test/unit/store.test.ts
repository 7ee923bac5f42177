// The function store: the built-in catalog made from the sample functions'
// records, remote catalogs read through the gateway (bounded in time and
// size, checked), and the routes: /store/functions.json (what faas-cli
// reads), GET /system/store (the UI's page) and PUT /system/store (an
// admin's choice).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCatalog, platformOf, readBuiltInCatalog, storeFunctionSchema } from '../../src/programs/gateway/store/catalog.js';
import { catalogUrlProblem, fetchCatalog } from '../../src/programs/gateway/store/remote.js';
import { storeViewSchema, type StoreView } from '../../src/programs/gateway/store/view.js';
import { startGateway, type TestGateway } from './support/test-gateway.js';

const FUNCTIONS = fileURLToPath(new URL('../../../functions/', import.meta.url));

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A server on 127.0.0.1 answering every request with `handler`. */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/functions.json`;
}

const REMOTE = {
  version: '0.2.1',
  functions: [
    { title: 'Figlet', name: 'figlet', description: 'ASCII art', images: { x86_64: 'functions/figlet:0.13.0', armhf: 'functions/figlet:0.13.0-armhf' }, fprocess: 'figlet', labels: { a: 'b' }, icon: 'https://example/x.png', repo_url: 'https://github.com/x/y', extra: 1 },
    { name: 'bad', labels: { n: 1 } },
  ],
};

describe('catalogs', () => {
  it('reads the store format, leaving out (and counting) entries that are not store entries', () => {
    const { catalog, skipped } = parseCatalog(JSON.stringify(REMOTE));
    expect(skipped).toBe(1);
    expect(catalog.version).toBe('0.2.1');
    expect(catalog.functions).toHaveLength(1);
    // Known fields only go on.
    expect(catalog.functions[0]).not.toHaveProperty('extra');
    expect(catalog.functions[0]).toMatchObject({ name: 'figlet', images: { x86_64: 'functions/figlet:0.13.0' } });
    // The older format: a bare list, one image.
    expect(parseCatalog(JSON.stringify([{ name: 'old', image: 'x/old:1' }])).catalog.functions[0]!.images).toEqual({ x86_64: 'x/old:1' });
  });

  it('refuses what is no catalog, saying what it is', () => {
    expect(() => parseCatalog('<html>hello</html>')).toThrow('it is not JSON');
    expect(() => parseCatalog('{"hello": 1}')).toThrow('no "functions" list');
    expect(() => parseCatalog('{"functions": [{"nope": true}]}')).toThrow('none of its 1 entries is a store function');
    expect(() => parseCatalog(JSON.stringify({ functions: Array.from({ length: 5 }, (_, i) => ({ name: `f${i}` })) }), 3)).toThrow('more than the 3');
  });

  it('is built in from every sample function folder, each record naming the stack image of its folder for every platform', async () => {
    const catalog = await readBuiltInCatalog(FUNCTIONS, { repo: 'reg:5000/me', tag: '1.2.3' });
    const folders = readdirSync(FUNCTIONS).filter((d) => d !== 'watchdog' && existsSync(`${FUNCTIONS}${d}/Dockerfile`));
    expect(catalog.functions.map((f) => f.name).sort()).toEqual(folders.sort());
    for (const fn of catalog.functions) {
      expect(storeFunctionSchema.parse(fn)).toEqual(fn);
      expect(fn.title && fn.description, fn.name).toBeTruthy();
      expect(fn.images).toEqual({ x86_64: `reg:5000/me/${fn.name}:1.2.3`, arm64: `reg:5000/me/${fn.name}:1.2.3`, armhf: `reg:5000/me/${fn.name}:1.2.3` });
    }
    expect(catalog.functions.find((f) => f.name === 'wordcount')?.labels).toEqual({ 'com.faas.max_replicas': '10' });
  });

  it("names the gateway's architecture as the store does", () => {
    expect(['x64', 'arm64', 'arm', 's390x'].map(platformOf)).toEqual(['x86_64', 'arm64', 'armhf', undefined]);
  });
});

describe('reading a remote catalog', () => {
  it('takes a good one', async () => {
    const url = await serve((_, res) => res.end(JSON.stringify(REMOTE)));
    expect((await fetchCatalog(url)).catalog.functions[0]!.name).toBe('figlet');
  });

  it('says why it cannot use one: no answer in time, an error status, too large, not a catalog, not reachable, not http', async () => {
    const slow = await serve(() => undefined);
    await expect(fetchCatalog(slow, { timeoutMs: 200, maxBytes: 1000 })).rejects.toThrow('it did not answer within 0.2 s');
    const missing = await serve((_, res) => {
      res.statusCode = 404;
      res.end('nope');
    });
    await expect(fetchCatalog(missing)).rejects.toThrow('it answered 404 Not Found');
    const big = await serve((_, res) => res.end('x'.repeat(5000)));
    await expect(fetchCatalog(big, { timeoutMs: 1000, maxBytes: 1000 })).rejects.toThrow('larger than 1000 bytes');
    const chunked = await serve((_, res) => {
      res.write('['.padEnd(800, ' '));
      res.end(' '.repeat(800));
    });
    await expect(fetchCatalog(chunked, { timeoutMs: 1000, maxBytes: 1000 })).rejects.toThrow('larger than 1000 bytes');
    const html = await serve((_, res) => res.end('<!doctype html><script>alert(1)</script>'));
    const error = await fetchCatalog(html).catch((e: Error) => e);
    expect((error as Error).message).toBe('it is not JSON');
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(fetchCatalog(`http://127.0.0.1:${port}/functions.json`)).rejects.toThrow('it could not be reached (ECONNREFUSED)');
    expect(catalogUrlProblem('javascript:alert(1)')).toBe('expected an http:// or https:// URL, not javascript:');
    expect(catalogUrlProblem('file:///etc/passwd')).toContain('not file:');
    expect(catalogUrlProblem('http://user:pw@example.com/x')).toBe('the URL may not carry credentials');
    expect(catalogUrlProblem('https://example.com/functions.json')).toBeUndefined();
  });
});

describe('the store routes', () => {
  const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };
  async function gateway(env: Record<string, string> = {}): Promise<TestGateway> {
    const gw = await startGateway({ env: { STORE_DIR: FUNCTIONS, STORE_IMAGE_REPO: 'me', STORE_IMAGE_TAG: '9', ...env }, credentials: { user: 'admin', password: 'pw' } });
    cleanups.push(() => gw.close());
    return gw;
  }
  const view = async (gw: TestGateway) => storeViewSchema.parse(await (await fetch(`${gw.url}/system/store`, { headers: auth })).json());
  const choose = (gw: TestGateway, url: string | null) => fetch(`${gw.url}/system/store`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ url }) });

  it('serves the built-in catalog at /store/functions.json without credentials', async () => {
    const gw = await gateway();
    const res = await fetch(`${gw.url}/store/functions.json`);
    expect(res.status).toBe(200);
    const catalog = (await res.json()) as { version: string; functions: Array<{ name: string; images: Record<string, string> }> };
    expect(catalog.version).toBe('0.2.1');
    expect(catalog.functions.find((f) => f.name === 'echoit')?.images.x86_64).toBe('me/echoit:9');
    expect((await fetch(`${gw.url}/system/store`)).status).toBe(401);
  });

  it('shows the built-in catalog, or STORE_URL, and the built-in one with the reason when STORE_URL fails', async () => {
    const plain = await view(await gateway());
    expect(plain).toMatchObject({ source: 'built-in', url: null, error: null, setting: null, chosen: null, builtInPath: '/store/functions.json' });
    expect(plain.catalog.functions.length).toBeGreaterThan(5);

    const good = await serve((_, res) => res.end(JSON.stringify(REMOTE)));
    const remote = await view(await gateway({ STORE_URL: good }));
    expect(remote).toMatchObject({ source: 'remote', url: good, error: null, skipped: 1, setting: good });
    expect(remote.catalog.functions.map((f) => f.name)).toEqual(['figlet']);

    const html = await serve((_, res) => res.end('<html>not a catalog</html>'));
    const failed = await view(await gateway({ STORE_URL: html }));
    expect(failed).toMatchObject({ source: 'built-in', url: html, error: `The catalog at ${html} cannot be used: it is not JSON.` });
    expect(failed.catalog.functions.some((f) => f.name === 'echoit')).toBe(true);
  });

  it('lets an admin choose another catalog, the built-in one, or STORE_URL again', async () => {
    const good = await serve((_, res) => res.end(JSON.stringify(REMOTE)));
    const gw = await gateway({ STORE_URL: good });
    const builtIn = (await (await choose(gw, '')).json()) as StoreView;
    expect(builtIn).toMatchObject({ source: 'built-in', url: null, chosen: 'built-in', setting: good });
    expect((await view(gw)).source).toBe('built-in');
    const other = await serve((_, res) => res.end(JSON.stringify({ version: '0.2.1', functions: [{ name: 'other' }] })));
    expect(await (await choose(gw, other)).json()).toMatchObject({ source: 'remote', url: other, chosen: other });
    expect((await view(gw)).catalog.functions.map((f) => f.name)).toEqual(['other']);
    expect(await (await choose(gw, null)).json()).toMatchObject({ source: 'remote', url: good, chosen: null });

    for (const bad of ['javascript:alert(1)', 'not a url', 'file:///etc/passwd']) {
      const res = await choose(gw, bad);
      expect(res.status, bad).toBe(400);
      expect(await res.text()).toMatch(/^invalid request: url: /);
    }
    const unknownField = await fetch(`${gw.url}/system/store`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: '{"link": "x"}' });
    expect(unknownField.status).toBe(400);
    // A page of another origin cannot change it with the browser's credentials.
    const foreign = await fetch(`${gw.url}/system/store`, { method: 'PUT', headers: { ...auth, origin: 'http://evil.example', 'content-type': 'application/json' }, body: '{"url": ""}' });
    expect(foreign.status).toBe(403);
  });
});
