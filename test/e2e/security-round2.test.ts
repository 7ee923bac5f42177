// The second round of attacks (issue 21), each tried again on the real stack
// on one node: callbacks sent to the node, the stack and the worker itself;
// the queue worker's and connector's /metrics read from functions of two
// namespaces; zombies left by health checks in every container. The
// registry pushed to from functions: test/cluster/firewall.test.ts (it needs
// several nodes). Figures print as "[security] ..." lines.
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { invokeAsync } from './support/async.js';
import { containersOf, deployFunction, docker, invoke, removeFunction, run } from './support/functions.js';
import { fn, gatewayUrl, image, monitoringFetch, systemFetch, waitFor } from './support/gateway.js';
import { healthCheckAndCountZombies } from './support/zombies.js';

function report(line: string): void {
  process.stderr.write(`[security] ${line}\n`);
}

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function worker(): Promise<string> {
  const [id] = await containersOf(`${inject('stackName')}_queue-worker`);
  if (!id) throw new Error('no queue worker container');
  return id;
}

/** async_callbacks_total of one function by result, read inside the worker (its loopback needs no token). */
async function callbackCounts(functionName: string): Promise<Record<string, number>> {
  const text = await docker('exec', await worker(), 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/metrics');
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = new RegExp(`^async_callbacks_total\\{function_name="${functionName}",result="(\\w+)"\\} (\\d+)`).exec(line);
    if (match) counts[match[1]!] = Number(match[2]);
  }
  return counts;
}

/** This machine's addresses as its containers reach it: docker_gwbridge's, docker0's (down while unused, so not in os.networkInterfaces), and the default route's interface. */
async function nodeAddresses(): Promise<string[]> {
  const route = readFileSync('/proc/net/route', 'utf8').split('\n').find((l) => l.split('\t')[1] === '00000000')?.split('\t')[0];
  const addresses: string[] = [];
  for (const device of ['docker_gwbridge', 'docker0', route].filter(Boolean) as string[]) {
    const { stdout } = await run('ip', ['-4', '-o', 'addr', 'show', 'dev', device]).catch(() => ({ stdout: '' }));
    addresses.push(...[...stdout.matchAll(/ inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]!));
  }
  return addresses;
}

describe('callbacks reach neither the node, nor the stack, nor the worker itself', () => {
  let listener: Server;
  let hits = 0;
  // A port of the test's range on this machine, where a callback to the node would land.
  const port = Number(process.env.E2E_LISTENER_PORT ?? 48101);
  beforeAll(async () => {
    listener = createServer((req, res) => {
      hits++;
      req.resume();
      res.end('reached the node');
    });
    await new Promise<void>((resolve, reject) => listener.once('error', reject).listen(port, '0.0.0.0', resolve));
    cleanups.push(() => new Promise((r) => listener.close(r)));
  });

  it('refuses every spelling of the worker\'s own address, the node\'s addresses, the gateway on every network, link-local, and the stack by name', async () => {
    const stack = inject('stackName');
    const target = fn('echoit');
    const networksOf = async (service: string) => {
      const [container] = await containersOf(`${stack}_${service}`);
      return JSON.parse(await docker('inspect', container!, '--format', '{{json .NetworkSettings.Networks}}')) as Record<string, { IPAddress: string }>;
    };
    // The gateway on the networks the worker shares with it: those it could reach. (On a network the
    // worker is not on, such as the builder's, the address is routed out of the node like any other
    // 10/8 address, which these suites allow; this machine's outer network answers those with 404.)
    const workerNetworks = new Set(Object.keys(await networksOf('queue-worker')));
    const gatewayAddresses = Object.entries(await networksOf('gateway'))
      .filter(([name]) => name !== `${stack}_functions` && workerNetworks.has(name))
      .map(([name, n]) => [name, n.IPAddress] as const)
      .filter(([, ip]) => ip);
    const urls = [
      'http://0.0.0.0:8080/',
      'http://[::ffff:7f00:1]:8080/',
      'http://[::]:8080/',
      'http://127.1:8080/',
      ...(await nodeAddresses()).map((address) => `http://${address}:${port}/cb`),
      ...gatewayAddresses.slice(0, 4).map(([, ip]) => `http://${ip}:8080/healthz`),
      'http://169.254.169.254/latest/meta-data/',
    ];
    // The stack by name: refused while the name has records; while the gateway is away (another
    // suite kills it) the name has none, and the callback fails on its lookup: not reached either.
    const byName = ['http://gateway:8080/system/functions', `http://tasks.gateway.${stack}_nats:8080/`];
    urls.push(...byName);
    const before = await callbackCounts(target);
    hits = 0;
    for (const url of urls) expect((await invokeAsync(target, 'x', { 'x-callback-url': url })).status, url).toBe(202);
    const counted = await waitFor('every callback refused', async () => {
      const now = await callbackCounts(target);
      const delta = (result: string) => (now[result] ?? 0) - (before[result] ?? 0);
      return delta('refused') + delta('delivered') + delta('failed') >= urls.length ? { refused: delta('refused'), delivered: delta('delivered'), failed: delta('failed') } : undefined;
    }, 60_000, 500);
    report(`callbacks: ${urls.length} URLs (${urls.join(' ')}; the gateway's networks ${gatewayAddresses.map(([n]) => n).slice(0, 4).join(', ')}): refused ${counted.refused}, delivered ${counted.delivered}, failed ${counted.failed}; a listener on the node's port ${port} got ${hits}`);
    expect(counted.delivered).toBe(0);
    expect(hits).toBe(0);
    expect(counted.refused + counted.failed).toBe(urls.length);
    expect(counted.failed, 'only a name without records may fail rather than be refused').toBeLessThanOrEqual(byName.length);
  });
});

