import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { demuxFrames, parseLogLine, sortByTime } from '../../src/programs/gateway/provider/swarm/logs.js';
import { isRelevantEvent } from '../../src/programs/gateway/provider/swarm/provider.js';
import { buildServiceSpec, isFunctionService, refOf, serviceNameOf, toFunctionStatus } from '../../src/programs/gateway/provider/swarm/spec.js';

const NS = 'openfaas-fn';
const context = { network: 'net-id', endpointMode: 'dnsrr' as const, secrets: [{ name: 'api-key', id: 'sec-id', swarmName: 'sfaas-1234-secret-openfaas-fn-api-key-v2' }], replicas: 1, defaultNamespace: NS };

describe('Swarm service spec of a function', () => {
  const deployment = {
    service: 'fn',
    namespace: NS,
    image: 'example/fn:1',
    envProcess: 'wc -l',
    envVars: { write_debug: 'true' },
    labels: { 'com.faas.max_replicas': '10' },
    annotations: { topic: 'orders' },
    constraints: ['node.role == manager'],
    secrets: ['api-key'],
    limits: { memory: '128m', cpu: '0.5' },
    requests: { memory: '64Mi', cpu: '100m' },
    readOnlyRootFilesystem: true,
  };
  const spec = buildServiceSpec(deployment, context);
  const template = spec.TaskTemplate as Dockerode.ContainerTaskSpec;

  it('labels it function=true on the service and on the container', () => {
    expect(spec.Labels).toMatchObject({ function: 'true', 'com.faas.max_replicas': '10', 'com.openfaas.annotations.topic': 'orders' });
    expect(template.ContainerSpec?.Labels).toMatchObject({ function: 'true', 'com.faas.max_replicas': '10' });
  });

  it('sets fprocess, env, network, endpoint mode, restart, limits, constraints and secrets', () => {
    expect(template.ContainerSpec?.Env).toEqual(['write_debug=true', 'fprocess=wc -l']);
    expect(template.Networks).toEqual([{ Target: 'net-id' }]);
    expect(spec.EndpointSpec).toEqual({ Mode: 'dnsrr' });
    expect(template.RestartPolicy?.Condition).toBe('any');
    expect(template.Resources).toEqual({ Limits: { MemoryBytes: 128 * 1024 ** 2, NanoCPUs: 5e8, Pids: 256 }, Reservations: { MemoryBytes: 64 * 1024 ** 2, NanoCPUs: 1e8 } });
    expect(template.Placement?.Constraints).toEqual(['node.role == manager']);
    // Where Swarm puts secrets and where OpenFaaS functions look for them.
    expect(template.ContainerSpec?.Secrets).toEqual([
      { SecretName: 'sfaas-1234-secret-openfaas-fn-api-key-v2', SecretID: 'sec-id', File: { Name: 'api-key', UID: '0', GID: '0', Mode: 0o444 } },
      { SecretName: 'sfaas-1234-secret-openfaas-fn-api-key-v2', SecretID: 'sec-id', File: { Name: '/var/openfaas/secrets/api-key', UID: '0', GID: '0', Mode: 0o444 } },
    ]);
    expect(spec.UpdateConfig?.Order).toBe('start-first');
  });

  it('reads back as the same function', () => {
    const status = toFunctionStatus({ ID: 'id', Spec: spec }, 1, NS);
    // Everything as the deploy wrote it (limits and requests too, not as the engine holds them), with the function's label.
    const { service, ...deployed } = deployment;
    expect(status).toMatchObject({ ...deployed, name: service, replicas: 1, availableReplicas: 1, labels: { function: 'true', 'com.faas.max_replicas': '10' } });
    // The gateway's own labels never show as the function's.
    expect(Object.keys(status.labels).some((k) => k.startsWith('com.swarmfaas.'))).toBe(false);
  });

  it('reads limits a stack file set (no labels) as Kubernetes quantities', () => {
    const fromStack = {
      ID: 'x',
      Spec: { Name: 'func_echoit', TaskTemplate: { ContainerSpec: { Image: 'e:1' }, Resources: { Limits: { MemoryBytes: 128 * 1024 ** 2, NanoCPUs: 25e7 } } } },
    };
    expect(toFunctionStatus(fromStack, 1, NS).limits).toEqual({ memory: '128Mi', cpu: '250m' });
  });

  it('names a function of another namespace "<namespace>--<name>" and reads it back', () => {
    const other = buildServiceSpec({ service: 'echo', namespace: 'team-a', image: 'e:1' }, context);
    expect(other.Name).toBe('team-a--echo');
    expect(serviceNameOf({ name: 'echo', namespace: NS }, NS)).toBe('echo');
    expect(refOf({ ID: 'x', Spec: other }, NS)).toEqual({ name: 'echo', namespace: 'team-a' });
    expect(refOf({ ID: 'y', Spec: { Name: 'func_echoit' } }, NS)).toEqual({ name: 'func_echoit', namespace: NS });
  });

  it('recognises functions by service or container label only', () => {
    expect(isFunctionService({ ID: 'a', Spec: { Labels: { function: 'true' } } })).toBe(true);
    expect(isFunctionService({ ID: 'b', Spec: { TaskTemplate: { ContainerSpec: { Labels: { function: 'true' } } } } })).toBe(true);
    expect(isFunctionService({ ID: 'c', Spec: { Name: 'func_gateway', Labels: { 'com.docker.stack.namespace': 'func' } } })).toBe(false);
    expect(isFunctionService({ ID: 'd', Spec: { Labels: { function: 'false' } } })).toBe(false);
  });

  it('shows the image without the digest Swarm pins', () => {
    const pinned = { ID: 'x', Spec: { Name: 'fn', TaskTemplate: { ContainerSpec: { Image: `example/fn:1@sha256:${'a'.repeat(64)}` } } } };
    expect(toFunctionStatus(pinned, 0, NS).image).toBe('example/fn:1');
  });
});

