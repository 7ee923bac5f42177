import { describe, expect, it } from 'vitest';
import { formatCpu, formatMemory, memoryBytes, nanoCpus } from '../../src/programs/gateway/api/quantities.js';
import { decodeRegistryAuth } from '../../src/programs/gateway/api/registry-auth.js';
import { swarmRules } from '../../src/programs/gateway/provider/swarm/rules.js';
import { isImageReference, requestSchemas, validate, ValidationError } from '../../src/programs/gateway/validation.js';

const valid = { service: 'func_echoit', image: 'swarmfaas/echoit:0.1.0' };
const schemas = requestSchemas(swarmRules, 'openfaas-fn');
const parseDeployment = (body: unknown) => validate(schemas.deployment, body);

function problem(body: unknown): string {
  try {
    parseDeployment(body);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as Error).message;
  }
  throw new Error('expected a validation error');
}

describe('deployment validation', () => {
  it('accepts a minimal and a full OpenFaaS body', () => {
    expect(parseDeployment(valid)).toEqual({ ...valid, namespace: 'openfaas-fn' });
    const full = parseDeployment({
      ...valid,
      envProcess: 'cat',
      network: 'func_functions',
      envVars: { write_debug: 'true' },
      labels: { 'com.faas.max_replicas': '10' },
      annotations: { topic: 'orders' },
      constraints: ['node.role == manager', 'node.platform.arch != arm'],
      secrets: ['api-key'],
      registryAuth: Buffer.from('user:pass').toString('base64'),
      limits: { memory: '128m', cpu: '0.5' },
      requests: { memory: '64m' },
      namespace: 'team-a',
    });
    expect(full.limits).toEqual({ memory: '128m', cpu: '0.5' });
    expect(full.namespace).toBe('team-a');
    expect(full.network).toBe('func_functions');
    expect(full.registryAuth).toEqual({ username: 'user', password: 'pass' });
  });

  it('reads null (what Go clients send for an empty map or list) as absent', () => {
    const body = { ...valid, labels: null, annotations: null, envVars: null, secrets: null, constraints: null, limits: null, requests: { memory: null, cpu: '100m' }, namespace: null };
    expect(parseDeployment(body)).toEqual({ ...valid, namespace: 'openfaas-fn', requests: { cpu: '100m' } });
  });

  it.each(['100m', '0.5', '2', '1.5'])('accepts the CPU amount %s', (cpu) => {
    expect(parseDeployment({ ...valid, limits: { cpu } }).limits).toEqual({ cpu });
  });

  it.each(['128Mi', '1Gi', '512M', '1G', '128m', '1g', '512k', '64mb', '1048576'])('accepts the memory amount %s', (memory) => {
    expect(parseDeployment({ ...valid, limits: { memory } }).limits).toEqual({ memory });
  });

  it.each([['lots'], ['-1'], ['1.2.3'], ['12Q'], ['100mm']])('refuses the amount %s, naming the field', (amount) => {
    expect(problem({ ...valid, limits: { memory: amount } })).toMatch(/limits\.memory: /);
    expect(problem({ ...valid, requests: { cpu: amount } })).toMatch(/requests\.cpu: /);
  });

  it('refuses unknown fields inside limits and requests by name', () => {
    expect(problem({ ...valid, limits: { memory: '128Mi', gpu: '1' } })).toMatch(/limits: unknown field gpu/);
    expect(problem({ ...valid, requests: { cpus: '1' } })).toMatch(/requests: unknown field cpus/);
  });

  it('refuses labels that belong to the engine or to the gateway', () => {
    expect(problem({ ...valid, labels: { 'com.docker.stack.namespace': 'func' } })).toMatch(/labels: com\.docker\.stack\.namespace: labels starting com\.docker\. are reserved/);
    expect(problem({ ...valid, labels: { 'com.swarmfaas.namespace': 'x' } })).toMatch(/reserved/);
  });

  it('refuses a concurrency or a target that is not a whole number of 1 or more, a capacity target above the limit, and a max_inflight that differs from the limit, naming the label and why', () => {
    const labels = (extra: Record<string, string>) => ({ ...valid, labels: extra });
    expect(problem(labels({ 'com.openfaas.concurrency': '0' }))).toMatch(/labels\.com\.openfaas\.concurrency: "0" is not a whole number from 1 to 10000/);
    expect(problem(labels({ 'com.openfaas.concurrency': '2.5' }))).toMatch(/labels\.com\.openfaas\.concurrency: "2\.5" is not a whole number/);
    expect(problem(labels({ 'com.openfaas.concurrency': 'two' }))).toMatch(/com\.openfaas\.concurrency/);
    expect(problem(labels({ 'com.openfaas.scale.target': '-1' }))).toMatch(/labels\.com\.openfaas\.scale\.target: "-1" is not a whole number of 1 or more/);
    expect(problem(labels({ 'com.openfaas.scale.target': '0' }))).toMatch(/scale\.target/);
    expect(problem(labels({ 'com.openfaas.scale.type': 'capacity', 'com.openfaas.concurrency': '2', 'com.openfaas.scale.target': '3' }))).toMatch(
      /labels\.com\.openfaas\.scale\.target: 3 is above the concurrency limit \(2\)/,
    );
    expect(problem({ ...labels({ 'com.openfaas.scale.type': 'capacity', 'com.openfaas.scale.target': '5' }), envVars: { max_inflight: '4' } })).toMatch(/above the concurrency limit \(4\)/);
    expect(problem({ ...labels({ 'com.openfaas.concurrency': '2' }), envVars: { max_inflight: '4' } })).toMatch(/envVars\.max_inflight: "4" differs from com\.openfaas\.concurrency=2/);
    // Fine: a queue target is messages, not calls in flight; a target at the limit.
    expect(() => parseDeployment(labels({ 'com.openfaas.scale.type': 'queue', 'com.openfaas.concurrency': '2', 'com.openfaas.scale.target': '20' }))).not.toThrow();
    expect(() => parseDeployment(labels({ 'com.openfaas.scale.type': 'capacity', 'com.openfaas.concurrency': '2', 'com.openfaas.scale.target': '2' }))).not.toThrow();
  });

  it('gives a function with com.openfaas.concurrency the same limit in its watchdog (max_inflight), keeping its other variables', () => {
    const deployment = parseDeployment({ ...valid, labels: { 'com.openfaas.concurrency': '3' }, envVars: { write_debug: 'true' } });
    expect(deployment.envVars).toEqual({ write_debug: 'true', max_inflight: '3' });
    expect(parseDeployment({ ...valid, labels: { 'com.openfaas.concurrency': '3' }, envVars: { max_inflight: '3' } }).envVars).toEqual({ max_inflight: '3' });
    expect(parseDeployment(valid).envVars).toBeUndefined();
  });

  it('refuses a namespace that is no DNS label', () => {
    expect(problem({ ...valid, namespace: 'Team A' })).toMatch(/^invalid request: namespace: /);
  });

  it.each([
    ['has a dot', 'my.fn'],
    ['starts with a dash', '-fn'],
    ['ends with an underscore', 'fn_'],
    ['has a slash', 'a/b'],
    ['has a space', 'a b'],
    ['is empty', ''],
    ['is longer than a DNS label', 'a'.repeat(64)],
    ['has upper case (DNS would not tell it from lower case)', 'A1'],
  ])('refuses a service name that %s, naming the field', (_why, service) => {
    expect(problem({ ...valid, service })).toMatch(/^invalid request: service: /);
  });

  it.each(['func_echoit', 'a', 'echo-it2', 'a1', 'a'.repeat(63)])('accepts the name %s', (service) => {
    expect(parseDeployment({ ...valid, service }).service).toBe(service);
  });

  it.each([
    'alpine',
    'alpine:3.19',
    'library/alpine',
    'swarmfaas/echoit:0.1.0',
    'registry.example.com:5000/team/fn:v1.2-rc',
    'localhost/fn',
    'localhost:5000/fn',
    `alpine@sha256:${'a'.repeat(64)}`,
    `ghcr.io/o/fn:1@sha256:${'b'.repeat(64)}`,
  ])('accepts the image reference %s', (image) => {
    expect(isImageReference(image)).toBe(true);
  });

  it.each(['', 'UPPER/case', 'Alpine', 'fn:', ':tag', 'a//b', 'a b', 'fn:-tag', 'http://registry/fn', 'fn@sha256:abc'])(
    'refuses the image reference "%s"',
    (image) => {
      expect(isImageReference(image)).toBe(false);
      expect(problem({ ...valid, image })).toMatch(/image: /);
    },
  );

  it('names every bad field', () => {
    const message = problem({ service: 'ok', image: 'ok', network: 'bad network!', envVars: { 'A=B': 'x' }, constraints: ['nonsense'], limits: { memory: 'lots' } });
    expect(message).toMatch(/network: /);
    expect(message).toMatch(/envVars: /);
    expect(message).toMatch(/constraints\.0: /);
    expect(message).toMatch(/limits\.memory: /);
  });

  it('refuses a body that is not an object, and missing fields', () => {
    expect(problem('just text')).toMatch(/body: /);
    expect(problem({ image: 'alpine' })).toMatch(/service: /);
    expect(problem({ service: 'fn' })).toMatch(/image: /);
    expect(problem({ ...valid, labels: { a: 1 } })).toMatch(/labels\.a: /);
    expect(problem({ ...valid, registryAuth: 'not base64!' })).toMatch(/registryAuth: /);
  });
});