describe('the queue worker\'s and the connector\'s /metrics are not the functions\' to read', () => {
  const namespace = 'secleak';
  it('answer 401 to functions of the default namespace and of another one; Prometheus still scrapes them; the gateway\'s /metrics stays public', async () => {
    const stack = inject('stackName');
    expect([201, 409]).toContain((await systemFetch(`/system/namespace/${namespace}`, { method: 'POST', body: '{}' })).status);
    cleanups.push(() => systemFetch(`/system/namespace/${namespace}`, { method: 'DELETE' }));
    const prober = 'leakprobe';
    const deployed = await systemFetch('/system/functions', { method: 'POST', body: JSON.stringify({ service: prober, namespace, image: image('echoit') }) });
    expect(deployed.status).toBe(202);
    cleanups.push(() => systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: prober, namespace }) }));
    // A function of another namespace is the service <namespace>--<name>.
    const [inNamespace] = await waitFor(`${prober}.${namespace} running`, async () => {
      const ids = await containersOf(`${namespace}--${prober}`);
      return ids.length ? ids : undefined;
    }, 60_000, 500);
    const probeFrom = async (container: string, service: string): Promise<string> =>
      docker('exec', container, 'sh', '-c', `wget -S -O - http://tasks.${service}:8080/metrics 2>&1; true`);
    const [inDefault] = await containersOf(fn('echoit'));
    const answers: string[] = [];
    for (const container of [inDefault!, inNamespace!]) {
      for (const service of ['queue-worker', 'connector']) answers.push(await probeFrom(container, service));
    }
    const statuses = answers.map((a) => /HTTP\/1\.1 (\d+)/.exec(a)?.[1] ?? a.trim().split('\n').pop());
    report(`/metrics of the queue worker and the connector from a function in the default namespace and one in ${namespace}: ${statuses.join(', ')}; function names seen: ${answers.filter((a) => a.includes('function_name=')).length}`);
    expect(statuses).toEqual(['401', '401', '401', '401']);
    for (const answer of answers) expect(answer).not.toContain('function_name=');

    const targets = await waitFor('Prometheus scraping the worker and the connector', async () => {
      const body = (await (await monitoringFetch('prometheus', '/api/v1/targets?state=active')).json()) as { data: { activeTargets: Array<{ labels: { job: string }; health: string }> } };
      const up = body.data.activeTargets.filter((t) => ['queue-worker', 'connector'].includes(t.labels.job));
      return up.length >= 2 && up.every((t) => t.health === 'up') ? up.map((t) => `${t.labels.job} ${t.health}`) : undefined;
    }, 30_000, 1_000);
    const gatewayMetrics = await (await fetch(gatewayUrl('/metrics'))).text();
    report(`Prometheus's targets: ${targets.join(', ')}; the gateway's public /metrics has gateway_function_invocation_total: ${gatewayMetrics.includes('gateway_function_invocation_total')}`);
    expect(gatewayMetrics).toContain('gateway_service_count');
    expect(stack).toBeTruthy();
  });
});

describe('no container of the stack keeps zombies', () => {
  it('after 10 health checks in every container, and a function whose processes leave orphans: 0 zombies', async () => {
    const stack = inject('stackName');
    const orphans = fn('orphans');
    // Each call leaves two background processes behind, orphaned when the command returns.
    await deployFunction({ service: orphans, image: image('watchdog'), envProcess: "sh -c 'sleep 1 & sleep 0.2 & echo done'" });
    cleanups.push(() => removeFunction(orphans));
    for (let i = 0; i < 5; i++) expect((await invoke(orphans, '')).text.trim()).toBe('done');
    await new Promise((r) => setTimeout(r, 1_500));
    const ids = [...(await docker('ps', '-q', '--filter', `label=com.docker.stack.namespace=${stack}`)).split('\n').filter(Boolean), ...(await containersOf(orphans))];
    const started = Date.now();
    const counted = await healthCheckAndCountZombies(docker, ids, 10);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    report(`zombies after 10 health checks in each of ${counted.length} containers (${seconds} s): ${counted.map((c) => `${c.name} ${c.zombies} (${c.cycles} checks)`).join(', ')}`);
    expect(counted.length).toBeGreaterThanOrEqual(8);
    expect(counted.filter((c) => c.zombies > 0)).toEqual([]);
    // Every service's check ran at least 10 times.
    for (const c of counted.filter((c) => c.check)) expect(c.cycles, c.name).toBeGreaterThanOrEqual(10);
  });
});