describe('Docker events and logs', () => {
  it('reads again after events about services, nodes and task containers, not after others', () => {
    expect(isRelevantEvent(JSON.stringify({ Type: 'service', Action: 'update', Actor: { Attributes: { name: 'fn' } } }))).toBe(true);
    expect(isRelevantEvent(JSON.stringify({ Type: 'node', Action: 'update', Actor: { Attributes: { name: 'n1' } } }))).toBe(true);
    expect(isRelevantEvent(JSON.stringify({ Type: 'container', Action: 'die', Actor: { Attributes: { 'com.docker.swarm.service.name': 'fn' } } }))).toBe(true);
    expect(isRelevantEvent(JSON.stringify({ Type: 'container', Actor: { Attributes: { name: 'plain' } } }))).toBe(false);
    expect(isRelevantEvent('garbage')).toBe(false);
  });

  it('demultiplexes frames split across chunks and parses timestamp, task and text', async () => {
    const frame = (stream: number, text: string) => {
      const payload = Buffer.from(text);
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(payload.length, 4);
      return Buffer.concat([header, payload]);
    };
    const line = '2024-05-01T10:00:00.123Z com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1 hello world\n';
    const bytes = Buffer.concat([frame(1, line), frame(2, line.replace('hello world', 'oops'))]);
    const chunks = [bytes.subarray(0, 5), bytes.subarray(5, 40), bytes.subarray(40)];
    const lines: string[] = [];
    for await (const l of demuxFrames((async function* () { yield* chunks; })())) lines.push(l);
    expect(lines.map((l) => parseLogLine({ name: 'fn', namespace: NS }, l))).toEqual([
      { name: 'fn', namespace: NS, instance: 't1', timestamp: '2024-05-01T10:00:00.123Z', text: 'hello world' },
      { name: 'fn', namespace: NS, instance: 't1', timestamp: '2024-05-01T10:00:00.123Z', text: 'oops' },
    ]);
  });

  it('merges the lines of several tasks in time order, reading fractions as numbers (Docker trims their zeros)', () => {
    const entry = (instance: string, timestamp: string, text: string) => ({ name: 'fn', namespace: NS, instance, timestamp, text });
    const merged = sortByTime([
      entry('running', '2024-05-01T10:00:00.51Z', 'b'),
      entry('running', '2024-05-01T10:00:01Z', 'd'),
      entry('starting', '2024-05-01T10:00:00.5Z', 'a'),
      entry('starting', '2024-05-01T10:00:00.9Z', 'c1'),
      entry('starting', '2024-05-01T10:00:00.9Z', 'c2'),
    ]);
    expect(merged.map((e) => e.text)).toEqual(['a', 'b', 'c1', 'c2', 'd']);
  });
});
