import * as os from 'node:os';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeinfoServer } from '../../src/server.js';

describe('the nodeinfo server', () => {
  const server = createNodeinfoServer();
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('tells the hostname, platform, arch and CPU count of this node', async () => {
    const text = await (await fetch(url, { method: 'POST' })).text();
    expect(text).toContain(`Hostname: ${os.hostname()}\n`);
    expect(text).toContain(`Platform: ${os.platform()}\n`);
    expect(text).toContain(`Arch: ${os.arch()}\n`);
    expect(text).toContain(`CPU count: ${os.cpus().length}\n`);
    expect(text).toMatch(/^Uptime: \d+$/m);
    expect(text).not.toContain('Network:');
  });

  it('adds CPUs and network interfaces when the body says verbose', async () => {
    const text = await (await fetch(url, { method: 'POST', body: 'verbose\n' })).text();
    expect(text).toContain('Network:');
    expect(text).toContain('"model"');
  });

  it('answers JSON when asked', async () => {
    const res = await fetch(url, { headers: { accept: 'application/json' } });
    expect(res.headers.get('content-type')).toBe('application/json');
    const json = (await res.json()) as { hostname: string; cpuCount: number };
    expect(json.hostname).toBe(os.hostname());
    expect(json.cpuCount).toBe(os.cpus().length);
  });
});
