/** hubstats against a fake Docker Hub API (the only thing faked). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { hubstats } from '../../src/hubstats.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

async function fakeHub(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('hubstats', () => {
  it('counts the repositories of a user and lists them', async () => {
    const seen: string[] = [];
    const baseUrl = await fakeHub((req, res) => {
      seen.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ count: 3, results: [{ name: 'faas', pull_count: 10 }, { name: 'echo', pull_count: 2 }] }));
    });
    const result = await hubstats('AlexEllis2\n', { baseUrl, timeoutMs: 2000 });
    expect(seen).toEqual(['/v2/repositories/alexellis2/?page_size=100']);
    expect(result).toEqual({
      ok: true,
      text:
        'The organisation or user alexellis2 has 3 repositories on the Docker hub.\n' +
        '- alexellis2/faas (10 pulls)\n- alexellis2/echo (2 pulls)\n... and 1 more\n',
    });
  });

  it('says so when the user does not exist', async () => {
    const baseUrl = await fakeHub((_req, res) => {
      res.statusCode = 404;
      res.end('{"message":"object not found"}');
    });
    expect(await hubstats('nobody-here', { baseUrl, timeoutMs: 2000 })).toEqual({
      ok: false,
      error: 'Docker Hub knows no user or organisation named "nobody-here"',
    });
  });

  it('gives up with a clear error when the Hub does not answer in time', async () => {
    const baseUrl = await fakeHub(() => undefined); // accepts, never answers
    const started = Date.now();
    const result = await hubstats('alexellis2', { baseUrl, timeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result).toEqual({ ok: false, error: `no answer from Docker Hub (${baseUrl}) within 0.5 s` });
  });

  it('gives a clear error when the Hub cannot be reached', async () => {
    const baseUrl = await fakeHub(() => undefined);
    await new Promise((r) => server!.close(r));
    server = undefined;
    const result = await hubstats('alexellis2', { baseUrl, timeoutMs: 2000 });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/^cannot reach Docker Hub \(http:\/\/127\.0\.0\.1:\d+\): .*ECONNREFUSED/);
  });

  it('refuses a name that is not a Docker Hub name without asking the Hub', async () => {
    let asked = false;
    const baseUrl = await fakeHub((_req, res) => {
      asked = true;
      res.end('{}');
    });
    expect((await hubstats('', { baseUrl, timeoutMs: 500 })).ok).toBe(false);
    expect(await hubstats('../../etc', { baseUrl, timeoutMs: 500 })).toEqual({ ok: false, error: '"../../etc" is not a Docker Hub user name' });
    expect(asked).toBe(false);
  });
});
