// SwarmProvider against a fake engine client (the dockerode calls it makes):
// the scale retry and its compare-and-set, update's network choice, scoping
// to the gateway's own network, and list-and-watch that reads everything
// again after the event stream reconnects.
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SwarmProvider } from '../../src/programs/gateway/provider/swarm/provider.js';
import type { ServiceInfo } from '../../src/programs/gateway/provider/swarm/spec.js';
import type { SwarmTask } from '../../src/programs/gateway/provider/swarm/snapshot.js';
import { ProviderError, type FunctionEntry } from '../../src/programs/gateway/provider/types.js';

const NS = 'openfaas-fn';
const STACK = { 'com.docker.stack.namespace': 'func' };

interface Failure {
  statusCode?: number;
  json?: { message: string };
}

/** The engine API as far as the provider uses it, in memory. */
class FakeEngine {
  services = new Map<string, ServiceInfo>();
  tasks: SwarmTask[] = [];
  networks = new Map<string, { Id: string; Name: string; Scope: string; Labels?: Record<string, string> }>([
    ['func_functions', { Id: 'net-fn', Name: 'func_functions', Scope: 'swarm', Labels: STACK }],
    ['net-fn', { Id: 'net-fn', Name: 'func_functions', Scope: 'swarm', Labels: STACK }],
    ['other_net', { Id: 'net-other', Name: 'other_net', Scope: 'swarm' }],
    ['bridge', { Id: 'net-bridge', Name: 'bridge', Scope: 'local' }],
  ]);
  updates: Array<{ name: string; body: Record<string, unknown> }> = [];
  /** Failures to answer to the next service updates, in order. */
  updateFailures: Failure[] = [];
  listCalls = 0;
  eventStreams: PassThrough[] = [];

  addService(name: string, network = 'net-fn', replicas = 1): ServiceInfo {
    const service: ServiceInfo = {
      ID: `id-${name}`,
      Version: { Index: 1 },
      Spec: {
        Name: name,
        Labels: { function: 'true' },
        TaskTemplate: { ContainerSpec: { Image: 'example/fn:1' }, Networks: [{ Target: network }] },
        Mode: { Replicated: { Replicas: replicas } },
      },
    };
    this.services.set(name, service);
    return service;
  }

  async listServices() {
    this.listCalls++;
    return [...this.services.values()];
  }
  async listTasks(options?: { filters?: { service?: string[] } }) {
    const only = options?.filters?.service;
    return this.tasks.filter((t) => !only || only.includes(t.ServiceID ?? ''));
  }
  async listNodes() {
    return [{ ID: 'n1', Description: { Hostname: 'node-1' } }];
  }
  async listSecrets() {
    return [];
  }
  async listNetworks(options?: { filters?: { label?: string[] } }) {
    const wanted = options?.filters?.label ?? [];
    return [...new Set(this.networks.values())].filter((n) => wanted.every((l) => { const [k, v] = l.split('='); return n.Labels?.[k!] === v; }));
  }
  configs: Array<{ ID: string; CreatedAt: string; Spec: { Name: string; Labels: Record<string, string>; Data: string } }> = [];
  private configSeq = 0;
  /** Stack networks for namespaces, as docker-compose makes them (slot 1..n). */
  addSlots(n: number): void {
    for (let i = 1; i <= n; i++) {
      const network = { Id: `net-slot-${i}`, Name: `func_ns-${i}`, Scope: 'swarm', Labels: { ...STACK, 'com.swarmfaas.kind': 'namespace-slot', 'com.swarmfaas.slot': String(i) } };
      this.networks.set(network.Name, network);
      this.networks.set(network.Id, network);
    }
  }
  async listConfigs(options?: { filters?: { label?: string[] } }) {
    const wanted = options?.filters?.label ?? [];
    return this.configs.filter((c) => wanted.every((l) => { const [k, v] = l.split('='); return c.Spec.Labels[k!] === v; }));
  }
  async createConfig(spec: { Name: string; Labels: Record<string, string>; Data: string }) {
    if (this.configs.some((c) => c.Spec.Name === spec.Name)) throw Object.assign(new Error('config exists'), { statusCode: 409, json: { message: `config ${spec.Name} already exists` } });
    const ID = `cfg-${++this.configSeq}`;
    this.configs.push({ ID, CreatedAt: new Date(1_700_000_000_000 + this.configSeq).toISOString(), Spec: spec });
    return { id: ID };
  }
  getConfig(id: string) {
    return { remove: async () => void (this.configs = this.configs.filter((c) => c.ID !== id)) };
  }
  getService(name: string) {
    return {
      inspect: async () => {
        const service = this.services.get(name) ?? [...this.services.values()].find((s) => s.ID === name);
        if (!service) throw Object.assign(new Error('no such service'), { statusCode: 404 });
        return structuredClone(service);
      },
      update: async (body: Record<string, unknown> & { version?: number }) => {
        const failure = this.updateFailures.shift();
        if (failure) throw Object.assign(new Error(failure.json?.message ?? 'failed'), failure);
        const service = [...this.services.values()].find((s) => s.ID === name)!;
        if (body.version !== service.Version?.Index) throw Object.assign(new Error('update out of sequence'), { statusCode: 500, json: { message: 'rpc error: update out of sequence' } });
        const { version: _version, ...spec } = body;
        this.updates.push({ name: service.Spec!.Name!, body: spec });
        service.Spec = spec as ServiceInfo['Spec'];
        service.Version = { Index: (service.Version?.Index ?? 0) + 1 };
      },
      remove: async () => {
        this.services.delete(name);
      },
    };
  }
  getNetwork(name: string) {
    return {
      inspect: async () => {
        const network = this.networks.get(name);
        if (!network) throw Object.assign(new Error('no such network'), { statusCode: 404 });
        return network;
      },
    };
  }
  getContainer() {
    return { inspect: async () => ({}) };
  }
  async createService(spec: { Name: string }) {
    this.services.set(spec.Name, { ID: `id-${spec.Name}`, Version: { Index: 1 }, Spec: spec });
  }
  async getEvents() {
    const stream = new PassThrough();
    this.eventStreams.push(stream);
    return stream;
  }
}

