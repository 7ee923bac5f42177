// What waking from zero probes: the addresses of a function's starting tasks
// (read from Swarm's task list) and the watchdog's readiness answer there.
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { liveTaskAddresses, type SwarmTask } from '../../src/provider/swarm-task-addresses.js';
import { probeWatchdog } from '../../src/upstream/health-probe.js';

const functionsNet = { ID: 'net1', Spec: { Name: 'stack_functions' } };
const otherNet = { ID: 'net2', Spec: { Name: 'somebody_else' } };

function task(state: string, desired: string, addresses: Array<[typeof functionsNet, string]>, service = 'svc1'): SwarmTask {
  return {
    ServiceID: service,
    DesiredState: desired,
    Status: { State: state },
    NetworksAttachments: addresses.map(([Network, address]) => ({ Network, Addresses: [address] })),
  };
}

describe('starting task addresses', () => {
  const onFunctions = (n: { id: string; name: string }) => n.name === 'stack_functions';

  it('lists starting and running tasks meant to run, on the functions network only, with the function port', () => {
    const tasks = [
      task('starting', 'running', [[functionsNet, '10.0.3.7/24'], [otherNet, '10.0.9.7/24']]),
      task('running', 'running', [[functionsNet, '10.0.3.5/24']]),
    ];
    expect(liveTaskAddresses(tasks, 'svc1', onFunctions, 8080)).toEqual(['10.0.3.5:8080', '10.0.3.7:8080']);
  });

  it('leaves out tasks being removed, not yet started, finished, and other services\' tasks', () => {
    const tasks = [
      task('running', 'shutdown', [[functionsNet, '10.0.3.8/24']]),
      task('preparing', 'running', [[functionsNet, '10.0.3.9/24']]),
      task('failed', 'running', [[functionsNet, '10.0.3.10/24']]),
      task('running', 'running', [[functionsNet, '10.0.3.11/24']], 'svc2'),
    ];
    expect(liveTaskAddresses(tasks, 'svc1', onFunctions, 8080)).toEqual([]);
  });
});

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
