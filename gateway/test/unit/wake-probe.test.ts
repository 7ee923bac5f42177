// The watchdog's readiness answer, which waking from zero probes.
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { probeWatchdog } from '../../src/core/upstream/health-probe.js';

describe('probeWatchdog', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  async function watchdog(status: number): Promise<string> {
    server = createServer((req, res) => {
      res.statusCode = req.url === '/_/health' ? status : 404;
      res.end();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return `127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  it('is true only when /_/health answers 200', async () => {
    expect(await probeWatchdog(await watchdog(200))).toBe(true);
  });

  it('is false while the watchdog answers 503 (starting or draining)', async () => {
    expect(await probeWatchdog(await watchdog(503))).toBe(false);
  });

  it('is false, quickly, when nothing listens', async () => {
    const address = await watchdog(200);
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    const started = Date.now();
    expect(await probeWatchdog(address, 300)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
