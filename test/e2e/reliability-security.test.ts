// Who runs as what, and who can touch what, in the deployed stack: no process
// runs as root, functions cannot write their image, only the gateway and the
// builder hold the Docker socket, no function can reach the builder, and the
// credentials never reach the gateway's logs.
// (The gateway refusing to act on services that are not functions:
// gateway-api.test.ts; auth against path tricks: gateway-auth.test.ts and
// gateway/test/unit/fuzz-paths.test.ts.)
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { fn, gatewayUrl, waitFor } from './support/gateway.js';
import { containersOf, docker, report, run } from './support/functions.js';

const sampleFunctions = ['echoit', 'wordcount', 'base64', 'decodebase64', 'markdown', 'nodeinfo', 'hubstats', 'webhookstash'];
const services = ['gateway', 'queue-worker', 'connector', 'builder', 'nats', 'rabbitmq', 'prometheus', 'alertmanager', ...sampleFunctions];

interface ServiceSpec {
  Spec: {
    TaskTemplate: {
      ContainerSpec: { ReadOnly?: boolean; Mounts?: Array<{ Type: string; Source?: string; Target: string }> };
    };
  };
}

async function spec(service: string): Promise<ServiceSpec> {
  return (JSON.parse(await docker('service', 'inspect', fn(service))) as ServiceSpec[])[0]!;
}

/**
 * /proc/<pid>/status of the program of every running container of a service:
 * PID 1, or under Docker's init (`init: true`, which only reaps orphans and
 * passes signals on, as root since the container starts as root where the
 * program drops its privileges itself) its children. A container can stop
 * between `docker ps` and `docker exec` (an earlier suite's scale-down still
 * draining): one that is no longer running is passed over, any other failure
 * is an error.
 */
async function programStatuses(service: string): Promise<string[]> {
  const statuses: string[] = [];
  for (const container of await containersOf(service)) {
    try {
      const first = await docker('exec', container, 'cat', '/proc/1/status');
      if (!/^Name:\s+docker-init$/m.test(first)) {
        statuses.push(first);
        continue;
      }
      const children = (await docker('exec', container, 'cat', '/proc/1/task/1/children')).trim().split(/\s+/).filter(Boolean);
      expect(children.length, `${service}: Docker's init runs no program`).toBeGreaterThan(0);
      for (const pid of children) statuses.push(await docker('exec', container, 'cat', `/proc/${pid}/status`));
    } catch (error) {
      const running = await docker('inspect', '--format', '{{.State.Running}}', container).catch(() => 'false');
      if (running === 'true') throw error;
    }
  }
  return statuses;
}

// Earlier suites scale functions up and back down: look at the stack once
// every service runs exactly its desired tasks again (no container draining).
beforeAll(async () => {
  for (const service of services) {
    await waitFor(`${fn(service)} settled at its desired replicas`, async () => {
      // A global service (the gateway: one per manager) has no replica count: `docker service ls` has its desired count.
      const desired = Number((await docker('service', 'ls', '--filter', `name=${fn(service)}`, '--format', '{{.Name}} {{.Replicas}}')).split('\n').find((l) => l.startsWith(`${fn(service)} `))?.split(' ')[1]?.split('/')[1] ?? NaN);
      return (await containersOf(fn(service))).length === desired ? true : undefined;
    }, 90_000, 500);
  }
}, 120_000);

