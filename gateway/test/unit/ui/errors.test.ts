// The deploy form puts each of the gateway's validation errors next to the field it names.
import { describe, expect, it } from 'vitest';
import { fieldOfPath, mapDeployError } from '../../../ui/js/errors.js';

describe('fieldOfPath', () => {
  it.each([
    ['service', 'service'],
    ['name', 'service'],
    ['body.image', 'image'],
    ['envVars.FOO', 'envVars'],
    ['labels.com.openfaas.scale.min', 'scaleMin'],
    ['labels.com.faas.max_replicas', 'scaleMax'],
    ['labels.com.openfaas.scale.zero', 'scaleZero'],
    ['labels.team', 'labels'],
    ['annotations.topic', 'labels'],
    ['requests.memory', 'limits'],
    ['secrets[0]', 'secrets'],
    ['nonsense', undefined],
  ])('%s belongs to %s', (path, field) => {
    expect(fieldOfPath(path)).toBe(field);
  });
});

describe('mapDeployError', () => {
  it("splits the gateway's text into the fields it names", () => {
    const mapped = mapDeployError({
      status: 400,
      message: 'invalid request: service: expected a lower-case DNS label; labels.com.openfaas.scale.max: expected a whole number; image: required',
    });
    expect(mapped.fields).toEqual({
      service: 'Expected a lower-case DNS label',
      scaleMax: 'labels.com.openfaas.scale.max: expected a whole number',
      image: 'Required',
    });
    expect(mapped.general).toEqual([]);
  });

  it('understands JSON {field, message} and {errors: [...]}', () => {
    expect(mapDeployError({ status: 400, message: 'x', details: { field: 'envProcess', message: 'too long' } })).toEqual({ fields: { envProcess: 'too long' }, general: [] });
    expect(mapDeployError({ status: 400, message: 'x', details: { errors: [{ path: 'secrets', message: 'unknown secret' }, { message: 'something else' }] } })).toEqual({
      fields: { secrets: 'unknown secret' },
      general: ['something else'],
    });
  });

  it('puts a 409 under the name, and what names no field in the general list', () => {
    expect(mapDeployError({ status: 409, message: 'a service named echo already exists' }).fields.service).toBe('a service named echo already exists');
    expect(mapDeployError({ status: 400, message: 'the engine refused it' })).toEqual({ fields: {}, general: ['the engine refused it'] });
  });

  it('finds a field mentioned in the text when no path leads it', () => {
    expect(mapDeployError({ status: 400, message: 'the fprocess is too long' }).fields).toEqual({ envProcess: 'the fprocess is too long' });
  });
});