function provider(engine: FakeEngine, pollMs = 60_000) {
  return new SwarmProvider({
    functionsNetwork: 'func_functions',
    upstream: 'tasks',
    functionEndpointMode: 'dnsrr',
    functionPort: 8080,
    defaultNamespace: NS,
    pollMs,
    log: pino({ level: 'silent' }),
    docker: engine as unknown as Docker,
  });
}

const stops: Array<() => void> = [];
afterEach(() => {
  while (stops.length) stops.pop()!();
});

describe('SwarmProvider.scale', () => {
  it('retries when another writer changed the service between its read and its write', async () => {
    const engine = new FakeEngine();
    engine.addService('fn');
    engine.updateFailures.push({ statusCode: 500, json: { message: 'rpc error: code = Unknown desc = update out of sequence' } });
    await provider(engine).scale({ name: 'fn', namespace: NS }, 3);
    expect(engine.updates.map((u) => (u.body.Mode as { Replicated: { Replicas: number } }).Replicated.Replicas)).toEqual([3]);
  });

  it('gives up with a conflict when the replicas are no longer the ones the caller read (compare-and-set), changing nothing', async () => {
    const engine = new FakeEngine();
    engine.addService('fn', 'net-fn', 5);
    const error = await provider(engine).scale({ name: 'fn', namespace: NS }, 10, { ifReplicas: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).kind).toBe('conflict');
    expect(engine.updates).toEqual([]);
  });

  it('stores the gateway\'s state with the replicas, in service labels only', async () => {
    const engine = new FakeEngine();
    engine.addService('fn');
    const p = provider(engine);
    await p.scale({ name: 'fn', namespace: NS }, 5, { ifReplicas: 1, state: { 'stepped-up-at': '42' } });
    expect((await p.get({ name: 'fn', namespace: NS }))?.state).toEqual({ 'stepped-up-at': '42' });
    const spec = engine.services.get('fn')!.Spec!;
    expect(spec.Labels?.['com.swarmfaas.state.stepped-up-at']).toBe('42');
    expect((spec.TaskTemplate as Docker.ContainerTaskSpec).ContainerSpec?.Labels).toBeUndefined();
  });

  it('does not touch a service on another stack\'s network', async () => {
    const engine = new FakeEngine();
    engine.addService('theirs', 'net-other');
    await expect(provider(engine).scale({ name: 'theirs', namespace: NS }, 3)).rejects.toMatchObject({ kind: 'not-found' });
    expect(engine.updates).toEqual([]);
  });
});

