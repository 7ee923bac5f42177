import * as os from 'node:os';
import { describe, expect, it } from 'vitest';
import { serveDuringTests } from '../../../../test/support/serve.js';
import { createNodeinfoServer } from '../../src/server.js';

describe('the nodeinfo server', () => {
  const url = serveDuringTests(createNodeinfoServer());

  it('tells the hostname, platform, arch and CPU count of this node', async () => {
    const text = await (await fetch(url(), { method: 'POST' })).text();
    expect(text).toContain(`Hostname: ${os.hostname()}\n`);
    expect(text).toContain(`Platform: ${os.platform()}\n`);
    expect(text).toContain(`Arch: ${os.arch()}\n`);
    expect(text).toContain(`CPU count: ${os.cpus().length}\n`);
    expect(text).toMatch(/^Uptime: \d+$/m);
    expect(text).not.toContain('Network:');
  });

  it('adds CPUs and network interfaces when the body says verbose', async () => {
    const text = await (await fetch(url(), { method: 'POST', body: 'verbose\n' })).text();
    expect(text).toContain('Network:');
    expect(text).toContain('"model"');
  });

  it('answers JSON when asked', async () => {
    const res = await fetch(url(), { headers: { accept: 'application/json' } });
    expect(res.headers.get('content-type')).toBe('application/json');
    const json = (await res.json()) as { hostname: string; cpuCount: number };
    expect(json.hostname).toBe(os.hostname());
    expect(json.cpuCount).toBe(os.cpus().length);
  });
});
