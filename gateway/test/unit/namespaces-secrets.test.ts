// /system/namespaces, /system/namespace/{name} and /system/secrets against the
// fake provider: shapes, status codes, and bad input refused naming the field.
import { afterEach, describe, expect, it } from 'vitest';
import { status } from './support/fake-provider.js';
import { startGateway, type TestGateway } from './support/test-gateway.js';

let gw: TestGateway;
afterEach(async () => gw?.close());

const send = (method: string, path: string, body?: unknown) =>
  fetch(`${gw.url}${path}`, { method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });

describe('namespaces', () => {
  it('lists names, creates (201), reads, changes (202) and deletes (202) one; refuses what is wrong', async () => {
    gw = await startGateway();
    expect(await (await send('GET', '/system/namespaces')).json()).toEqual(['openfaas-fn']);
    expect((await send('POST', '/system/namespace/team-a', { labels: { owner: 'a' } })).status).toBe(201);
    expect((await send('POST', '/system/namespace', { name: 'team-b' })).status).toBe(201);
    expect((await send('POST', '/system/namespace/team-a', {})).status).toBe(409);
    expect(await (await send('GET', '/system/namespaces')).json()).toEqual(['openfaas-fn', 'team-a', 'team-b']);
    expect(await (await send('GET', '/system/namespace/team-a')).json()).toEqual({ name: 'team-a', labels: { owner: 'a' }, annotations: {} });
    expect((await send('PUT', '/system/namespace/team-a', { annotations: { note: 'x' } })).status).toBe(202);
    expect(await (await send('GET', '/system/namespace/team-a')).json()).toMatchObject({ annotations: { note: 'x' } });
    expect((await send('GET', '/system/namespace/nope')).status).toBe(404);
    expect((await send('PUT', '/system/namespace/nope', {})).status).toBe(404);
    const bad = await send('POST', '/system/namespace/Team_A', {});
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/namespace: "Team_A" is not a namespace name/);
    expect((await send('POST', '/system/namespace/team-c', { name: 'other' })).status).toBe(400);
    expect((await send('POST', '/system/namespace/team-c', { labels: { a: 1 } })).status).toBe(400);
    expect((await send('DELETE', '/system/namespace/team-b')).status).toBe(202);
    expect((await send('DELETE', '/system/namespace/openfaas-fn')).status).toBe(409);
  });

  it('refuses to delete a namespace that holds functions, naming them; deploys into it and lists it with ?namespace=', async () => {
    gw = await startGateway();
    await send('POST', '/system/namespace/team-a', {});
    expect((await send('POST', '/system/functions', { service: 'echo', image: 'e/echo:1', namespace: 'team-a' })).status).toBe(202);
    expect((await send('POST', '/system/functions', { service: 'echo', image: 'e/echo:1', namespace: 'nowhere' })).status).toBe(400);
    const del = await send('DELETE', '/system/namespace/team-a');
    expect(del.status).toBe(409);
    expect(await del.text()).toMatch(/still holds functions: echo/);
    const listed = (await (await send('GET', '/system/functions?namespace=team-a')).json()) as Array<{ name: string; namespace: string }>;
    expect(listed.map((f) => `${f.name}.${f.namespace}`)).toEqual(['echo.team-a']);
    expect(await (await send('GET', '/system/functions')).json()).toEqual([]);
    expect((await send('GET', '/system/function/echo.team-a')).status).toBe(200);
    expect((await send('GET', '/system/function/echo?namespace=team-a')).status).toBe(200);
    expect((await send('GET', '/system/function/echo')).status).toBe(404);
  });
});

describe('secrets', () => {
  it('creates (201) from value or rawValue, lists names only, changes (202) and deletes (202)', async () => {
    gw = await startGateway();
    expect((await send('POST', '/system/secrets', { name: 'api-key', value: 's3cret' })).status).toBe(201);
    expect((await send('POST', '/system/secrets', { name: 'cert', rawValue: Buffer.from('bytes').toString('base64'), namespace: 'openfaas-fn' })).status).toBe(201);
    expect((await send('POST', '/system/secrets', { name: 'api-key', value: 'again' })).status).toBe(409);
    const list = await (await send('GET', '/system/secrets')).text();
    expect(JSON.parse(list)).toEqual([
      { name: 'api-key', namespace: 'openfaas-fn' },
      { name: 'cert', namespace: 'openfaas-fn' },
    ]);
    expect(list).not.toContain('s3cret');
    expect(gw.provider.secrets.get('openfaas-fn/cert')?.toString()).toBe('bytes');
    expect((await send('PUT', '/system/secrets', { name: 'api-key', value: 'new' })).status).toBe(202);
    expect(gw.provider.secrets.get('openfaas-fn/api-key')?.toString()).toBe('new');
    expect((await send('PUT', '/system/secrets', { name: 'nope', value: 'x' })).status).toBe(404);
    expect((await send('DELETE', '/system/secrets', { name: 'api-key' })).status).toBe(202);
    expect((await send('DELETE', '/system/secrets', { name: 'api-key' })).status).toBe(404);
    expect((await send('GET', '/system/secrets?namespace=nowhere')).status).toBe(404);
  });

  it.each([
    [{ value: 'x' }, /name: /],
    [{ name: 'a b', value: 'x' }, /name: /],
    [{ name: 'k' }, /value: expected value or rawValue/],
    [{ name: 'k', value: 'x', rawValue: 'eA==' }, /rawValue: give value or rawValue, not both/],
    [{ name: 'k', rawValue: 'not base64!' }, /rawValue: expected base64/],
    [{ name: 'k', value: 'x', extra: 1 }, /unknown field extra/],
    [{ name: 'k', value: 'x'.repeat(600 * 1024) }, /at most 500 KB/],
  ])('refuses %j with 400 naming the field, creating nothing', async (body, message) => {
    gw = await startGateway({ env: { SYSTEM_BODY_LIMIT: '2mb' } });
    const res = await send('POST', '/system/secrets', body);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(message);
    expect(gw.provider.secrets.size).toBe(0);
  });

  it('does not invent functions: a status still shows its secrets by name', async () => {
    gw = await startGateway();
    gw.provider.functions.set('fn', status('fn', { secrets: ['api-key'] }));
    expect(await (await send('GET', '/system/function/fn')).json()).toMatchObject({ secrets: ['api-key'] });
  });
});
