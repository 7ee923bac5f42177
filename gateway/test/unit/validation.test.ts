import { describe, expect, it } from 'vitest';
import { decodeRegistryAuth, isImageReference, parseDeployment, parseMemory, ValidationError } from '../../src/validation.js';

const valid = { service: 'func_echoit', image: 'swarmfaas/echoit:0.1.0' };

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
    expect(parseDeployment(valid)).toEqual(valid);
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
      namespace: 'ignored',
    });
    expect(full.limits).toEqual({ memory: '128m', cpu: '0.5' });
    expect(full).not.toHaveProperty('namespace');
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

  it('reads memory sizes with Docker units', () => {
    expect(parseMemory('128m')).toBe(128 * 1024 * 1024);
    expect(parseMemory('1g')).toBe(1024 ** 3);
    expect(parseMemory('512k')).toBe(512 * 1024);
    expect(parseMemory('1048576')).toBe(1048576);
  });
});