describe('helpers', () => {
  it('decodes registryAuth as base64 of user:password', () => {
    expect(decodeRegistryAuth(Buffer.from('me:se:cret').toString('base64'))).toEqual({ username: 'me', password: 'se:cret' });
    expect(decodeRegistryAuth(Buffer.from('nocolon').toString('base64'))).toBeUndefined();
  });

  it('reads memory in Docker units (binary) and Kubernetes quantities', () => {
    expect(memoryBytes('128m')).toBe(128 * 1024 * 1024);
    expect(memoryBytes('1g')).toBe(1024 ** 3);
    expect(memoryBytes('512k')).toBe(512 * 1024);
    expect(memoryBytes('1048576')).toBe(1048576);
    expect(memoryBytes('128Mi')).toBe(128 * 1024 * 1024);
    expect(memoryBytes('1G')).toBe(1e9);
    expect(memoryBytes('512M')).toBe(512e6);
    expect(memoryBytes('lots')).toBeUndefined();
  });

  it('reads CPU as decimals or millicores', () => {
    expect(nanoCpus('100m')).toBe(1e8);
    expect(nanoCpus('0.5')).toBe(5e8);
    expect(nanoCpus('2')).toBe(2e9);
    expect(nanoCpus('x')).toBeUndefined();
  });

  it('writes engine amounts back as Kubernetes quantities', () => {
    expect(formatMemory(128 * 1024 ** 2)).toBe('128Mi');
    expect(formatMemory(1024 ** 3)).toBe('1Gi');
    expect(formatMemory(1000)).toBe('1000');
    expect(formatCpu(1e8)).toBe('100m');
    expect(formatCpu(2e9)).toBe('2');
  });
});