describe('SwarmProvider.update and deploy', () => {
  it('keeps the network the function is on when the update names none', async () => {
    const engine = new FakeEngine();
    engine.addService('fn');
    await provider(engine).update({ service: 'fn', namespace: NS, image: 'example/fn:2' });
    expect((engine.updates[0]!.body.TaskTemplate as Docker.ContainerTaskSpec).Networks).toEqual([{ Target: 'net-fn' }]);
  });

  it('refuses any network but the gateway\'s functions network, naming it', async () => {
    const engine = new FakeEngine();
    const p = provider(engine);
    await expect(p.deploy({ service: 'x', namespace: NS, image: 'e:1', network: 'other_net' })).rejects.toThrow(/network: functions of namespace openfaas-fn join only/);
    await expect(p.deploy({ service: 'y', namespace: NS, image: 'e:1', network: 'bridge' })).rejects.toThrow(/not a swarm-scoped/);
    await expect(p.deploy({ service: 'z', namespace: NS, image: 'e:1', network: 'nope' })).rejects.toThrow(/no network named nope/);
    await p.deploy({ service: 'ok', namespace: NS, image: 'e:1', network: 'func_functions', replicas: 2 });
    expect(engine.services.get('ok')?.Spec?.Mode?.Replicated?.Replicas).toBe(2);
  });
});

