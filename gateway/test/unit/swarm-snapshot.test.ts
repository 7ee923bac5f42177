// The pure builder from engine data (services, tasks, nodes) to one entry per
// function: which services are this gateway's functions, which tasks take
// traffic, where, on which node, and why a function is short of tasks.
import { describe, expect, it } from 'vitest';
import { buildEntries, type SnapshotOptions, type SwarmNode, type SwarmTask } from '../../src/programs/gateway/provider/swarm/snapshot.js';
import type { ServiceInfo } from '../../src/programs/gateway/provider/swarm/spec.js';

const NS = 'openfaas-fn';
const options: SnapshotOptions = { defaultNamespace: NS, networks: new Map([['net-fn', NS], ['net-a', 'team-a']]), upstream: 'tasks', port: 8080 };
const nodes: SwarmNode[] = [
  { ID: 'n1', Description: { Hostname: 'node-1' } },
  { ID: 'n2', Description: { Hostname: 'node-2' } },
];

function service(id: string, name: string, network: string, extra: { replicas?: number; labels?: Record<string, string> } = {}): ServiceInfo {
  return {
    ID: id,
    Spec: {
      Name: name,
      Labels: { function: 'true', ...extra.labels },
      TaskTemplate: { ContainerSpec: { Image: 'example/fn:1' }, Networks: [{ Target: network }] },
      Mode: { Replicated: { Replicas: extra.replicas ?? 1 } },
    },
  };
}

function task(serviceId: string, node: string, state: string, address: string, extra: Partial<SwarmTask> = {}): SwarmTask {
  return {
    ID: `${serviceId}-${address}`,
    ServiceID: serviceId,
    NodeID: node,
    DesiredState: 'running',
    Status: { State: state, Timestamp: '2026-12-01T10:00:00Z' },
    NetworksAttachments: [
      { Network: { ID: 'net-fn', Spec: { Name: 'func_functions' } }, Addresses: [`${address}/24`] },
      { Network: { ID: 'ingress' }, Addresses: ['10.255.0.9/16'] },
    ],
    ...extra,
  };
}

describe('Swarm snapshot', () => {
  it('routes only to running tasks meant to run, on the functions network, and says which node each is on', () => {
    const [entry] = buildEntries(
      [service('s1', 'func_echoit', 'net-fn', { replicas: 3 })],
      [
        task('s1', 'n1', 'running', '10.0.3.5'),
        task('s1', 'n2', 'starting', '10.0.3.7'),
        // Being removed: DesiredState shutdown, still running for a moment.
        task('s1', 'n2', 'running', '10.0.3.8', { DesiredState: 'shutdown' }),
      ],
      nodes,
      options,
    );
    expect(entry!.status).toMatchObject({ name: 'func_echoit', namespace: NS, replicas: 3, availableReplicas: 1 });
    expect(entry!.endpoints).toEqual(['10.0.3.5:8080']);
    expect(entry!.starting).toEqual(['10.0.3.5:8080', '10.0.3.7:8080']);
    expect(entry!.instances.map((i) => [i.node, i.state, i.ready])).toEqual([
      ['node-1', 'running', true],
      ['node-2', 'starting', false],
    ]);
  });

  it('sees only functions on its own networks: another stack\'s function and non-functions are not there', () => {
    const entries = buildEntries(
      [
        service('s1', 'func_echoit', 'net-fn'),
        service('s2', 'other_echoit', 'net-other'),
        { ID: 's3', Spec: { Name: 'func_gateway', TaskTemplate: { Networks: [{ Target: 'net-fn' }] } } },
      ],
      [],
      nodes,
      options,
    );
    expect(entries.map((e) => e.status.name)).toEqual(['func_echoit']);
  });

  it('puts a function in the namespace of its network, and refuses one labelled for a namespace whose network it is not on', () => {
    const entries = buildEntries(
      [
        service('s1', 'team-a--echo', 'net-a', { labels: { 'com.swarmfaas.namespace': 'team-a', 'com.swarmfaas.function': 'echo' } }),
        service('s2', 'team-a--sneaky', 'net-fn', { labels: { 'com.swarmfaas.namespace': 'team-a', 'com.swarmfaas.function': 'sneaky' } }),
      ],
      [],
      nodes,
      options,
    );
    expect(entries.map((e) => [e.status.name, e.status.namespace])).toEqual([['echo', 'team-a']]);
  });

  it('says why a function is short of tasks, from its newest failed task', () => {
    const [entry] = buildEntries(
      [service('s1', 'fn', 'net-fn')],
      [
        task('s1', 'n1', 'rejected', '10.0.3.9', { DesiredState: 'shutdown', Status: { State: 'rejected', Err: 'No such image: example/fn:1', Timestamp: '2026-12-01T10:00:05Z' } }),
        task('s1', 'n1', 'rejected', '10.0.3.8', { DesiredState: 'shutdown', Status: { State: 'rejected', Err: 'older error', Timestamp: '2026-12-01T10:00:01Z' } }),
      ],
      nodes,
      options,
    );
    expect(entry!.status.availableReplicas).toBe(0);
    expect(entry!.status.unavailableReason).toBe('No such image: example/fn:1');
  });

  it('in vip mode routes to the service name while a task is ready (the routing mesh balances)', () => {
    const vip = { ...options, upstream: 'vip' as const };
    const [up] = buildEntries([service('s1', 'fn', 'net-fn')], [task('s1', 'n1', 'running', '10.0.3.5')], nodes, vip);
    expect(up!.endpoints).toEqual(['fn:8080']);
    const [down] = buildEntries([service('s1', 'fn', 'net-fn')], [], nodes, vip);
    expect(down!.endpoints).toEqual([]);
  });

  it('keeps the gateway\'s state labels out of the labels and in the state', () => {
    const [entry] = buildEntries([service('s1', 'fn', 'net-fn', { labels: { 'com.swarmfaas.state.stepped-up-at': '123', team: 'a' } })], [], nodes, options);
    expect(entry!.state).toEqual({ 'stepped-up-at': '123' });
    expect(entry!.status.labels).toEqual({ function: 'true', team: 'a' });
  });
});