describe('least privilege', () => {
  it("no program of the stack runs as root (every container's, under Docker's init where it has one: real and effective UID)", async () => {
    const seen: string[] = [];
    for (const service of services) {
      // The gateway starts as root only to learn the Docker socket's group, then drops it: a task
      // another suite has just restarted may be caught before that, so it is read again (10 s at most).
      const uids = await waitFor(`${service}'s programs not running as root`, async () => {
        const statuses = await programStatuses(fn(service));
        if (statuses.length === 0) throw new Error(`${service}: no program found`);
        const ids = statuses.map((status) => /^Uid:\s+(\d+)\s+(\d+)/m.exec(status)!.slice(1).map(Number) as [number, number]);
        if (ids.some(([real, effective]) => real === 0 || effective === 0)) throw new Error(`${service} runs as UID ${ids.map(([real, effective]) => `${real}/${effective}`).join(', ')} (real/effective)`);
        return ids;
      }, 10_000, 250);
      seen.push(...uids.map(([real]) => `${service}=${real}`));
    }
    report(`process UIDs: ${seen.join(' ')}`);
  });

  it('functions have a read-only root filesystem and a writable, bounded /tmp', async () => {
    for (const name of sampleFunctions) {
      const container = (await spec(name)).Spec.TaskTemplate.ContainerSpec;
      expect(container.ReadOnly, name).toBe(true);
      expect(container.Mounts?.find((m) => m.Target === '/tmp')?.Type, name).toBe('tmpfs');
    }
    const [echoit] = await containersOf(fn('echoit'));
    await expect(docker('exec', echoit!, 'touch', '/home/app/new-file')).rejects.toThrow(/Read-only file system/);
    await expect(docker('exec', echoit!, 'touch', '/usr/local/bin/new-file')).rejects.toThrow(/Read-only file system|Permission denied/);
    await docker('exec', echoit!, 'sh', '-c', 'echo x > /tmp/rel-probe && rm /tmp/rel-probe');
  });

  it('only the gateway and the builder mount the Docker socket', async () => {
    const holders: string[] = [];
    for (const service of services) {
      const mounts = (await spec(service)).Spec.TaskTemplate.ContainerSpec.Mounts ?? [];
      if (mounts.some((m) => m.Source === '/var/run/docker.sock')) holders.push(service);
    }
    expect(holders).toEqual(['gateway', 'builder']);
  });

  it("only the gateway shares the builder's network: no function reaches the builder (nor the engine it drives)", async () => {
    const network = await docker('network', 'inspect', fn('builder'), '--format', '{{.Id}}');
    const on: string[] = [];
    for (const service of services) {
      const targets = (JSON.parse(await docker('service', 'inspect', fn(service), '--format', '{{json .Spec.TaskTemplate.Networks}}')) as { Target: string }[] | null) ?? [];
      if (targets.some((t) => t.Target === network)) on.push(service);
    }
    expect(on).toEqual(['gateway', 'builder']);
    const [echoit] = await containersOf(fn('echoit'));
    const probe = "for (const h of ['builder', 'tasks.builder']) fetch(`http://${h}:8080/healthz`, { signal: AbortSignal.timeout(3000) }).then((r) => console.log(h, 'reached', r.status), (e) => console.log(h, 'unreachable', e.cause?.code ?? e.name))";
    const seen = await docker('exec', echoit!, 'node', '-e', probe);
    expect(seen).not.toMatch(/reached/);
    expect(seen.split('\n').sort()).toEqual(['builder unreachable ENOTFOUND', 'tasks.builder unreachable ENOTFOUND']);
    const [gateway] = await containersOf(fn('gateway'));
    expect(await docker('exec', gateway!, 'node', '-e', probe)).toMatch(/^builder reached 200$/m);
  });
});

describe('credentials', () => {
  it('never reach the gateway logs, right or wrong', async () => {
    const [user, password] = inject('credentials').split(':') as [string, string];
    const wrong = `rel-wrong-${Date.now()}`;
    const attempts: Array<[string, string]> = [[user, password], [user, wrong], [wrong, password]];
    for (const [u, p] of attempts) {
      const res = await fetch(gatewayUrl('/system/functions'), { headers: { authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` } });
      expect(res.status).toBe(u === user && p === password ? 200 : 401);
    }
    // A deploy whose registryAuth carries a password, refused before Docker (bad image).
    const registrySecret = `rel-registry-${Date.now()}`;
    const registryAuth = Buffer.from(`someone:${registrySecret}`).toString('base64');
    const deploy = await fetch(gatewayUrl('/system/functions'), {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ service: fn('relsecret'), image: 'Bad Image', registryAuth }),
    });
    expect(deploy.status).toBe(400);
    expect(await deploy.text()).not.toContain(registrySecret);

    // The running gateway's own log (it answered the calls above): `docker service logs` also walks the
    // logs of every task the suites before killed, which took over 120 s after the async suite.
    let logs = '';
    for (const id of await containersOf(fn('gateway'))) {
      const { stdout, stderr } = await run('docker', ['logs', id], { maxBuffer: 64 * 1024 * 1024 });
      logs += stdout + stderr;
    }
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [password, wrong, registrySecret, registryAuth, Buffer.from(`${user}:${password}`).toString('base64')]) {
      expect(logs.includes(secret), 'a credential appears in the gateway logs').toBe(false);
    }
    report(`credentials: ${logs.split('\n').length} gateway log lines searched for 5 secrets, none found`);
  });
});