describe('SwarmProvider namespaces (the stack\'s namespace networks)', () => {
  const networkOfService = (engine: FakeEngine, name: string) =>
    (engine.services.get(name)!.Spec!.TaskTemplate as Docker.ContainerTaskSpec).Networks?.map((n) => n.Target);

  it('gives a new namespace the lowest free network; its functions join it alone and are listed in it; deleting frees it', async () => {
    const engine = new FakeEngine();
    engine.addSlots(3);
    const p = provider(engine);
    await p.createNamespace({ name: 'team-a', labels: {}, annotations: {} });
    await p.createNamespace({ name: 'team-b', labels: { owner: 'b' }, annotations: {} });
    await p.deploy({ service: 'fn', namespace: 'team-b', image: 'e:1' });
    expect(networkOfService(engine, 'team-b--fn')).toEqual(['net-slot-2']);
    expect((await p.list()).map((e) => `${e.status.name}.${e.status.namespace}`)).toEqual(['fn.team-b']);
    // A namespace's labels change without it losing its network.
    await p.updateNamespace({ name: 'team-b', labels: { owner: 'c' }, annotations: {} });
    expect((await p.list()).map((e) => e.status.namespace)).toEqual(['team-b']);
    await expect(p.deleteNamespace('team-b')).rejects.toThrow(/still holds functions: team-b--fn/);
    await p.remove({ name: 'fn', namespace: 'team-b' });
    await p.deleteNamespace('team-a');
    await p.createNamespace({ name: 'team-c', labels: {}, annotations: {} });
    await p.deploy({ service: 'fn', namespace: 'team-c', image: 'e:1' });
    expect(networkOfService(engine, 'team-c--fn')).toEqual(['net-slot-1']);
  });

  it('refuses a namespace when every network is taken, saying how to get more; and a duplicate', async () => {
    const engine = new FakeEngine();
    engine.addSlots(2);
    const p = provider(engine);
    await p.createNamespace({ name: 'a', labels: {}, annotations: {} });
    await expect(p.createNamespace({ name: 'a', labels: {}, annotations: {} })).rejects.toThrow(/namespace a already exists/);
    await p.createNamespace({ name: 'b', labels: {}, annotations: {} });
    const full = await p.createNamespace({ name: 'c', labels: {}, annotations: {} }).catch((e: unknown) => e);
    expect((full as ProviderError).kind).toBe('conflict');
    expect((full as Error).message).toMatch(/all 2 namespace networks .* in use; delete a namespace, or redeploy with NAMESPACE_SLOTS=4/);
    expect((await p.listNamespaces()).map((n) => n.name)).toEqual([NS, 'a', 'b']);
  });

  it('says so when the stack has no namespace networks at all', async () => {
    const engine = new FakeEngine();
    await expect(provider(engine).createNamespace({ name: 'a', labels: {}, annotations: {} })).rejects.toThrow(/no namespace networks \(deploy it with .\/deploy_stack.sh/);
    expect(engine.configs).toEqual([]);
  });

  it('two gateways creating namespaces at the same moment never share a network', async () => {
    const engine = new FakeEngine();
    engine.addSlots(4);
    const [one, two] = [provider(engine), provider(engine)];
    await Promise.all(['a', 'b', 'c', 'd'].map((name, i) => (i % 2 ? one : two).createNamespace({ name, labels: {}, annotations: {} })));
    const claimed = engine.configs.map((c) => c.Spec.Labels['com.swarmfaas.network']);
    expect(new Set(claimed).size).toBe(4);
    expect(engine.configs).toHaveLength(4);
  });
});

describe('SwarmProvider.watch (list and watch)', () => {
  async function next(snapshots: FunctionEntry[][], count: number): Promise<void> {
    const deadline = Date.now() + 3_000;
    while (snapshots.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(snapshots.length).toBeGreaterThanOrEqual(count);
  }

  async function until(snapshots: FunctionEntry[][], names: string[], withinMs = 3_000): Promise<number> {
    const started = Date.now();
    const has = () => JSON.stringify(snapshots.at(-1)?.map((e) => e.status.name).sort()) === JSON.stringify(names);
    while (!has() && Date.now() - started < withinMs) await new Promise((r) => setTimeout(r, 10));
    expect(snapshots.at(-1)?.map((e) => e.status.name).sort()).toEqual(names);
    return Date.now() - started;
  }

  it('reads everything at start, again after an event, and again after the event stream reconnects', async () => {
    const engine = new FakeEngine();
    engine.addService('a');
    const snapshots: FunctionEntry[][] = [];
    stops.push(provider(engine).watch((entries) => snapshots.push(entries)));
    await until(snapshots, ['a']);
    while (engine.eventStreams.length < 1) await new Promise((r) => setTimeout(r, 10));

    engine.addService('b');
    engine.eventStreams[0]!.write(JSON.stringify({ Type: 'service', Action: 'create', Actor: { Attributes: { name: 'b' } } }) + '\n');
    // An event is read within its debounce (no poll for a minute here).
    expect(await until(snapshots, ['a', 'b'])).toBeLessThan(500);

    // The stream drops; a function is deployed while it is down, with no event for it.
    engine.eventStreams[0]!.end();
    engine.addService('c');
    // Reconnected (after its first back-off of 1 s) and read everything again.
    expect(await until(snapshots, ['a', 'b', 'c'])).toBeLessThan(2_000);
    expect(engine.eventStreams.length).toBe(2);
  });

  it('reads again every poll interval, so a task change on another node (no local event) shows', async () => {
    const engine = new FakeEngine();
    const service = engine.addService('a');
    const snapshots: FunctionEntry[][] = [];
    stops.push(provider(engine, 100).watch((entries) => snapshots.push(entries)));
    await next(snapshots, 1);
    expect(snapshots.at(-1)![0]!.endpoints).toEqual([]);
    engine.tasks.push({
      ID: 't1',
      ServiceID: service.ID,
      NodeID: 'n1',
      DesiredState: 'running',
      Status: { State: 'running' },
      NetworksAttachments: [{ Network: { ID: 'net-fn' }, Addresses: ['10.0.3.5/24'] }],
    });
    const started = Date.now();
    while (snapshots.at(-1)![0]!.endpoints.length === 0 && Date.now() - started < 2_000) await new Promise((r) => setTimeout(r, 10));
    expect(snapshots.at(-1)![0]!.endpoints).toEqual(['10.0.3.5:8080']);
    expect(snapshots.at(-1)![0]!.instances[0]!.node).toBe('node-1');
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('keeps the last snapshot while the engine does not answer, and reads again when it does', async () => {
    const engine = new FakeEngine();
    engine.addService('a');
    const snapshots: FunctionEntry[][] = [];
    stops.push(provider(engine, 50).watch((entries) => snapshots.push(entries)));
    await next(snapshots, 1);
    const listServices = engine.listServices.bind(engine);
    engine.listServices = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' });
    };
    await new Promise((r) => setTimeout(r, 200));
    const during = snapshots.length;
    engine.listServices = listServices;
    engine.addService('b');
    await next(snapshots, during + 1);
    expect(snapshots.at(-1)!.map((e) => e.status.name).sort()).toEqual(['a', 'b']);
  });
});
